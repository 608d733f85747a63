import json
import subprocess
import sys

from conftest import TextSink

from batched_bandit import run_batch


def cli(*args):
    return subprocess.run([sys.executable, "-m", "batched_bandit.cli", *args], capture_output=True, text=True)


def test_cli_json_equals_run_batch():
    args = [
        "run",
        "--n-bandits",
        "300",
        "--episodes",
        "2",
        "--steps",
        "100",
        "--temperature",
        "0.1",
        "--lr",
        "0.02",
        "--arms",
        "0.3,-0.5,0",
        "--seed",
        "9",
        "--json",
    ]
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected = run_batch(
        300, arms=(0.3, -0.5, 0.0), temperature=0.1, lr=0.02, n_episodes=2, steps_per_episode=100, seed=9
    )
    assert out["successes"] == expected.n_successes
    assert out["success_ci_low"] == expected.success_ci[0]
    assert out["arms"] == [0.3, -0.5, 0.0] and out["backend"] == expected.backend


def test_cli_summary_for_one_bandit():
    done = cli("run", "--n-bandits", "1", "--episodes", "2", "--steps", "50")
    assert done.returncode == 0, done.stderr
    assert "Episode 2: Total reward" in done.stdout and "is the most promising" in done.stdout


def test_cli_progress_goes_to_stderr(monkeypatch):
    from batched_bandit.cli import Progress

    sink = TextSink()
    progress = Progress(stream=sink, delay=0.0, every=0.0)
    progress(50, 100)
    progress(100, 100)
    assert len(sink) == 2 and "50.0%" in sink[0] and "100.0%" in sink[1]


def test_cli_bad_input_exits_2_without_traceback():
    for args in (
        ["--temperature", "0"],
        ["--arms", "1"],
        ["--n-bandits", "0"],
        ["--device", "cuda:7"],
        ["--backend", "nope"],
        ["--arms", "a,b"],
    ):
        done = cli("run", *args)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr and "error" in done.stderr, done.stderr
        assert done.stdout == ""
