"""Sweeps: success rate against temperature, lr, arms and horizon, written to a results folder.

The grid is the product of the axes. Every setting trains ``n_bandits`` bandits on the random
streams 0..n_bandits-1, exactly the bandits of ``run_batch(n_bandits, seed=seed, ...)``, so the
settings share their random numbers (common random numbers). A sweep is a batch axis (PureJaxRL):
settings that differ only in per-bandit quantities (temperature, lr, arms of one K) run as one
batch with per-bandit tensors, cut into chunks of whole settings; other settings run in turn.

With plain SGD from zero weights, lr and T enter only through lr / T²: in ``z = w / T`` the step
is ``z <- z + (lr / T²) r (onehot(arm) - p)``. So (lr, T) and (k² lr, k T) give the same
trajectories up to rounding, and a temperature sweep at fixed lr is a sweep of the effective step
size lr / T² (column ``lr_over_T2``).

The folder: ``spec.json`` (what the sweep is: axes, n_bandits, seed, dtype), ``results.csv`` (one
row per setting), ``curves.csv`` (one row per setting and episode), ``meta.json`` (versions,
device, backend, timings, command lines: one record per call) and PNG figures. Rows are appended
and synced after every chunk of settings; run again, an interrupted sweep continues where it
stopped and ends with the same bytes in every file but ``meta.json``. A folder holding another
sweep is refused, whatever the device or backend of either.
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import io
import itertools
import json
import numbers
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from . import engines
from .checks import check_arm_vector as _check_arm_vector
from .checks import check_count, check_per_bandit, check_seed
from .engines import describe_device, resolve_device
from .options import Setup, check_numerics, make_setup
from .problem import SEED_ARMS, best_arm
from .run import simulate_chunks
from .state import Outcome
from .stats import wilson_interval


def check_arms(arms, n):
    return _check_arm_vector("arms", arms, n)


def check_positive(name, value, n, item="bandit"):
    return check_per_bandit(name, value, n, low=0.0, low_open=True, item=item)


FORMAT = "batched_bandit.sweep/1"
SPEC, RESULTS, CURVES, META = "spec.json", "results.csv", "curves.csv", "meta.json"
LOCK_THRESHOLD = 0.99  # a policy is "locked" when its largest probability exceeds this
# bandits per chunk of settings (at least one whole setting): rows are saved after every chunk
DEFAULT_CHUNK_BANDITS = {"cpu": 2**18, "cuda": 2**20}

# results.csv, one row per setting; the first seven columns are the setting
RESULT_COLUMNS = {
    "setting": "index of the setting in the grid (and row order)",
    "temperature": "softmax temperature T",
    "lr": "SGD learning rate",
    "arms": "arm values, comma-separated; the lowest is best",
    "n_arms": "K",
    "n_episodes": "episodes",
    "steps_per_episode": "steps per episode",
    "lr_over_T2": "lr / T², the effective step size",
    "n": "bandits",
    "successes": "bandits whose last episode's top arm is the best arm (the seed's verdict)",
    "success_rate": "successes / n",
    "ci_low": "95% Wilson interval of the success rate, low end",
    "ci_high": "95% Wilson interval of the success rate, high end",
    "mean_final_p_best": "mean over bandits of P(best arm) after the last step",
    "sd_final_p_best": "standard deviation over bandits of P(best arm) after the last step",
    "locked_wrong": "fraction of bandits whose policy has max prob > 0.99 on a wrong arm",
    "mean_reward_last_episode": "mean reward per step in the last episode, over bandits (-1 .. 1)",
}
# curves.csv, long format: one row per setting and episode
CURVE_COLUMNS = {
    "setting": "index of the setting, as in results.csv",
    "temperature": "softmax temperature T",
    "lr": "SGD learning rate",
    "arms": "arm values, comma-separated",
    "n_episodes": "episodes",
    "steps_per_episode": "steps per episode",
    "episode": "episode, 1-based",
    "step": "steps done at the episode's end",
    "successes": "bandits whose top arm in this episode is the best arm",
    "success_rate": "successes / n",
    "mean_p_best": "mean over bandits of P(best arm) at the episode's end",
}
_SETTING_COLUMNS = ("setting", "temperature", "lr", "arms", "n_episodes", "steps_per_episode")


@dataclass(frozen=True)
class Setting:
    """One point of the grid: everything a bandit of the sweep is trained with."""

    temperature: float
    lr: float
    arms: tuple[float, ...]  # (K,)
    n_episodes: int
    steps_per_episode: int

    @property
    def lr_over_t2(self) -> float:
        return self.lr / self.temperature**2

    @property
    def batch_key(self) -> tuple[int, int, int]:
        """Settings with the same key can share a batch: (n_episodes, steps_per_episode, K)."""
        return self.n_episodes, self.steps_per_episode, len(self.arms)


@dataclass(frozen=True)
class SweepResult:
    """What ``sweep`` returns: the folder's tables, including rows written by earlier calls."""

    out: Path
    settings: list[Setting]
    rows: list[dict]  # results.csv, one dict per setting, numbers parsed
    curves: list[dict]  # curves.csv, one dict per (setting, episode)
    n_computed: int  # settings simulated by this call; the others were already in the folder
    figures: list[Path]
    figures_skipped: str | None  # why no figures were drawn, or None
    wall_time_s: float
    engine_time_s: float  # time inside the engines (the rest is the sweep layer and figures)

    def summary(self) -> str:
        """A table: per problem (arms, horizon), one line per setting with the headline numbers."""
        lines, problem = [], None
        for row in self.rows:
            if (row["arms"], row["n_episodes"], row["steps_per_episode"]) != problem:
                problem = row["arms"], row["n_episodes"], row["steps_per_episode"]
                arms = ", ".join(f"{a:g}" for a in row["arms"])
                lines += [
                    f"arms ({arms}), {row['n_episodes']} episodes x {row['steps_per_episode']} steps, "
                    f"{row['n']:,} bandits per setting",
                    f"  {'T':>9} {'lr':>9} {'lr/T^2':>9}  {'success':>7}  {'95% CI':^15}  "
                    f"{'P(best)':>7}  {'locked wrong':>12}",
                ]
            lines.append(
                f"  {row['temperature']:>9.4g} {row['lr']:>9.4g} {row['lr_over_T2']:>9.3g}  "
                f"{row['success_rate']:>7.4f}  {row['ci_low']:.4f}..{row['ci_high']:.4f}  "
                f"{row['mean_final_p_best']:>7.4f}  {row['locked_wrong']:>12.4f}"
            )
        lines.append(f"{len(self.rows)} settings; results in {self.out}")
        return "\n".join(lines)


