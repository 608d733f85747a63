"""``sweep``: a study from the grid to the exports — plan, execute, store, reduce.

The planner (plan.py) says which tasks come next from what the store has committed; an executor
(executors.py) runs them; each result is committed to the store (store.py) as it arrives; the
tables (tables.py) are written from the store at the end. Each room knows only the next one.
Figures are not drawn here: ``batched-bandit sweep`` draws them after, or ``figures.plot_sweep``.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from .. import engines
from ..checks import (
    check_bool,
    check_count,
    check_dtype,
    check_per_bandit,
    check_progress,
    check_run_size,
    check_seed,
    dtype_name,
)
from ..engines import describe_device, resolve_device
from ..options import check_numerics, make_setup
from ..progress import Bar
from ..state import trace_points
from . import calls
from .axes import AXES, batch_key, columns, grid_and_columns, probe
from .executors import Dask, InProcess
from .integrity import FORMAT, FORMAT_VERSION, points_problem, to_json
from .plan import Plan
from .setting import Setting
from .store import Store
from .sweep_result import SweepResult
from .tables import write_meta, write_tables
from .task import Job, per_bandit_elements

DEFAULT_BLOCK = 1024  # bandits per block: small enough to target precision, big enough to amortise a task
DEFAULT_MAX_BANDITS = 10**6  # with a precision target, the most bandits a setting gets
DEVICE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def sweep(
    out: str | os.PathLike,
    *,
    n_bandits: int = 10000,
    seed: int = 0,
    device: str | torch.device = "auto",
    backend: str = "auto",
    dtype: torch.dtype = torch.float32,
    block_bandits: int | None = None,
    precision: float | None = None,
    max_bandits: int | None = None,
    record_every: int | None = None,
    client=None,
    executor=None,
    progress: Callable[[int, int], None] | bool | None = None,
    command: Sequence[str] | None = None,
    wait: bool = False,
    repair: bool = False,
    **axes,
) -> SweepResult:
    """Run the grid of ``grid(**axes)`` into the folder ``out``; returns its tables.

    Every setting trains bandits 0..n-1 (the bandits of ``run_batch(n, seed=seed)``): ``n_bandits``
    each, or with ``precision=eps`` blocks of ``block_bandits`` (default 1024) until the 95% Wilson
    half-width of its success rate is <= eps, at most ``max_bandits`` (default 10**6; ``n_bandits``
    is then the first stage's count). ``record_every=N``: curves.csv gets a point every N steps, inside
    episodes too (the engines' trace), instead of one per episode. ``client``: a ``distributed.Client``
    to run on a Dask cluster
    (``executor``: any object with executors.InProcess's ``run``). A folder holding part of the same
    study continues it; another study or other files are refused (ValueError) before any work.
    ``progress``: True for a bar on stderr, or ``progress(done, total)`` in bandit-steps, work of
    earlier calls included. ``command`` is recorded in meta.json (default ``sys.argv``).

    One process writes a folder at a time: another sweep on it is refused (ValueError naming it),
    or waited for with ``wait=True``. A damaged store is refused with one line; ``repair=True``
    deletes what is damaged and computes it again (the results are those of a clean run).
    """
    start = time.perf_counter()
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder path (str or os.PathLike), got {out!r}")
    settings, given = grid_and_columns(**axes)
    n_bandits, seed, dtype = check_count("n_bandits", n_bandits), check_seed(seed), check_dtype(dtype)
    block_bandits = DEFAULT_BLOCK if block_bandits is None else check_count("block_bandits", block_bandits)
    if precision is not None:
        precision = float(check_per_bandit("precision", precision, 1, low=0.0, high=0.5, low_open=True)[0])
        max_bandits = DEFAULT_MAX_BANDITS if max_bandits is None else check_count("max_bandits", max_bandits)
    elif max_bandits is not None:
        raise ValueError("max_bandits applies with a precision target only (precision=eps)")
    record_every = None if record_every is None else check_count("record_every", record_every)
    progress = check_progress(progress)
    wait, repair = check_bool("wait", wait), check_bool("repair", repair)
    if client is not None and executor is not None:
        raise ValueError("give client= (a Dask cluster) or executor=, not both")
    if executor is not None and not callable(getattr(executor, "run", None)):
        raise TypeError(f"executor must have executors.InProcess's run(jobs, on_result, on_steps), got {executor!r}")
    executor = Dask(client) if client is not None else executor or InProcess()
    local = isinstance(executor, InProcess)
    command = _check_command(command)
    for s in settings:  # the counts the engines hold exactly, for the most bandits a setting may get
        check_run_size(max_bandits or n_bandits, s.n_episodes, s.steps_per_episode)
        if problem := points_problem(s, record_every):
            raise ValueError(f"record_every: a setting of {s.n_episodes:,} x {s.steps_per_episode:,} steps: {problem}")
    groups = _groups(settings)
    backends = _check_engines(settings, groups, device, backend, dtype, local, record_every is not None)
    spec = study_spec(settings, given, n_bandits=n_bandits, seed=seed, dtype=dtype_name(dtype),
                      block_bandits=block_bandits, precision=precision, max_bandits=max_bandits,
                      record_every=record_every)  # fmt: skip
    folder = Path(out)
    store = Store.open(folder, spec, [{k: to_json(v) for k, v in s.items()} for s in settings], wait=wait,
                       repair=repair)  # fmt: skip
    try:  # the store (and the folder's lock) is let go however this ends
        if store.grid != settings:  # the same study with a default restated: the folder keeps its own settings
            settings, given = store.grid, [k for k in AXES if k in store.spec]
            groups = _groups(settings)
        plan = Plan(
            groups=tuple(tuple(g) for g in groups),
            episodes_x_arms=tuple(_elements(settings[g[0]], record_every) for g in groups),
            n_bandits=n_bandits, block_bandits=block_bandits, precision=precision, max_bandits=max_bandits,
        )  # fmt: skip
        torch_device = resolve_device(device) if local else None
        record = calls.new_record(
            command, executor, describe_device(torch_device) if torch_device else f"{device} on each worker",
            sorted(set(backends.values())) if local else backend, sum(t["state"] == "done" for t in store.tasks()),
        )  # fmt: skip
        call = store.record_call(record)
        record["call"] = call  # the tasks table's call column
        make_job = functools.partial(
            _job, settings=settings, plan=plan, seed=seed, dtype=dtype_name(dtype),
            device=str(torch_device if local else device), backends=backends if local else None, backend=backend,
            record_every=record_every,
        )  # fmt: skip
        bar = None
        try:
            committed = store.committed()
            done_steps = sum(n * _steps(settings[s]) for (s, _), (n, _) in committed.items())
            while tasks := plan.next_stage(committed):
                store.plan(tasks)
                jobs = [make_job(t) for t in tasks]
                total = done_steps + sum(j.bandit_steps for j in jobs)
                bar, report = _progress(progress, bar, done_steps, total)

                def on_result(job: Job, result: dict) -> None:
                    if store.commit(job.key, job.block, result, call, round(time.perf_counter() - start, 6)):
                        calls.committed(record, job.bandit_steps, result)

                calls.incidents(record, executor.run(jobs, on_result, report))
                before, committed = committed, store.committed()
                if committed == before:  # never loop on tasks the store does not keep
                    raise RuntimeError(f"no task of this stage was committed to {store.path} (first: {tasks[0].key})")
                done_steps = total
            rows, curves = write_tables(folder, store, settings, columns(given))
            record["finished"] = True
        finally:
            if bar is not None:
                bar.close()
            wall = time.perf_counter() - start
            calls.finish(record, wall, local)
            store.record_call(record, call)
            if record["finished"]:
                write_meta(folder, store, columns(given))
            n_tasks = len(store.tasks())
    finally:
        store.close()
    calls.report(record)
    return SweepResult(
        out=folder, settings=settings, rows=rows, curves=curves, tasks_computed=record["tasks_committed"],
        tasks_total=n_tasks, wall_time_s=wall,
        engine_time_s=record["engine_s"],
    )  # fmt: skip


def _check_command(command) -> list[str]:
    """The command recorded in meta.json: sys.argv, or the given sequence of strings."""
    if command is None:
        return list(sys.argv)
    if (
        isinstance(command, (str, bytes))
        or not isinstance(command, Sequence)
        or not all(isinstance(word, str) for word in command)
    ):
        raise TypeError(f"command must be a sequence of strings (as sys.argv), got {command!r}")
    return list(command)


def _groups(settings: list[Setting]) -> list[list[int]]:
    """Setting indices per batch key, in order of first appearance (the grid keeps groups adjacent)."""
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(settings):
        groups.setdefault(batch_key(s), []).append(i)
    return list(groups.values())


def study_spec(settings: list[Setting], given: Sequence[str], **run) -> dict:
    """The spec the store keeps: the format, each axis's values as the grid made them, ``run``'s
    parameters (n_bandits, seed, dtype, block_bandits, precision, max_bandits, record_every)."""
    values = {k: _axis_values(settings, k) for k in given}  # an axis no setting has (lr: no gradient) is left out
    axis_values = {k: [to_json(v) for v in axis] for k, axis in values.items() if axis}
    return {"format": f"{FORMAT}/{FORMAT_VERSION}", **axis_values, **run}


def _axis_values(settings: list[Setting], name: str) -> list:
    """An axis's values in first-appearance order, as the grid made them."""
    return list(dict.fromkeys(s[name] for s in settings if name in s))


def _check_engines(settings, groups, device, backend, dtype, local: bool, trace: bool) -> dict[int, str]:
    """Check every setting's numbers in dtype and, in-process, resolve each group's engine here
    (group -> backend). A Dask worker resolves "auto" itself (a GPU worker runs the GPU engine)."""
    for s in settings:
        setup = make_setup(1, torch.arange(1), **s.options(arms=probe(s)))
        check_numerics(setup, s.n_episodes, s.steps_per_episode, dtype)
    if not local:
        device = str(device) if isinstance(device, torch.device) else device
        if not isinstance(device, str) or not DEVICE.match(device):
            raise ValueError(f'device must be "auto", "cpu", "cuda" or "cuda:N", got {device!r}')
        if backend != "auto" and backend not in engines.BACKENDS:
            raise ValueError(f'backend must be "auto" or one of {sorted(engines.BACKENDS)}, got {backend!r}')
        return {}
    torch_device = resolve_device(device)
    resolved = {}
    for g, members in enumerate(groups):
        rule, _, n_arms, _, _ = batch_key(settings[members[0]])
        resolved[g] = engines.resolve_backend(backend, torch_device, dtype, n_arms, rule, trace=trace)
    return resolved


def _job(task, *, settings, plan, seed, dtype, device, backends, backend, record_every) -> Job:
    first = settings[task.settings[0]]
    lo, hi = plan.bandits(task.block)
    return Job(
        key=task.key, group=task.group, block=task.block, lo=lo, hi=hi, settings=task.settings,
        options=tuple(settings[s].options() for s in task.settings), n_arms=first.n_arms,
        n_episodes=first.n_episodes, steps_per_episode=first.steps_per_episode, seed=seed, dtype=dtype,
        device=device, backend=backend if backends is None else backends[task.group], record_every=record_every,
    )  # fmt: skip


def _elements(setting: Setting, record_every: int | None) -> int:
    """A bandit's outputs in per-arm sums' worth of memory (sizes the plan's tasks)."""
    return per_bandit_elements(setting.n_episodes, setting.n_arms, trace_points(setting.n_steps, record_every))


def _steps(setting: Setting) -> int:
    return setting.n_episodes * setting.steps_per_episode


def _progress(progress, bar: Bar | None, done: int, total: int):
    """(bar, on_steps) for a stage: the library Bar (progress=True) or the caller's progress(done, total)."""
    if progress is True:
        if bar is None:
            bar = Bar(total, initial=done)
        bar.set_total(total)
        return bar, bar.update
    if not callable(progress):
        return bar, None
    state = {"done": done}

    def report(n: int) -> None:
        state["done"] += n
        progress(state["done"], total)

    return bar, report
