"""Mutation testing for batched_bandit: apply hand-written mutants one at a time, run the relevant tests.

    python tools/mutate.py                    # every mutant of tools/mutants.py, 2 at a time
    python tools/mutate.py --list             # the mutants, and which are stale
    python tools/mutate.py --only ck-arm-le rng-m0 --jobs 1 --json /tmp/mutation.json

Each job works in its own copy of the repository (no .git, no virtualenv, no caches), so the
working tree is never touched. A mutant replaces one snippet that must occur exactly once in its
file (otherwise it is *stale*: the code moved on and the list needs updating); the mutated copy
runs ``python -m pytest -x -q -p no:cacheprovider <the mutant's tests>`` and the file is restored
afterwards, whatever happens. Verdicts:

* killed: a test failed or errored (collection errors and a conftest.py that no longer imports
  included), or pytest crashed;
* timeout: the tests ran past ``--timeout`` and were killed (counted as killed, listed apart);
* survived: every selected test passed;
* stale: the snippet is not in the file exactly once; not run. A run refuses to start while the
  list has a stale mutant, a selection naming a missing test file, or a module without a mutant
  (``--list`` shows them; ``--allow-stale`` runs the rest);
* equivalent: the mutant is known to behave like the original (its ``equivalent`` field says
  why); not run unless ``--check-equivalent``, and never counted in the rate;
* error: the selection matches no test (a bad path or node id); not counted.

The kill rate is (killed + timeout) / (killed + timeout + survived).

Every copy gets its own C kernel cache (``BATCHED_BANDIT_CACHE``) with the original kernel built
at setup; a mutant of ``cpu_kernel.c`` changes the source, hence the cache key, so the tests
compile the mutated kernel afresh. The harness checks this: it records the kernel files that the
run added (``kernel`` in the results) and removes them afterwards. A mutant that fails to compile
leaves the fused engine unavailable; it counts as killed only if a test then fails.

Standard library only. Python files are never byte-compiled in the copies
(``PYTHONDONTWRITEBYTECODE``), so a restored file can never be shadowed by a stale ``.pyc``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __name__ == "__main__":  # tools/mutants.py imports Mutant from "mutate": let it find this module
    sys.modules.setdefault("mutate", sys.modules[__name__])

REPO = Path(__file__).resolve().parent.parent
DEFAULT_MUTANTS = Path(__file__).resolve().with_name("mutants.py")
PYTEST_ARGS = ("-m", "pytest", "-x", "-q", "-p", "no:cacheprovider")
IGNORED = (".git", ".venv", "venv", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".benchmarks")
IGNORED_AT_ROOT = ("study",)  # study folders written by sweeps (/study/ in .gitignore), not batched_bandit/study
IGNORED += ("build", "dist", "*.egg-info")
KERNEL_GLOB = "cpu_kernel-*.so"
KILLED, TIMEOUT, SURVIVED, STALE, EQUIVALENT, ERROR = "killed", "timeout", "survived", "stale", "equivalent", "error"


@dataclass(frozen=True)
class Mutant:
    """One small, plausible bug: ``original`` (exactly once in ``file``) becomes ``replacement``."""

    id: str
    file: str  # relative to the repository root
    original: str
    replacement: str
    description: str  # the plausible bug, one line
    tests: tuple[str, ...] = ()  # pytest arguments selecting the relevant tests; () = the default suite
    equivalent: str | None = None  # why the mutant cannot change behaviour, if it cannot


@dataclass
class Result:
    id: str
    file: str
    description: str
    tests: list[str]
    status: str
    seconds: float = 0.0
    returncode: int | None = None
    killed_by: str | None = None  # the first failing test, or what happened instead
    detail: str = ""  # why stale / equivalent / error, or the tail of pytest's output
    kernel: list[str] | None = None  # C kernel files the run built (cpu_kernel.c mutants)
    equivalent: str | None = None
    observed: str | None = None  # an equivalent mutant run with --check-equivalent: what happened

    @property
    def counts_as_killed(self) -> bool:
        return self.status in (KILLED, TIMEOUT)


@dataclass
class Summary:
    results: list[Result]
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    def of(self, *statuses: str) -> list[Result]:
        return [r for r in self.results if r.status in statuses]

    @property
    def killed(self) -> int:
        return len(self.of(KILLED, TIMEOUT))

    @property
    def scored(self) -> int:
        return len(self.of(KILLED, TIMEOUT, SURVIVED))

    @property
    def rate(self) -> float | None:
        return self.killed / self.scored if self.scored else None

    def as_dict(self) -> dict:
        return {
            **self.extra,
            "wall_s": round(self.wall_s, 1),
            "total": len(self.results),
            "killed": self.killed,
            "killed_by_timeout": len(self.of(TIMEOUT)),
            "survived": len(self.of(SURVIVED)),
            "stale": len(self.of(STALE)),
            "equivalent": len(self.of(EQUIVALENT)),
            "errors": len(self.of(ERROR)),
            "kill_rate": self.rate,
            "results": [asdict(r) for r in self.results],
        }

    def text(self) -> str:
        rate = "n/a" if self.rate is None else f"{self.killed}/{self.scored} = {100 * self.rate:.1f}%"
        lines = [
            f"mutants: {len(self.results)} total",
            f"  killed:     {self.killed} (of which {len(self.of(TIMEOUT))} by timeout)",
            f"  survived:   {len(self.of(SURVIVED))}",
            f"  timeouts:   {len(self.of(TIMEOUT))}",
            f"  stale:      {len(self.of(STALE))}",
            f"  equivalent: {len(self.of(EQUIVALENT))}",
        ]
        if self.of(ERROR):
            lines.append(f"  errors:     {len(self.of(ERROR))} (not counted; fix the selection)")
        lines.append(f"kill rate (non-equivalent, non-stale): {rate}")
        sections = [
            ("survived", self.of(SURVIVED), lambda r: r.description),
            ("killed by timeout", self.of(TIMEOUT), lambda r: r.description),
            ("stale", self.of(STALE), lambda r: r.detail),
            ("equivalent", self.of(EQUIVALENT), lambda r: f"{r.equivalent}{_observed(r)}"),
            ("errors", self.of(ERROR), lambda r: r.detail.splitlines()[-1] if r.detail else ""),
        ]
        for title, results, say in sections:
            if results:
                lines.append(f"{title}:")
                lines += [f"  {r.id} ({r.file}): {say(r)}" for r in results]
        lines.append(f"wall time: {self.wall_s:.0f} s")
        return "\n".join(lines)


def _observed(result: Result) -> str:
    return f" [run: {result.observed}]" if result.observed else ""


# --- the mutant list ---------------------------------------------------------------------------


def load_mutants(path: str | os.PathLike = DEFAULT_MUTANTS) -> list[Mutant]:
    """``MUTANTS`` of a mutant module (default tools/mutants.py), checked for unique ids."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"_mutants_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = list(module.MUTANTS)
    check_list(mutants)
    return mutants


