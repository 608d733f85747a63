"""Stopping, in real processes: SIGTERM ends a run or a sweep as Ctrl-C does (one line, status 143,
the sweep continues when run again), Ctrl-C under Dask prints no worker's traceback, and Ctrl-C
stops the mean field's C loop within a second. Every wait is bounded."""

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch

from batched_bandit import sweep
from batched_bandit.engines import cpu_engine
from batched_bandit.study import InProcess

COMMAND = [sys.executable, "-m", "batched_bandit.cli"]


class Process:
    """A command in its own session, its stderr read line by line as it comes."""

    def __init__(self, args, **kwargs):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True, **kwargs)  # fmt: skip
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for_line(self, text, timeout):
        """Stderr up to the first line containing ``text`` (a progress line: the work has started)."""
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if text in line:
                return seen
        self.kill()
        pytest.fail(f"no line with {text!r} within {timeout} s; stderr: {seen}")

    def finish(self, timeout):
        """(status, the rest of stderr, seconds to exit), killing the process group if it outlives ``timeout``."""
        start = time.monotonic()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running {timeout} s after the signal")
        elapsed = time.monotonic() - start
        rest = []
        while (line := self.lines.get(timeout=5)) is not None:
            rest.append(line)
        return self.proc.returncode, rest, elapsed

    def session(self):
        """The processes of its session: itself and whatever it started (Dask workers, a fork server)."""
        pids = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == self.proc.pid:  # field 6 of stat: the session id
                pids.append(int(entry))
        return pids

    def kill(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def progress_lines(lines):
    return [line for line in lines if "bandit-steps" in line]


def test_sigterm_ends_a_run_like_ctrl_c_in_one_line():
    run = Process([*COMMAND, "run", "--n-bandits", "2000", "--episodes", "2", "--steps", "1000000"])
    run.wait_for_line("bandit-steps", timeout=60)  # the engine is running (4e9 bandit-steps: minutes of work)
    run.proc.send_signal(signal.SIGTERM)
    status, rest, elapsed = run.finish(timeout=10)
    assert status == 143 and [line for line in rest if line not in progress_lines(rest)] == ["terminated"]
    assert elapsed < 2.0  # the fused kernel's cancel flag stops it between two progress reports


class Planned(Exception):
    """Raised by Recorder once it has seen the tasks a sweep would run."""


class Recorder(InProcess):
    """Records the jobs it is given and stops the sweep there (nothing runs)."""

    def __init__(self):
        super().__init__()
        self.jobs = []

    def run(self, jobs, on_result, on_steps=None):
        self.jobs += jobs
        raise Planned


def test_sigterm_ends_a_sweep_which_then_continues(tmp_path):
    out = tmp_path / "study"
    # two groups: 1,000-step episodes (done in milliseconds), then 300,000-step ones (seconds)
    axes = dict(temperature=[1.0, 2.0], steps_per_episode=[1000, 300_000], n_bandits=1024, block_bandits=256,
                n_episodes=2)  # fmt: skip
    args = ["--temperature", "1,2", "--steps", "1000,300000", "--n-bandits", "1024", "--block-bandits", "256",
            "--episodes", "2", "--no-figures"]  # fmt: skip
    first = Process([*COMMAND, "sweep", "--out", str(out), *args])
    first.wait_for_line("bandit-steps", timeout=60)
    first.proc.send_signal(signal.SIGTERM)
    status, rest, _ = first.finish(timeout=20)
    assert status == 143
    assert [line for line in rest if line not in progress_lines(rest)] == [
        f"terminated; finished work is saved in {out}; run the same command again to continue"
    ]
    again = Recorder()  # the same study again: only the long episodes' tasks are left
    with pytest.raises(Planned):
        sweep(out, **axes, executor=again)
    assert again.jobs and {job.steps_per_episode for job in again.jobs} == {300_000}


@pytest.mark.skipif(cpu_engine.unavailable_reason(torch.device("cpu")) is not None, reason="no C compiler")
def test_ctrl_c_stops_the_mean_fields_c_loop_within_a_second():
    script = (
        "import time, numpy as np\n"
        "from batched_bandit.engines.cpu_engine import mean_field_loop\n"
        "from batched_bandit.meanfield import mean_field_p_best\n"
        "mean_field_p_best(np.array([[0.0, 1.0]]), np.array([1]), np.array([1.0]), np.array([0.1]), 1, 10,\n"
        "                  loop=mean_field_loop)\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    mean_field_p_best(np.array([[0.0, 1.0]]), np.array([1]), np.array([1.0]), np.array([0.1]), 1, 10**12,\n"
        "                      loop=mean_field_loop)\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped', flush=True)\n"
    )
    proc = Process([sys.executable, "-c", script])
    watchdog = threading.Timer(20, proc.kill)  # a loop deaf to Ctrl-C would block the readline below
    watchdog.start()
    try:
        assert proc.proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # inside the C loop: 10**12 steps, hours of work
        start = time.monotonic()
        proc.proc.send_signal(signal.SIGINT)
        stopped = proc.proc.stdout.readline().strip()  # the line is printed once the loop has returned
        elapsed = time.monotonic() - start
    finally:
        watchdog.cancel()
        proc.kill()
    assert stopped == "stopped" and elapsed < 1.0, (stopped, elapsed)


def test_ctrl_c_under_dask_prints_no_worker_traceback(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "study"
    args = ["--temperature", "1,2,3,4", "--n-bandits", "4096", "--episodes", "2", "--steps", "100000"]
    sweep = Process(
        [*COMMAND, "sweep", "--out", str(out), *args, "--dask-workers", "2", "--no-figures", "--no-progress"]
    )
    deadline = time.monotonic() + 60
    while len(sweep.session()) < 4 and time.monotonic() < deadline:  # the worker processes have started
        time.sleep(0.05)
    time.sleep(0.5)  # and are importing (where Ctrl-C gave each worker's traceback)
    os.killpg(sweep.proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: every process of the job
    status, rest, _ = sweep.finish(timeout=60)
    assert status == 130 and len(rest) == 1 and rest[0].startswith("interrupted"), rest


def test_the_command_line_restores_the_sigterm_handler(capsys):
    from batched_bandit.cli import main

    before = signal.getsignal(signal.SIGTERM)
    assert main(["run", "--n-bandits", "3", "--episodes", "1", "--steps", "5", "--no-progress"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