def grid(
    *,
    temperature: float | Sequence[float] = 10.0,
    lr: float | Sequence[float] = 0.01,
    arms: Sequence[float] | Sequence[Sequence[float]] | torch.Tensor = SEED_ARMS,
    n_episodes: int | Sequence[int] = 50,
    steps_per_episode: int | Sequence[int] = 1000,
) -> list[Setting]:
    """The checked product of the axes; settings that can share a batch are adjacent.

    Each axis is a value or a sequence of values; numeric axes are sorted and may not repeat.
    arms: one vector (K,), or several (a sequence of vectors or an (S, K) tensor; K may differ).
    Order: n_episodes, steps_per_episode, arms, lr, temperature (innermost), then grouped by
    ``Setting.batch_key`` in order of first appearance.
    """
    temperatures = _float_axis("temperature", temperature)
    lrs = _float_axis("lr", lr)
    arm_vectors = _arms_axis(arms)
    episodes = _count_axis("n_episodes", n_episodes)
    steps = _count_axis("steps_per_episode", steps_per_episode)
    settings = [
        Setting(t, rate, a, e, s)
        for e, s, a, rate, t in itertools.product(episodes, steps, arm_vectors, lrs, temperatures)
    ]
    first_seen = {key: i for i, key in enumerate(dict.fromkeys(s.batch_key for s in settings))}
    return sorted(settings, key=lambda s: first_seen[s.batch_key])