def check_list(mutants: Sequence[Mutant]) -> None:
    seen = set()
    for m in mutants:
        if m.id in seen:
            raise ValueError(f"mutant id {m.id!r} is used twice")
        if m.original == m.replacement:
            raise ValueError(f"mutant {m.id!r} replaces its snippet with itself")
        seen.add(m.id)


UNMUTATED = ("batched_bandit/__init__.py", "batched_bandit/state.py")  # no logic of their own to break


def list_problems(mutants: Sequence[Mutant], root: Path) -> list[str]:
    """Why ``mutants`` do not fit the tree at ``root``: stale snippets, selections naming test files
    that do not exist."""
    problems = [f"{m.id}: {staleness(m, root)}" for m in mutants if staleness(m, root)]
    for m in mutants:
        missing = [a for a in m.tests if not a.startswith("-") and not (root / a.split("::")[0]).exists()]
        problems += [f"{m.id}: its tests name {a}, which does not exist" for a in missing]
    return problems


def unmutated_modules(mutants: Sequence[Mutant], root: Path) -> list[str]:
    """The package's modules (in a tree that has it) that no mutant touches."""
    package = root / "batched_bandit"
    modules = {p.relative_to(root).as_posix() for p in package.rglob("*") if p.suffix in (".py", ".c")}
    return [f"{f}: no mutant" for f in sorted(modules - {m.file for m in mutants} - set(UNMUTATED))]


