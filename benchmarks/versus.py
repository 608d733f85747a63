"""This checkout against an earlier revision, side by side: the same jobs, alternately, in one run.

    python benchmarks/versus.py --rev HEAD~1                      # every rule, fused CPU engine
    python benchmarks/versus.py --rev main --backends cpu torch --repeats 5 --markdown

The earlier revision is checked out into a temporary folder (``git worktree``) and imported from
there (``PYTHONPATH``) by its own subprocesses; this checkout's by others. Each job (a rule and a
backend: the canonical shape, 10,000 bandits x 2 x 500 steps for the fused engine) runs once to
build its kernel, then ``--repeats`` times alternately old, new, old, new...; the table gives the
median bandit-steps/s of each and their ratio. Both must give the same success count (checked: a
refactoring that moves a trajectory is caught here too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the shared table of rules

from rules import RULES, resolve  # noqa: E402

JOB = """
import json, sys, torch
torch.set_num_threads({threads})
from batched_bandit import run_batch
def decode(v, rows=None):  # {{"tensor": ...}} -> a tensor (its first rows), {{"tuple": ...}} -> a tuple
    if isinstance(v, dict) and "tensor" in v:
        return torch.tensor(v["tensor"][:rows], dtype=torch.float64)
    return tuple(decode(x, rows) for x in v["tuple"]) if isinstance(v, dict) else v
kw = json.load(sys.stdin)
n = kw.pop("n_bandits")
run_batch(min(n, 64), **{{k: decode(v, 64) for k, v in kw.items()}})  # builds the kernel (not timed)
kw = {{k: decode(v) for k, v in kw.items()}}
res = run_batch(n, **kw)
print(json.dumps({{"rate": res.bandit_steps_per_s, "successes": res.n_successes, "backend": res.backend}}))
"""


def run_job(tree: Path, job: dict, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", JOB.format(threads=threads)], input=json.dumps(job), env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def encode(value):
    """A rule option as JSON: per-bandit tensors as {"tensor": lists}, tuples as {"tuple": [...]}."""
    if hasattr(value, "tolist"):
        return {"tensor": value.tolist()}
    return {"tuple": [encode(v) for v in value]} if isinstance(value, tuple) else value


def jobs(backends: list[str], n_bandits: int, episodes: int, steps: int, names: list[str] | None) -> list[tuple]:
    out = []
    for backend in backends:
        for name, options in RULES.items():
            if names and name not in names:
                continue
            size = n_bandits if backend != "torch" else max(1, n_bandits // 10)
            options = {k: encode(resolve(v, size)) for k, v in options.items()}
            job = {"n_bandits": size, "n_episodes": episodes, "steps_per_episode": steps, "seed": 1,
                   "backend": backend, **options}  # fmt: skip
            out.append((name, backend, job))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", required=True, help="the earlier revision (a commit, branch or tag)")
    parser.add_argument("--backends", nargs="+", default=["cpu"])
    parser.add_argument("--rules", nargs="+", default=None, help="names in tests/rules.py (default: all)")
    parser.add_argument("--n-bandits", type=int, default=10000)
    parser.add_argument("--episodes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()  # fmt: skip
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.rev], cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        try:
            for name, backend, job in jobs(args.backends, args.n_bandits, args.episodes, args.steps, args.rules):
                rates = {"old": [], "new": []}
                results = {}
                for _ in range(args.repeats):
                    for which, tree in (("old", old), ("new", ROOT)):
                        result = run_job(tree, dict(job), args.threads)
                        rates[which].append(result["rate"])
                        results[which] = result
                if results["old"]["successes"] != results["new"]["successes"]:
                    raise SystemExit(f"{name} on {backend}: success counts differ {results}")
                old_rate, new_rate = statistics.median(rates["old"]), statistics.median(rates["new"])
                rows.append((name, backend, old_rate, new_rate, new_rate / old_rate))
                ratio = new_rate / old_rate
                print(
                    f"{name:40s} {backend:6s} old {old_rate:.3g}  new {new_rate:.3g}  ratio {ratio:.3f}",
                    file=sys.stderr,
                )
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
    if args.markdown:
        print(f"| rule | backend | {commit} (bandit-steps/s) | {head} | new / old |")
        print("|---|---|---|---|---|")
        for name, backend, old_rate, new_rate, ratio in rows:
            print(f"| {name} | {backend} | {old_rate:.3g} | {new_rate:.3g} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