def sweep(
    out: str | os.PathLike,
    *,
    temperature: float | Sequence[float] = 10.0,
    lr: float | Sequence[float] = 0.01,
    arms: Sequence[float] | Sequence[Sequence[float]] | torch.Tensor = SEED_ARMS,
    n_episodes: int | Sequence[int] = 50,
    steps_per_episode: int | Sequence[int] = 1000,
    n_bandits: int = 10000,
    seed: int = 0,
    device: str | torch.device = "auto",
    backend: str = "auto",
    dtype: torch.dtype = torch.float32,
    chunk_bandits: int | None = None,
    figures: bool = True,
    progress: Callable[[int, int, int, int], None] | None = None,
    command: Sequence[str] | None = None,
) -> SweepResult:
    """Run the grid of ``grid(...)``, ``n_bandits`` bandits per setting, into the folder ``out``.

    A folder holding part of the same sweep is continued; one holding another sweep (or other
    files) is refused with ValueError. ``chunk_bandits``: bandits per chunk of settings, rows are
    saved after each (default 2**18 on CPU, 2**20 on CUDA; at least one setting); the files do not
    depend on it, nor on device or backend beyond rounding. ``progress(steps_done, steps_total,
    settings_done, n_settings)`` counts bandit-steps of this call. ``command`` is recorded in
    meta.json (default ``sys.argv``). Figures need matplotlib; without it they are skipped
    with a warning.
    """
    start = time.perf_counter()
    settings = grid(
        temperature=temperature, lr=lr, arms=arms, n_episodes=n_episodes, steps_per_episode=steps_per_episode
    )
    check_count("n_bandits", n_bandits)
    check_seed(seed)
    torch_device = resolve_device(device)
    backend_name = engines.resolve_backend(backend, torch_device, dtype, max(len(s.arms) for s in settings))
    for s in settings:
        setup = make_setup(1, torch.arange(1), temperature=s.temperature, lr=s.lr, arms=s.arms)
        check_numerics(setup, s.n_episodes, s.steps_per_episode, dtype)
    if chunk_bandits is not None:
        check_count("chunk_bandits", chunk_bandits)
    if not isinstance(figures, bool):
        raise ValueError(f"figures must be True or False, got {figures!r}")
    folder = Path(out)
    spec = _spec(settings, n_bandits, seed, dtype)
    n_done = _check_folder(folder, spec, settings)  # refuses a foreign folder before any work

    earlier_runs = _earlier_runs(folder)
    run_record = {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": list(sys.argv if command is None else command),
        "device": describe_device(torch_device),
        "cpu": _cpu_name(),
        "cpu_threads": torch.get_num_threads(),
        "backend": backend_name,
        "chunk_bandits": chunk_bandits or DEFAULT_CHUNK_BANDITS[torch_device.type],
        "settings_already_done": n_done,
        "settings_computed": 0,
        "bandit_steps": 0,
    }
    if 0 < n_done < len(settings):
        _warn_if_other_engines(folder, earlier_runs, run_record)
    _open_folder(folder, spec, settings, n_done)
    _write_meta(folder, spec, settings, n_done, earlier_runs, run_record, start, 0.0)  # a killed call leaves a record

    todo = settings[n_done:]
    steps_total = n_bandits * sum(s.n_episodes * s.steps_per_episode for s in todo)
    steps_done, engine_s = 0, 0.0
    for chunk in _chunks(todo, n_bandits, max(n_bandits, run_record["chunk_bandits"])):

        def on_steps(done: int, _total: int, base: int = steps_done, settings_done: int = n_done) -> None:
            if base + done < steps_total:  # the chunk's end is reported below, with its settings
                progress(base + done, steps_total, settings_done, len(settings))

        engine_s += _run_chunk(
            folder,
            chunk,
            n_done,
            n_bandits,
            seed=seed,
            device=torch_device,
            backend=backend_name,
            dtype=dtype,
            progress=None if progress is None else on_steps,
        )
        n_done += len(chunk)
        steps_done += n_bandits * len(chunk) * chunk[0].n_episodes * chunk[0].steps_per_episode
        run_record.update(settings_computed=run_record["settings_computed"] + len(chunk), bandit_steps=steps_done)
        _write_meta(folder, spec, settings, n_done, earlier_runs, run_record, start, engine_s)
        if progress is not None:
            progress(steps_done, steps_total, n_done, len(settings))

    figure_paths, skipped = _figures(folder, run_record) if figures else ([], "not asked for")
    run_record["figures"] = [p.name for p in figure_paths] if figure_paths else f"skipped: {skipped}"
    wall = _write_meta(folder, spec, settings, n_done, earlier_runs, run_record, start, engine_s)
    return SweepResult(
        out=folder,
        settings=settings,
        rows=read_results(folder),
        curves=read_curves(folder),
        n_computed=run_record["settings_computed"],
        figures=figure_paths,
        figures_skipped=skipped,
        wall_time_s=wall,
        engine_time_s=engine_s,
    )