def staleness(mutant: Mutant, root: Path) -> str | None:
    """Why ``mutant`` cannot be applied to the tree at ``root``, or None."""
    path = root / mutant.file
    if not path.is_file():
        return f"{mutant.file} does not exist"
    count = path.read_text().count(mutant.original)
    if count == 0:
        return f"snippet not found in {mutant.file}"
    if count > 1:
        return f"snippet occurs {count} times in {mutant.file}; make it unique"
    return None


# --- running -------------------------------------------------------------------------------------


def _ignore(root: Path) -> Callable[[str, list[str]], set[str]]:
    """copytree's ``ignore`` for a copy of ``root``: IGNORED anywhere, IGNORED_AT_ROOT at its top
    only (a package may hold a folder of that name: batched_bandit/study must be copied)."""
    import fnmatch

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = {n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in IGNORED)}
        if Path(directory).resolve() == root.resolve():
            ignored |= set(names) & set(IGNORED_AT_ROOT)
        return ignored

    return ignore


class Workspace:
    """A copy of the repository for one job, with its own C kernel cache."""

    def __init__(self, source: Path, parent: Path, index: int, python: str):
        self.root = parent / f"job{index}" / "repo"
        self.cache = parent / f"job{index}" / "kernel-cache"
        shutil.copytree(source, self.root, ignore=_ignore(source))
        self.cache.mkdir()
        self.python = python

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(PYTHONPATH=str(self.root), BATCHED_BANDIT_CACHE=str(self.cache), PYTHONDONTWRITEBYTECODE="1")
        return env

    def kernels(self) -> set[str]:
        return {p.name for p in self.cache.glob(KERNEL_GLOB)}

    def prepare(self) -> str:
        """Check that the copy's package is the one imported, and build its C kernel if it has one."""
        probe = (
            "import batched_bandit, pathlib\n"
            "print(pathlib.Path(batched_bandit.__file__).resolve())\n"
            "try:\n"
            "    from batched_bandit.engines import cpu_engine\n"
            "except ImportError:\n"
            "    cpu_engine = None\n"
            "if cpu_engine is not None and cpu_engine.unavailable_reason(__import__('torch').device('cpu')):\n"
            "    print('no fused CPU engine here:', cpu_engine.unavailable_reason(__import__('torch').device('cpu')))\n"
        )
        if not (self.root / "batched_bandit").is_dir():
            return ""
        done = subprocess.run(
            [self.python, "-c", probe], cwd=self.root, env=self.env(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"cannot import batched_bandit in the copy {self.root}:\n{done.stderr[-2000:]}")
        imported = done.stdout.splitlines()[0]
        if not Path(imported).is_relative_to(self.root.resolve()):
            raise RuntimeError(f"the copy imports batched_bandit from {imported}, not from {self.root}")
        return done.stdout


def run_tests(
    python: str, root: Path, env: dict, tests: Sequence[str], timeout: float
) -> tuple[int | None, str, float, bool]:
    """pytest on ``tests`` in ``root``; (returncode, output, seconds, timed out). Kills the whole
    process group (pytest and what it started) on timeout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, *PYTEST_ARGS, *tests],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    with _live_lock:
        _live.add(proc)
    try:
        output, _ = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        timed_out = True
    finally:
        if proc.poll() is None:  # interrupted (KeyboardInterrupt): leave nothing running
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        with _live_lock:
            _live.discard(proc)
    return proc.returncode, output or "", time.perf_counter() - start, timed_out


_live: set[subprocess.Popen] = set()  # pytest runs in progress, for an interrupted run to stop
_live_lock = threading.Lock()


def _kill_live_runs() -> None:
    with _live_lock:
        for proc in _live:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)


FAILED_LINE = re.compile(r"^(FAILED|ERROR) (\S+)", re.MULTILINE)
SELECTION_ERROR = re.compile(r"^ERROR: (file or directory not found|not found|found no collectors)", re.MULTILINE)
CONFTEST_ERROR = re.compile(r"^ImportError while loading conftest .*$", re.MULTILINE)


def verdict(returncode: int | None, output: str, timed_out: bool) -> tuple[str, str | None]:
    """(status, what killed it) from a pytest run of a mutant."""
    if timed_out:
        return TIMEOUT, "timeout"
    if returncode == 0:
        return SURVIVED, None
    if returncode is not None and returncode < 0:
        return KILLED, f"pytest crashed (signal {-returncode})"
    if returncode == 5 or (returncode == 4 and SELECTION_ERROR.search(output)):
        return ERROR, f"pytest exit status {returncode}: the selection matches no test"
    failed = FAILED_LINE.search(output)
    if failed:  # 1: tests failed; 2: interrupted by a collection error (-x)
        return KILLED, f"{failed.group(1)} {failed.group(2)}"
    conftest = CONFTEST_ERROR.search(output)  # 4 with a traceback: conftest.py no longer imports
    return KILLED, f"pytest exit status {returncode}" + (f" ({conftest.group(0).strip()})" if conftest else "")


def apply_and_test(mutant: Mutant, ws: Workspace, timeout: float) -> Result:
    """Apply ``mutant`` in the workspace, run its tests, restore the file (always)."""
    result = Result(mutant.id, mutant.file, mutant.description, list(mutant.tests), STALE, equivalent=mutant.equivalent)
    stale = staleness(mutant, ws.root)
    if stale is not None:
        result.detail = stale
        return result
    path = ws.root / mutant.file
    original = path.read_bytes()
    text = original.decode()
    kernels_before = ws.kernels()
    try:
        path.write_text(text.replace(mutant.original, mutant.replacement, 1))
        code, output, seconds, timed_out = run_tests(ws.python, ws.root, ws.env(), mutant.tests, timeout)
    finally:
        path.write_bytes(original)
        built = sorted(ws.kernels() - kernels_before)
        for name in built:  # the mutated kernel: never reused, never kept
            (ws.cache / name).unlink(missing_ok=True)
    if path.read_bytes() != original:
        raise RuntimeError(f"{mutant.file} was not restored in {ws.root}")
    result.status, result.killed_by = verdict(code, output, timed_out)
    result.returncode, result.seconds = code, round(seconds, 2)
    result.detail = "\n".join(output.strip().splitlines()[-15:])
    if mutant.file.endswith(".c"):
        result.kernel = built  # empty: the mutated source never compiled (a compile error) or was never loaded
    return result


def run_mutants(
    mutants: Sequence[Mutant],
    *,
    repo: Path = REPO,
    jobs: int = 2,
    timeout: float = 600.0,
    python: str = sys.executable,
    check_equivalent: bool = False,
    baseline: bool = True,
    keep: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> Summary:
    """Run ``mutants`` against copies of ``repo``; returns the Summary (results in list order)."""
    start = time.perf_counter()
    check_list(mutants)
    results: dict[str, Result] = {}
    todo = []
    for m in mutants:
        stale = staleness(m, repo)
        if stale is not None:
            results[m.id] = Result(m.id, m.file, m.description, list(m.tests), STALE, detail=stale)
        elif m.equivalent is not None and not check_equivalent:
            results[m.id] = Result(m.id, m.file, m.description, list(m.tests), EQUIVALENT, equivalent=m.equivalent)
        else:
            todo.append(m)
    parent = Path(tempfile.mkdtemp(prefix="mutate-"))
    try:
        n_jobs = max(1, min(jobs, len(todo))) if todo else 0
        workspaces = [Workspace(repo, parent, i, python) for i in range(n_jobs)]
        for ws in workspaces:
            ws.prepare()
        if baseline and todo:
            _baseline(workspaces[0], todo, timeout, log)
        free: queue.Queue[Workspace] = queue.Queue()
        for ws in workspaces:
            free.put(ws)
        lock, done, stop = threading.Lock(), [0], threading.Event()

        def one(m: Mutant) -> Result | None:
            if stop.is_set():
                return None
            ws = free.get()
            try:
                result = apply_and_test(m, ws, timeout)
            finally:
                free.put(ws)
            if m.equivalent is not None:
                result.observed = result.status if result.status != KILLED else f"killed by {result.killed_by}"
                result.status = EQUIVALENT
            with lock:
                done[0] += 1
                how = f" by {result.killed_by}" if result.status == KILLED else ""
                log(f"[{done[0]}/{len(todo)}] {m.id}: {result.status}{how} ({result.seconds:.1f} s)")
            return result

        if todo:
            pool = ThreadPoolExecutor(n_jobs)
            try:
                for result in pool.map(one, todo):
                    results[result.id] = result
            except BaseException:  # Ctrl-C, SIGTERM: stop the runs in progress, start no other
                stop.set()
                _kill_live_runs()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown()
    finally:
        if keep:
            log(f"copies kept in {parent}")
        else:
            shutil.rmtree(parent, ignore_errors=True)
    ordered = [results[m.id] for m in mutants]
    return Summary(ordered, time.perf_counter() - start)


def _baseline(ws: Workspace, todo: Sequence[Mutant], timeout: float, log) -> None:
    """The union of the selections must pass on the unmutated code, or every verdict is void."""
    selections = {m.tests for m in todo}
    args = [] if () in selections else list(dict.fromkeys(a for s in selections for a in s))
    args = [a for a in args if a.split("::")[0] == a or a.split("::")[0] not in args]  # node ids of listed files
    # selections with options (-k ...) cannot be merged: run each
    runs = [list(s) for s in selections] if any(a.startswith("-") for a in args) else [args]
    for tests in runs:
        log(f"baseline: pytest {' '.join(tests) or '(default suite)'}")
        code, output, seconds, timed_out = run_tests(ws.python, ws.root, ws.env(), tests, timeout)
        if code != 0 or timed_out:
            tail = "\n".join(output.strip().splitlines()[-20:])
            raise RuntimeError(f"the unmutated code fails its tests ({tests}); nothing can be measured:\n{tail}")
        log(f"baseline passed ({seconds:.0f} s)")


# --- command line --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/mutate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants (and stale ones) and exit")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once, each in its own copy (default 2)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant (default 600)")
    parser.add_argument("--json", metavar="PATH", help="write the per-mutant results here")
    parser.add_argument("--mutants", default=str(DEFAULT_MUTANTS), help="the mutant module (default tools/mutants.py)")
    parser.add_argument("--repo", default=str(REPO), help="the repository to mutate (default: this one)")
    parser.add_argument("--python", default=sys.executable, help="interpreter running pytest (default: this one)")
    parser.add_argument("--check-equivalent", action="store_true", help="run the equivalent mutants too")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run of the unmutated selections")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies")
    parser.add_argument("--allow-stale", action="store_true", help="run although the list does not fit the tree")
    args = parser.parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if in_main_thread else None
    try:  # kill -TERM stops cleanly, as Ctrl-C does: runs in progress killed, copies removed
        return _main(args, parser, argv)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _main(args, parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    repo = Path(args.repo).resolve()
    mutants = everything = load_mutants(args.mutants)
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in mutants})
        if unknown:
            parser.error(f"unknown mutant ids: {', '.join(unknown)}")
        mutants = [m for m in mutants if m.id in args.only]
    problems = list_problems(mutants, repo) + unmutated_modules(everything, repo)
    if args.list:
        for m in mutants:
            stale = staleness(m, repo)
            mark = f"STALE ({stale})" if stale else ("equivalent" if m.equivalent else "")
            print(f"{m.id:28} {m.file:40} {mark}\n    {m.description}\n    tests: {' '.join(m.tests) or '(default)'}")
        n_stale = sum(staleness(m, repo) is not None for m in mutants)
        print(f"{len(mutants)} mutants, {n_stale} stale, {sum(m.equivalent is not None for m in mutants)} equivalent")
        for problem in problems:
            print(f"  {problem}")
        return 1 if problems else 0
    if problems and not args.allow_stale:  # the code moved on: the list is updated before it is measured
        print(f"the mutant list does not fit {repo} (update {args.mutants}, or --allow-stale):", file=sys.stderr)
        print("\n".join(f"  {p}" for p in problems), file=sys.stderr)
        return 1
    summary = run_mutants(
        mutants,
        repo=repo,
        jobs=args.jobs,
        timeout=args.timeout,
        python=args.python,
        check_equivalent=args.check_equivalent,
        baseline=not args.no_baseline,
        keep=args.keep,
    )
    summary.extra = {
        "command": ["python", "tools/mutate.py", *(sys.argv[1:] if argv is None else argv)],
        "commit": _commit(repo),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "jobs": args.jobs,
        "timeout_s": args.timeout,
    }
    print(summary.text())
    if args.json:
        Path(args.json).write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
    return 0


def _commit(repo: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
