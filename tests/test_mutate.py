"""The mutation harness (tools/mutate.py) on a tiny fixture repository: no engine, a few seconds."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # the harness only: tools/mutants.py is checked by tools/mutate.py itself

import mutate  # noqa: E402
from mutate import Mutant  # noqa: E402

OPS = "def add(a, b):\n    return a + b\n\n\ndef is_small(x):\n    return x < 10\n"
TESTS = (
    "from calc.ops import add, is_small\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_is_small():\n    assert is_small(3) and not is_small(30)\n"
)
FILE = "calc/ops.py"
KILLED = Mutant("add-minus", FILE, "return a + b", "return a - b", "subtraction for addition")
SURVIVES = Mutant("small-le", FILE, "return x < 10", "return x <= 10", "boundary: 10 counts as small")
STALE = Mutant("gone", FILE, "return a * b", "return a / b", "the code moved on")
AMBIGUOUS = Mutant("twice", FILE, "    return ", "    return -", "a snippet that occurs twice")
EQUIVALENT = Mutant("commute", FILE, "return a + b", "return b + a", "operands swapped", equivalent="+ commutes")


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text("")
    (root / FILE).write_text(OPS)
    (root / "tests").mkdir()
    (root / "tests" / "test_ops.py").write_text(TESTS)
    (root / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    return root


def test_killed_survived_stale_and_equivalent(repo):
    log = []
    summary = mutate.run_mutants(
        [KILLED, SURVIVES, STALE, AMBIGUOUS, EQUIVALENT], repo=repo, jobs=2, timeout=120, log=log.append
    )
    status = {r.id: r.status for r in summary.results}
    assert status == {"add-minus": "killed", "small-le": "survived", "gone": "stale", "twice": "stale",
                      "commute": "equivalent"}  # fmt: skip
    killed = summary.results[0]
    assert killed.killed_by == "FAILED tests/test_ops.py::test_add" and killed.returncode == 1
    assert summary.results[2].detail == f"snippet not found in {FILE}"
    assert "occurs 2 times" in summary.results[3].detail
    assert summary.killed == 1 and summary.scored == 2 and summary.rate == 0.5
    text = summary.text()
    assert "kill rate (non-equivalent, non-stale): 1/2 = 50.0%" in text
    assert "small-le (calc/ops.py): boundary: 10 counts as small" in text
    assert "commute (calc/ops.py): + commutes" in text
    assert any(line.startswith("baseline passed") for line in log)
    assert (repo / FILE).read_text() == OPS  # the repository itself is never touched


def test_a_timeout_counts_as_killed(repo):
    hang = Mutant("hang", FILE, "return a + b", "while True:\n        pass", "an endless loop")
    summary = mutate.run_mutants([hang], repo=repo, jobs=1, timeout=3, baseline=False, log=lambda _: None)
    assert summary.results[0].status == "timeout" and summary.killed == 1 and summary.rate == 1.0
    assert "killed by timeout:\n  hang" in summary.text()


def test_the_file_is_restored_when_the_run_fails(repo, tmp_path, monkeypatch):
    ws = mutate.Workspace(repo, tmp_path / "copies", 0, sys.executable)

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mutate, "run_tests", broken)
    with pytest.raises(KeyboardInterrupt):
        mutate.apply_and_test(KILLED, ws, timeout=10)
    assert (ws.root / FILE).read_text() == OPS


def test_a_failing_baseline_stops_the_run(repo):
    (repo / "tests" / "test_ops.py").write_text(TESTS.replace("== 5", "== 6"))
    with pytest.raises(RuntimeError, match="the unmutated code fails its tests"):
        mutate.run_mutants([SURVIVES], repo=repo, jobs=1, timeout=120, log=lambda _: None)


def test_verdicts():
    assert mutate.verdict(0, "", False) == ("survived", None)
    assert mutate.verdict(1, "FAILED tests/t.py::test_x - assert 1\n", False) == ("killed", "FAILED tests/t.py::test_x")
    assert mutate.verdict(2, "ERROR tests/t.py - SyntaxError\n", False) == ("killed", "ERROR tests/t.py")
    assert mutate.verdict(-11, "", False) == ("killed", "pytest crashed (signal 11)")
    assert mutate.verdict(None, "", True) == ("timeout", "timeout")
    conftest = "ImportError while loading conftest '/x/tests/conftest.py'.\n"
    assert mutate.verdict(4, conftest, False) == ("killed", f"pytest exit status 4 ({conftest.strip()})")
    assert mutate.verdict(4, "ERROR: file or directory not found: tests/x.py\n", False)[0] == "error"  # bad selection
    assert mutate.verdict(4, "ERROR: not found: /r/tests/t.py::test_zz\n", False)[0] == "error"
    assert mutate.verdict(5, "no tests ran", False)[0] == "error"


def test_command_line_list_only_and_json(repo, tmp_path, capsys):
    mutants_file = tmp_path / "my_mutants.py"
    mutants_file.write_text(f"from mutate import Mutant\n\nMUTANTS = [{KILLED!r}, {SURVIVES!r}, {STALE!r}]\n")
    common = ["--repo", str(repo), "--mutants", str(mutants_file)]
    assert mutate.main(["--list", *common]) == 1  # a stale mutant: the list needs updating
    out = capsys.readouterr().out
    assert "3 mutants, 1 stale, 0 equivalent" in out and "STALE (snippet not found" in out
    report = tmp_path / "out.json"
    run = ["--only", "add-minus", "gone", "--jobs", "1", "--json", str(report), *common]
    assert mutate.main(run) == 1 and not report.exists()  # a stale list is not measured...
    assert "gone: snippet not found in calc/ops.py" in capsys.readouterr().err
    assert mutate.main(["--allow-stale", *run]) == 0  # ...unless asked: the stale one is reported, not run
    data = json.loads(report.read_text())
    assert [(r["id"], r["status"]) for r in data["results"]] == [("add-minus", "killed"), ("gone", "stale")]
    assert data["kill_rate"] == 1.0 and data["total"] == 2 and data["stale"] == 1
    with pytest.raises(SystemExit):
        mutate.main(["--only", "nope", *common])
    with pytest.raises(ValueError, match="used twice"):
        mutate.check_list([KILLED, KILLED])


def test_the_list_must_fit_the_tree(repo):
    """Stale snippets, selections of missing test files and unmutated modules of the package."""
    missing = Mutant("no-tests", FILE, "return a + b", "return a - b", "x", ("tests/test_gone.py::test_x",))
    assert mutate.list_problems([KILLED, STALE, missing], repo) == [
        f"gone: snippet not found in {FILE}",
        "no-tests: its tests name tests/test_gone.py::test_x, which does not exist",
    ]
    (repo / "batched_bandit" / "engines").mkdir(parents=True)
    for name in ("__init__.py", "state.py", "run.py", "engines/kernel.c", "README.md"):
        (repo / "batched_bandit" / name).write_text("")
    ran = Mutant("r", "batched_bandit/run.py", "a", "b", "x")
    assert mutate.unmutated_modules([ran], repo) == ["batched_bandit/engines/kernel.c: no mutant"]


def test_sigterm_stops_the_runs_and_removes_the_copies(repo, tmp_path):
    pid_file = tmp_path / "pytest.pid"
    hang = f"import os, time\n    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n    time.sleep(120)"
    mutants_file = tmp_path / "hang_mutants.py"
    mutants_file.write_text(
        f"from mutate import Mutant\n\nMUTANTS = [Mutant('hang', {FILE!r}, 'return a + b', {hang!r}, 'sleeps')]\n"
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    args = ["--repo", str(repo), "--mutants", str(mutants_file), "--no-baseline", "--jobs", "1"]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "mutate.py"), *args],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid_file.exists(), "the mutant never ran"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    with pytest.raises(ProcessLookupError):  # the test process of the mutant was killed
        os.kill(int(pid_file.read_text()), 0)
    assert list(scratch.iterdir()) == []  # the copies are gone
    assert (repo / FILE).read_text() == OPS


def test_the_copy_keeps_a_package_folder_named_like_an_ignored_output_folder(tmp_path):
    """/study/ (sweep outputs) is left out of a copy at the top only: batched_bandit/study is code.
    (A copy without it still imported, from the editable install: the study mutants ran unmutated.)"""
    root = tmp_path / "repo"
    for folder in ("study/out", "pkg/study", "pkg/__pycache__"):
        (root / folder).mkdir(parents=True)
        (root / folder / "x.py").write_text("")
    mutate.shutil.copytree(root, tmp_path / "copy", ignore=mutate._ignore(root))
    copied = {p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*.py")}
    assert copied == {"pkg/study/x.py"}