def _run_chunk(folder: Path, chunk: list[Setting], first: int, n_bandits: int, **engine) -> float:
    """Simulate a chunk of settings (``first`` is the index of its first) and append its rows;
    returns the seconds spent in the engine."""
    tick = time.perf_counter()
    outcome = simulate_settings(chunk, n_bandits, **engine)
    engine_s = time.perf_counter() - tick
    result_lines, curve_lines = [], []
    for i, setting in enumerate(chunk):
        rows = slice(i * n_bandits, (i + 1) * n_bandits)
        row, curve = reduce_setting(
            setting, outcome.weights[rows], outcome.episode_rewards[rows], outcome.episode_p_best[rows]
        )
        result_lines.append(_csv_line(RESULT_COLUMNS, {"setting": first + i, **row}))
        curve_lines += [_csv_line(CURVE_COLUMNS, {"setting": first + i, **c}) for c in curve]
    _append(folder / CURVES, curve_lines)  # curves first: a results row marks its setting done
    _append(folder / RESULTS, result_lines)
    return engine_s


def _figures(folder: Path, run_record: dict) -> tuple[list[Path], str | None]:
    """Draw the figures if matplotlib is here, else warn; returns (paths, why skipped or None)."""
    from . import figures

    skipped = figures.unavailable_reason()
    if skipped is not None:
        warnings.warn(f"figures skipped: {skipped}", stacklevel=3)
        return [], skipped
    tick = time.perf_counter()
    paths = figures.plot_sweep(folder)
    run_record["figures_s"] = round(time.perf_counter() - tick, 6)
    return paths, None


def _warn_if_other_engines(folder: Path, earlier_runs: list[dict], run_record: dict) -> None:
    """Rows of another backend or device agree up to rounding only: say so when mixing them."""
    here = (run_record["backend"], run_record["device"])
    before = sorted({(r.get("backend"), r.get("device")) for r in earlier_runs} - {here}, key=str)
    if before:
        warnings.warn(
            f"continuing {str(folder)!r} with backend {here[0]!r} on {here[1]}, but earlier rows came from "
            f"{', '.join(f'{b!r} on {d}' for b, d in before)}: the files will agree with an uninterrupted run "
            "up to float rounding, not byte for byte",
            stacklevel=3,
        )


