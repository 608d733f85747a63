"""The study layer's costs, side by side in one run (issue 10): sweep-layer overhead in process,
a 2-worker LocalCluster against the in-process engine, per-task overhead, store commits/s, the
bandit-steps precision targeting saves, and the time random problems cost (issue 17).

    python benchmarks/study.py                 # everything (about 6 minutes on a 2-core machine)
    python benchmarks/study.py --only overhead dask tasks commits precision problems --repeats 3

The temperature sweep is the README's: 25 temperatures (0.01..100, log), seed arms, lr 0.01,
50 x 1,000 steps, 10,000 bandits per setting. Medians of --repeats where a case is repeated.
The random-problem sweep is Sutton & Barto's parameter study of the gradient bandit: 10 arms with
means N(0, 1) per bandit (--means normal:10:0:1), a mean baseline, T = 1, 7 step sizes 1/32..2,
1,000 steps, 10,000 bandits each; it times building the tasks' batches and drawing the problems
by wrapping study.task.batch_setup and RandomArms.draw, so it runs on older versions too (before /
after numbers: run it with PYTHONPATH pointing at the other version).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from batched_bandit import run_batch, sweep
from batched_bandit.metrics import METRICS_LIST
from batched_bandit.random_arms import RandomArms
from batched_bandit.study import InProcess, dask_client, normal_arms
from batched_bandit.study import task as study_task
from batched_bandit.study.axes import grid_and_columns
from batched_bandit.study.integrity import to_json
from batched_bandit.study.plan import Task
from batched_bandit.study.store import Store
from batched_bandit.study.sweep import study_spec
from batched_bandit.study.task import HISTOGRAM_BINS

TEMPERATURES = np.geomspace(0.01, 100, 25)
MEANS = [m.name for m in METRICS_LIST if m.kind == "mean"]  # the metrics a block keeps sums of


def last_call(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text())["calls"][-1]


def overhead(repeats: int, tmp: Path) -> None:
    """In-process: the sweep layer's share of the engine's time (both from the call's record)."""
    print("## sweep layer overhead, in process: 25 temperatures x 10,000 bandits x 50 x 1,000 steps")
    print("| repeat | total s | engine s | sweep layer s | layer / engine | figures s |")
    print("|---|---|---|---|---|---|")
    for i in range(repeats):
        out = tmp / f"overhead{i}"
        result = sweep(out, temperature=TEMPERATURES, n_bandits=10000)
        call = last_call(out)
        share = call["sweep_layer_s"] / call["engine_s"]
        print(
            f"| {i} | {call['total_s']:.2f} | {call['engine_s']:.2f} | {call['sweep_layer_s']:.3f} | {share:.2%} | "
            f"{call.get('figures_s', 0):.2f} |"
        )
        assert len(result.rows) == 25


def dask_throughput(repeats: int, tmp: Path, workers: int) -> None:
    """The same >= 30 s sweep in process and on a LocalCluster of ``workers`` one-thread processes."""
    axes = dict(temperature=TEMPERATURES, n_bandits=10000)
    client = dask_client(workers=workers)
    client.run(lambda: run_batch(64, n_episodes=1, steps_per_episode=10))  # workers load the engine once
    print(f"\n## LocalCluster of {workers} worker processes (1 thread each) vs in process, same sweep")
    print(
        "| repeat | in-process wall s | in-process engine s | cluster wall s | cluster / in-process engine "
        "throughput | cluster / in-process wall |"
    )
    print("|---|---|---|---|---|---|")
    try:
        for i in range(repeats):
            sweep(tmp / f"local{i}", **axes)
            local = last_call(tmp / f"local{i}")
            sweep(tmp / f"dask{i}", client=client, **axes)
            remote = last_call(tmp / f"dask{i}")
            same = all(
                (tmp / f"local{i}" / f).read_bytes() == (tmp / f"dask{i}" / f).read_bytes()
                for f in ("results.csv", "curves.csv")
            )
            print(
                f"| {i} | {local['total_s']:.2f} | {local['engine_s']:.2f} | {remote['total_s']:.2f} | "
                f"{local['engine_s'] / remote['total_s']:.1%} | {local['total_s'] / remote['total_s']:.1%} |"
                + ("" if same else " FILES DIFFER")
            )
    finally:
        client.close()
        client.cluster.close()


def task_overhead(tmp: Path, workers: int, n_tasks: int) -> None:
    """Per-task cost of tiny tasks (one setting, 8 bandits, 10 steps): in process unfused and on Dask."""
    axes = dict(temperature=10.0, n_bandits=8 * n_tasks, block_bandits=8, n_episodes=1, steps_per_episode=10)
    client = dask_client(workers=workers)
    client.run(lambda: run_batch(64, n_episodes=1, steps_per_episode=10))
    print(f"\n## per-task overhead: {n_tasks} tasks of 8 bandits x 10 steps (the engine's share is negligible)")
    print("| executor | wall s | ms per task | engine ms per task |")
    print("|---|---|---|---|")
    try:
        for name, kwargs in (
            ("in-process, one task per engine call", {"executor": InProcess(fuse_elements=1)}),
            (f"dask, {workers} workers", {"client": client}),
        ):
            out = tmp / f"tasks-{name[:4]}"
            start = time.perf_counter()
            sweep(out, **axes, **kwargs)
            wall = time.perf_counter() - start
            call = last_call(out)
            print(f"| {name} | {wall:.2f} | {1000 * wall / n_tasks:.2f} | {1000 * call['engine_s'] / n_tasks:.3f} |")
    finally:
        client.close()
        client.cluster.close()


def commits(tmp: Path, n_commits: int, n_settings: int, n_episodes: int) -> None:
    """Store.commit of a task of ``n_settings`` settings (E episodes, K = 4, 1,024 bandits) in a loop."""
    settings, given = grid_and_columns(temperature=np.geomspace(0.1, 10, n_settings), n_episodes=n_episodes)
    spec = study_spec(settings, given, n_bandits=1024 * n_commits, seed=0, dtype="float32", block_bandits=1024,
                      precision=None, max_bandits=None, record_every=None)  # fmt: skip
    store = Store.open(tmp / "commits", spec, [{k: to_json(v) for k, v in s.items()} for s in settings])
    tasks = [Task(f"b{b}:s0-{n_settings - 1}", 0, 0, b, tuple(range(n_settings))) for b in range(n_commits)]
    store.plan(tasks)
    rng = np.random.default_rng(0)
    stats = {"n": 1024, "final_successes": 0, "successes": rng.integers(0, 1024, n_episodes),
             "locked": np.array([1, 2, 3]), "p_best_hist": np.arange(HISTOGRAM_BINS), "last_rewards": rng.random(4),
             "verdicts": bytes(128)}  # fmt: skip
    for m in MEANS:  # the sums at each episode and over the run, and each bandit's value
        stats.update({f"{m}_sum": rng.random(n_episodes), f"{m}_sq": rng.random(n_episodes),
                      f"final_{m}": rng.random(2), f"bandit_{m}": rng.random(1024).astype(np.float32)})  # fmt: skip
    result = {"stats": dict.fromkeys(range(n_settings), stats), "backend": "cpu", "device": "cpu", "engine_s": 1.0}
    start = time.perf_counter()
    for task in tasks:
        store.commit(task.key, task.block, result)
    seconds = time.perf_counter() - start
    store.close()
    print(
        f"\n## store commits: {n_commits} tasks of {n_settings} settings x {n_episodes} episodes, "
        "WAL, synchronous = NORMAL"
    )
    print(
        f"{n_commits / seconds:.0f} commits/s ({1000 * seconds / n_commits:.2f} ms per commit, "
        f"{n_commits * n_settings / seconds:.0f} (setting, block) rows/s)"
    )


def precision(tmp: Path, eps: float) -> None:
    """Bandit-steps with precision=eps against the fixed n that reaches the same worst half-width."""
    out = tmp / "precision"
    result = sweep(out, temperature=TEMPERATURES, n_bandits=1024, precision=eps, max_bandits=200_000)
    rows = result.rows
    steps = 50 * 1000
    worst = max(r["ci_half_width"] for r in rows)
    n_max = max(r["n"] for r in rows)
    targeted = sum(r["n"] for r in rows) * steps
    fixed = len(rows) * n_max * steps
    print(
        f"\n## precision targeting, eps = {eps}: 25 temperatures, success {min(r['success_rate'] for r in rows):.3f}"
        f"..{max(r['success_rate'] for r in rows):.3f}"
    )
    print("| T | success rate | n | 95% half-width |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['temperature']:.4g} | {r['success_rate']:.4f} | {r['n']:,} | {r['ci_half_width']:.5f} |")
    print(
        f"targeted: {targeted:.3g} bandit-steps; fixed n = {n_max:,} for every setting (the same worst half-width "
        f"{worst:.5f}): {fixed:.3g}; saving {1 - targeted / fixed:.1%} ({fixed / targeted:.2f}x fewer); "
        f"wall {last_call(out)['total_s']:.1f} s"
    )


class Timed:
    """Seconds spent in a function while it is wrapped (``with Timed(owner, name) as t: ...; t.s``)."""

    def __init__(self, owner, name: str):
        self.owner, self.name, self.s = owner, name, 0.0

    def __enter__(self):
        self.original = getattr(self.owner, self.name)

        def timed(*args, **kwargs):
            tick = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.s += time.perf_counter() - tick

        setattr(self.owner, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(self.owner, self.name, self.original)


def problems(repeats: int, tmp: Path) -> None:
    """Random problems against fixed ones in the same sweep: drawing the problems and building the
    batches, as shares of the engine's time (issue 17's target: drawing <= 5%)."""
    fixed = tuple(float(x) for x in np.random.default_rng(0).standard_normal(10))  # one 10-armed problem
    axes = dict(lr=np.geomspace(1 / 32, 2, 7), baseline="mean", temperature=1.0, n_bandits=10000, n_episodes=1,
                steps_per_episode=1000)  # fmt: skip
    print("\n## random problems: 7 step sizes x 10,000 bandits x 1,000 steps, 10 arms, mean baseline, T = 1")
    print("| problems | repeat | wall s | engine s | batches built s | problems drawn s | drawn / engine | "
          "built / engine |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for label, means in (("normal:10:0:1 per bandit", normal_arms(10, 0.0, 1.0)), ("one fixed vector", fixed)):
        for i in range(repeats):
            out = tmp / f"problems-{label[:6]}{i}"
            with Timed(study_task, "batch_setup") as built, Timed(RandomArms, "draw") as drawn:
                sweep(out, means=[means], **axes)
            call = last_call(out)
            print(f"| {label} | {i} | {call['total_s']:.2f} | {call['engine_s']:.3f} | {built.s:.3f} | {drawn.s:.3f} | "
                  f"{drawn.s / call['engine_s']:.1%} | {built.s / call['engine_s']:.1%} |")  # fmt: skip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", default=["overhead", "dask", "tasks", "commits", "precision", "problems"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--eps", type=float, default=0.005)
    args = parser.parse_args(argv)
    print(
        f"# {platform.processor() or platform.machine()}, torch {torch.__version__} ({torch.get_num_threads()} "
        f"threads), python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_batch(64, n_episodes=1, steps_per_episode=10)  # the fused engine's one-off build
        if "overhead" in args.only:
            overhead(args.repeats, tmp)
        if "dask" in args.only:
            dask_throughput(args.repeats, tmp, args.workers)
        if "tasks" in args.only:
            task_overhead(tmp, args.workers, 500)
        if "commits" in args.only:
            commits(tmp, 1000, 25, 50)
        if "precision" in args.only:
            precision(tmp, args.eps)
        if "problems" in args.only:
            problems(args.repeats, tmp)


if __name__ == "__main__":
    main()
