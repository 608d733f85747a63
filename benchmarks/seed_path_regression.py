"""The seed path must not slow down: this kernel against an earlier revision's, on the canonical job.

    python benchmarks/seed_path_regression.py                 # against b3feccb (before issue 8)
    python benchmarks/seed_path_regression.py --rev HEAD~1 --repeats 9

Builds ``batched_bandit/engines/cpu_kernel.c`` of ``--rev`` (``git show``) into a temporary folder
with the engine's own flags, then times old and new alternately on the canonical job (10,000
bandits x 50 episodes x 1,000 steps, the seed's arms, T = 10, lr = 0.01, every episode recorded),
each split over the same threads, and prints the medians and their ratio. Both must give the same
trajectories (checked: final weights bit for bit, per-arm sums).
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from batched_bandit.engines import cpu_build, cpu_engine
from batched_bandit.options import make_setup

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "batched_bandit/engines/cpu_kernel.c"
_p, _i64, _i32, _u64 = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_uint64


def build_old(rev: str, folder: Path) -> tuple[ctypes.CDLL, bool]:
    """The kernel of ``rev``, compiled as the engine compiles the seed rule; and whether its ABI has regret."""
    source = subprocess.run(["git", "show", f"{rev}:{KERNEL}"], cwd=ROOT, capture_output=True, text=True, check=True)
    path = folder / "old_kernel.c"
    path.write_text(source.stdout)
    compiler = cpu_build.find_compiler()
    subprocess.run([compiler, *cpu_build.FLAGS, "-o", str(folder / "old.so"), str(path)], check=True)
    lib = ctypes.CDLL(str(folder / "old.so"))
    with_regret = "regret_out" in source.stdout  # 7aac521 added per-arm gaps and per-episode regret
    lib.bb_simulate.restype = ctypes.c_int
    lib.bb_simulate.argtypes = [_i64, _i32, *[_p] * (6 if with_regret else 5), _u64, _i64, _i64, _i32,
                                *[_p] * (4 if with_regret else 3)]  # fmt: skip
    return lib, with_regret


def run_old(lib, with_regret: bool, batch, seed: int, episodes: int, steps: int, n_threads: int):
    """The old kernel on ``batch``, in the engine's thread split; returns (weights, sums)."""
    n, k = batch.n_bandits, batch.n_arms
    f32 = lambda t: t.to(torch.float32).contiguous()  # noqa: E731
    ins = [f32(batch.arm_param), f32(batch.arm_gap), f32(batch.hyper.inv_temperature), f32(batch.hyper.lr),
           batch.bandit_ids.contiguous(), batch.best_arm.contiguous()]  # fmt: skip
    if not with_regret:
        del ins[1]
    weights, sums = torch.empty(n, k), torch.empty(n, episodes, k, dtype=torch.int32)
    outs = [weights, sums, torch.empty(n, episodes)] + ([torch.empty(n, episodes)] if with_regret else [])

    def run(lo, hi):
        ptr = lambda a: a.data_ptr() + lo * a.stride(0) * a.element_size()  # noqa: E731
        return lib.bb_simulate(hi - lo, k, *map(ptr, ins), seed, episodes, steps, 1, *map(ptr, outs))

    per = -(-n // (n_threads * cpu_engine.LANES)) * cpu_engine.LANES
    with ThreadPoolExecutor(n_threads) as pool:
        assert not any(pool.map(lambda lo: run(lo, min(lo + per, n)), range(0, n, per)))
    return weights, sums


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rev", default="b3feccb", help="git revision of the old kernel")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n-bandits", type=int, default=10000)
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args(argv)
    batch = make_setup(args.n_bandits, torch.arange(args.n_bandits), temperature=10.0, lr=0.01).batch
    job = dict(seed=0, n_episodes=args.episodes, steps_per_episode=args.steps)
    n_threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        lib, with_regret = build_old(args.rev, Path(tmp))
        new = lambda: cpu_engine.simulate(batch, **job)  # noqa: E731
        old = lambda: run_old(lib, with_regret, batch, 0, args.episodes, args.steps, n_threads)  # noqa: E731
        new_out, (old_weights, old_sums) = new(), old()  # warm-up, and the same trajectories
        same = torch.equal(new_out.weights, old_weights) and torch.equal(new_out.episode_rewards, old_sums.float())
        times = {"old": [], "new": []}
        for _ in range(args.repeats):
            for name, fn in (("old", old), ("new", new)):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    work = args.n_bandits * args.episodes * args.steps
    print(f"# {args.n_bandits:,} bandits x {args.episodes} x {args.steps:,} steps, {n_threads} threads, "
          f"{args.repeats} alternating repeats; identical trajectories: {same}")  # fmt: skip
    print("| kernel | median s | min s | bandit-steps/s |\n|---|---|---|---|")
    for name, label in (("old", f"old ({args.rev})"), ("new", "new (this tree)")):
        med = statistics.median(times[name])
        print(f"| {label} | {med:.3f} | {min(times[name]):.3f} | {work / med:.3g} |")
    ratio = statistics.median(times["old"]) / statistics.median(times["new"])
    print(f"# new / old speed = {ratio:.3f}")
    if not same:
        sys.exit("the kernels' trajectories differ")


if __name__ == "__main__":
    main()