def simulate_settings(
    settings: Sequence[Setting],
    n_bandits: int,
    *,
    seed: int,
    device: torch.device,
    backend: str,
    dtype: torch.dtype,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Settings of one ``batch_key`` as one batch; bandit j of every setting is stream j.

    Returns the CPU Outcome, setting-major: rows i * n_bandits .. (i + 1) * n_bandits - 1 are
    setting i. weights (S n, K), episode_rewards (S n, E, K) int32, episode_p_best (S n, E).
    """
    if len({s.batch_key for s in settings}) != 1:
        raise ValueError("simulate_settings needs settings with one batch_key (episodes, steps, K)")
    setup = Setup.cat(
        [
            make_setup(n_bandits, torch.arange(n_bandits), temperature=s.temperature, lr=s.lr, arms=s.arms)
            for s in settings
        ]
    )
    total = setup.n_bandits * settings[0].n_episodes * settings[0].steps_per_episode
    done = 0

    def on_progress(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    out = simulate_chunks(
        setup,
        backend=backend,
        device=device,
        seed=seed,
        n_episodes=settings[0].n_episodes,
        steps_per_episode=settings[0].steps_per_episode,
        record_episodes=True,
        chunk_size=chunk_size or engines.default_chunk_size(backend, device),
        dtype=dtype,
        on_progress=None if progress is None else on_progress,
    )
    return Outcome(out["weights"], out["episode_rewards"], out["episode_p_best"], out["episode_regret"])


def reduce_setting(
    setting: Setting, weights: torch.Tensor, episode_rewards: torch.Tensor, episode_p_best: torch.Tensor
) -> tuple[dict, list[dict]]:
    """A setting's results row and curve rows from its bandits' outcome.

    weights (n, K), episode_rewards (n, E, K) int32, episode_p_best (n, E) float32. Means are
    taken in float64 over contiguous copies, so a row does not depend on the chunk it came from.
    """
    n, n_episodes, n_arms = episode_rewards.shape
    best = int(best_arm("threshold", torch.tensor(setting.arms, dtype=torch.float64)))
    rewards = episode_rewards.numpy()
    successes = (rewards.argmax(axis=2) == best).sum(axis=0).tolist()  # (E,); argmax: first on ties
    p_best = np.ascontiguousarray(episode_p_best.numpy().astype(np.float64).T)  # (E, n)
    mean_p_best = p_best.mean(axis=1)
    z = weights.numpy().astype(np.float64) / setting.temperature  # final policy, as RunResult.final_probs
    probs = np.exp(z - z.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    locked_wrong = int(((probs.max(axis=1) > LOCK_THRESHOLD) & (probs.argmax(axis=1) != best)).sum())
    last_reward = int(rewards[:, -1].sum(dtype=np.int64))
    low, high = wilson_interval(successes[-1], n)
    common = {
        "temperature": setting.temperature,
        "lr": setting.lr,
        "arms": setting.arms,
        "n_episodes": setting.n_episodes,
        "steps_per_episode": setting.steps_per_episode,
    }
    row = {
        **common,
        "n_arms": n_arms,
        "lr_over_T2": setting.lr_over_t2,
        "n": n,
        "successes": successes[-1],
        "success_rate": successes[-1] / n,
        "ci_low": low,
        "ci_high": high,
        "mean_final_p_best": float(mean_p_best[-1]),
        "sd_final_p_best": float(p_best[-1].std()),
        "locked_wrong": locked_wrong / n,
        "mean_reward_last_episode": last_reward / (n * setting.steps_per_episode),
    }
    curve = [
        {
            **common,
            "episode": e + 1,
            "step": (e + 1) * setting.steps_per_episode,
            "successes": successes[e],
            "success_rate": successes[e] / n,
            "mean_p_best": float(mean_p_best[e]),
        }
        for e in range(n_episodes)
    ]
    return row, curve


def read_results(out: str | os.PathLike) -> list[dict]:
    """results.csv of a sweep folder as dicts, numbers parsed, arms as a tuple."""
    return _read_table(Path(out) / RESULTS)


def read_curves(out: str | os.PathLike) -> list[dict]:
    """curves.csv of a sweep folder as dicts, numbers parsed, arms as a tuple."""
    return _read_table(Path(out) / CURVES)


# --- axes ---------------------------------------------------------------------------------------


def _axis_values(name: str, value) -> list:
    """A value or a sequence of values -> a non-empty list."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a number or a sequence of numbers, got {value!r}")
    if isinstance(value, (torch.Tensor, np.ndarray)):
        values = value.tolist() if value.ndim > 0 else [value.item()]
    elif isinstance(value, (Sequence, set, frozenset, range)):
        values = list(value)
    else:
        values = [value]
    if not values:
        raise ValueError(f"{name}: the axis is empty, give at least one value")
    return values


def _no_repeats(name: str, values: list) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f"{name}: the value {v!r} is given twice; each axis value must be distinct")
        seen.add(v)


def _float_axis(name: str, value) -> list[float]:
    values = _axis_values(name, value)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ValueError(f"{name} values must be numbers, got {v!r}")
    as_tensor = torch.tensor([float(v) for v in values], dtype=torch.float64)
    checked = check_positive(name, as_tensor, len(values), item="axis entry")
    values = sorted(checked.tolist())
    _no_repeats(name, values)
    return values


def _count_axis(name: str, value) -> list[int]:
    values = _axis_values(name, value)
    for v in values:
        check_count(name, v)
    values = sorted(int(v) for v in values)
    _no_repeats(name, values)
    return values


def _arms_axis(arms) -> list[tuple[float, ...]]:
    """One arm vector (K,) or several -> a list of K-tuples, checked by run.check_arms."""
    if isinstance(arms, (torch.Tensor, np.ndarray)):
        vectors = list(arms) if arms.ndim == 2 else [arms]
    elif (
        isinstance(arms, Sequence)
        and not isinstance(arms, str)
        and len(arms) > 0
        and all(isinstance(a, (Sequence, torch.Tensor, np.ndarray)) and not isinstance(a, str) for a in arms)
    ):
        vectors = list(arms)
    else:
        vectors = [arms]
    if not vectors:
        raise ValueError("arms: the axis is empty, give at least one arm vector")
    out = []
    for vector in vectors:
        if isinstance(vector, (torch.Tensor, np.ndarray)) and vector.ndim != 1:
            raise ValueError(f"arms: each arm vector must be one-dimensional (K,), got shape {tuple(vector.shape)}")
        out.append(tuple(check_arms(vector, 1)[0].tolist()))
    _no_repeats("arms", out)
    return out


# --- the folder ---------------------------------------------------------------------------------


def _spec(settings: list[Setting], n_bandits: int, seed: int, dtype: torch.dtype) -> dict:
    """What the sweep is: the axes and everything else that changes its results."""
    return {
        "format": FORMAT,
        "temperature": sorted({s.temperature for s in settings}),
        "lr": sorted({s.lr for s in settings}),
        "arms": [list(a) for a in dict.fromkeys(s.arms for s in settings)],
        "n_episodes": sorted({s.n_episodes for s in settings}),
        "steps_per_episode": sorted({s.steps_per_episode for s in settings}),
        "n_bandits": n_bandits,
        "seed": int(seed),
        "dtype": str(dtype).removeprefix("torch."),
    }


def _check_folder(folder: Path, spec: dict, settings: list[Setting]) -> int:
    """How many settings the folder already holds; ValueError if it holds something else. Writes nothing."""
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"results folder {str(folder)!r} is a file, not a folder")
    if not folder.exists():
        return 0
    spec_path = folder / SPEC
    if not spec_path.exists():
        if any(p.name != f".{SPEC}.tmp" for p in folder.iterdir()):
            raise ValueError(
                f"results folder {str(folder)!r} is not empty and holds no sweep ({SPEC} is missing); "
                "use a new or empty folder"
            )
        return 0
    try:
        theirs = json.loads(spec_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"results folder {str(folder)!r}: cannot read {SPEC} ({err})") from None
    if theirs != spec:
        raise ValueError(
            f"results folder {str(folder)!r} holds a different sweep ({_differences(theirs, spec)}); "
            "use another folder, or delete this one to start over"
        )
    n_results = _complete_rows(folder / RESULTS, RESULT_COLUMNS, settings)
    n_curves = _complete_rows(folder / CURVES, CURVE_COLUMNS, settings)
    return min(n_results, n_curves)


def _complete_rows(path: Path, columns: dict, settings: list[Setting]) -> int:
    """How many settings have all their rows, in order, in the file (a partial last line is ignored)."""
    lines = _lines(path, columns)
    per_setting = path.name == CURVES  # curves: one row per episode; results: one row
    keys = [c for c in (*_SETTING_COLUMNS, "episode") if c in columns]
    n_complete, line = 0, 0
    for index, setting in enumerate(settings):
        n_rows = setting.n_episodes if per_setting else 1
        if line + n_rows > len(lines):
            break
        for episode in range(n_rows):
            found = dict(zip(columns, next(csv.reader([lines[line + episode]]))))
            expected = {**_setting_fields(index, setting), "episode": episode + 1}
            if any(found.get(k) != _format(k, expected[k]) for k in keys):
                raise ValueError(
                    f"results folder {str(path.parent)!r}: {path.name} line {line + episode + 2} is not the row "
                    "expected for its setting; the file was changed by hand or by another version"
                )
        line += n_rows
        n_complete += 1
    return n_complete


def _setting_fields(index: int, setting: Setting) -> dict:
    """The columns that say which setting a row belongs to."""
    return {
        "setting": index,
        "temperature": setting.temperature,
        "lr": setting.lr,
        "arms": setting.arms,
        "n_episodes": setting.n_episodes,
        "steps_per_episode": setting.steps_per_episode,
    }


def _lines(path: Path, columns: dict) -> list[str]:
    """Complete data lines of a CSV written by this module (no header, no partial last line)."""
    header = _header(columns)
    if not path.exists():
        return []
    text = path.read_text()
    if not text.startswith(header):
        if header.startswith(text):  # interrupted while writing the header
            return []
        raise ValueError(f"results folder {str(path.parent)!r}: {path.name} does not start with the expected header")
    body = text[len(header) :]
    return body.split("\n")[:-1]  # the piece after the last newline is partial (or empty)


def _open_folder(folder: Path, spec: dict, settings: list[Setting], n_done: int) -> None:
    """Create the folder's files, or cut them back to the first ``n_done`` complete settings."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (SPEC, META):
        _tmp(folder / name).unlink(missing_ok=True)  # left by a kill during an atomic write
    for path in folder.glob(".*.png.tmp"):
        path.unlink()
    if not (folder / SPEC).exists():
        _write_atomic(folder / SPEC, json.dumps(spec, indent=2) + "\n")
    n_curve_rows = sum(s.n_episodes for s in settings[:n_done])
    for name, columns, keep in ((RESULTS, RESULT_COLUMNS, n_done), (CURVES, CURVE_COLUMNS, n_curve_rows)):
        path = folder / name
        header = _header(columns)
        if not path.exists() or not path.read_text().startswith(header):
            path.write_text(header)
            _fsync(path)
            continue
        size = len(header.encode()) + sum(len(line.encode()) + 1 for line in _lines(path, columns)[:keep])
        if path.stat().st_size != size:
            os.truncate(path, size)
            _fsync(path)


def _earlier_runs(folder: Path) -> list[dict]:
    """The run records of earlier calls in meta.json (none if it is missing or unreadable)."""
    try:
        runs = json.loads((folder / META).read_text()).get("runs", [])
    except (OSError, ValueError, AttributeError):
        return []
    return runs if isinstance(runs, list) else []


def _write_meta(folder, spec, settings, n_done, earlier_runs, run_record, start, engine_s) -> float:
    """Rewrite meta.json: earlier calls' records and this call's; returns this call's wall time."""
    wall = time.perf_counter() - start
    run_record.update(
        total_s=round(wall, 6),
        engine_s=round(engine_s, 6),
        sweep_layer_s=round(wall - engine_s - run_record.get("figures_s", 0.0), 6),
        bandit_steps_per_s=round(run_record["bandit_steps"] / engine_s, 1) if engine_s > 0 else None,
    )
    meta = {
        "spec": spec,
        "seed": spec["seed"],
        "settings_total": len(settings),
        "settings_done": n_done,
        "complete": n_done == len(settings),
        "versions": _versions(),
        "columns": {RESULTS: RESULT_COLUMNS, CURVES: CURVE_COLUMNS},
        "runs": [*earlier_runs, run_record],
    }
    _write_atomic(folder / META, json.dumps(meta, indent=2) + "\n")
    return wall


@functools.cache
def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        return names[0] if names else platform.processor() or platform.machine()
    except OSError:
        return platform.processor() or platform.machine()


@functools.cache
def _versions() -> dict:
    from . import __version__

    try:  # matplotlib's version without importing it (a third of a second)
        matplotlib_version = importlib.metadata.version("matplotlib")
    except importlib.metadata.PackageNotFoundError:
        matplotlib_version = None
    return {
        "batched_bandit": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "matplotlib": matplotlib_version,
    }


def _differences(theirs, ours: dict) -> str:
    if not isinstance(theirs, dict):
        return f"{SPEC} is not a sweep specification"
    keys = [k for k in ours if theirs.get(k) != ours[k]] + [k for k in theirs if k not in ours]
    return "; ".join(f"{k}: {theirs.get(k)!r} there, {ours.get(k)!r} here" for k in keys)


def _chunks(settings: list[Setting], n_bandits: int, budget: int):
    """Runs of adjacent settings with one batch_key and at most ``budget`` bandits (>= 1 setting)."""
    per_chunk = max(1, budget // n_bandits)
    for _, group in itertools.groupby(settings, key=lambda s: s.batch_key):
        group = list(group)
        for lo in range(0, len(group), per_chunk):
            yield group[lo : lo + per_chunk]


# --- CSV ----------------------------------------------------------------------------------------


def _format(name: str, value) -> str:
    """Deterministic text: given values round-trip exactly (repr), computed ones get 12 digits."""
    if name == "arms":
        return ",".join(repr(float(a)) for a in value)
    if isinstance(value, (bool, str)) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if name in ("temperature", "lr"):
        return repr(float(value))
    return format(float(value), ".12g")


def _header(columns: dict) -> str:
    return ",".join(columns) + "\n"


def _csv_line(columns: dict, values: dict) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([_format(c, values.get(c)) for c in columns])
    return buffer.getvalue()


def _parse(name: str, text: str):
    if name == "arms":
        return tuple(float(x) for x in text.split(","))
    try:
        return int(text)
    except ValueError:
        return float(text)


def _read_table(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return [{k: _parse(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


def _append(path: Path, lines: list[str]) -> None:
    with open(path, "a", newline="") as f:
        f.write("".join(lines))
        f.flush()
        os.fsync(f.fileno())


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _write_atomic(path: Path, text: str) -> None:
    tmp = _tmp(path)
    with open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())
