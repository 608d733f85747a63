"""Progress: tqdm's bar on a terminal, plain lines elsewhere, counts that agree after a resume."""

import io

import pytest

from batched_bandit import progress as progress_module
from batched_bandit import run_batch
from batched_bandit.progress import Bar


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", fake)
    return fake


def test_plain_lines_when_not_a_terminal(clock):
    stream = io.StringIO()
    bar = Bar(1_000_000, stream=stream, every=5.0)
    clock.now += 0.5
    bar.update(100_000)
    assert stream.getvalue() == ""  # nothing in the first second
    clock.now += 0.6
    bar.update(100_000)  # 1.1 s: the first line
    clock.now += 2.0
    bar.update(100_000)  # 3.1 s: within 5 s of the last line, silent
    clock.now += 3.0
    bar.update(100_000)  # 6.1 s: a second line
    bar.close()  # and the last
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all("\r" not in line for line in lines)
    assert lines[0].startswith("20%") and "200k/1.00M" in lines[0] and "bandit-steps/s" in lines[0]
    assert lines[1].startswith("40%") and lines[2].startswith("40%")


def test_the_finished_work_gets_one_line_not_two(clock):
    stream = io.StringIO()
    bar = Bar(1_000_000, stream=stream, every=5.0)
    clock.now += 2.0
    bar.update(1_000_000)  # all done, past the first second: the line is left to close()
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("100%")


def test_counts_and_percentage_agree_after_a_resume(clock):
    stream = io.StringIO()
    bar = Bar(1_000_000, initial=600_000, stream=stream)  # 60% done by an earlier call
    clock.now += 2.0
    bar.update(200_000)
    line = stream.getvalue()
    assert line.startswith("80%") and "800k/1.00M" in line
    assert "100k bandit-steps/s" in line  # this call's rate: 200k in 2 s, not (800k / 2 s)


def test_a_terminal_gets_tqdm_redrawn_in_place():
    stream = Terminal()
    with Bar(1000, stream=stream) as bar:
        bar.update(500)
        bar.update(500)
    text = stream.getvalue()
    assert "\r" in text and "1.00k/1.00k" in text and "100%" in text and text.endswith("\n")


def test_run_batch_progress_true_draws_the_bar(monkeypatch):
    stream = Terminal()
    monkeypatch.setattr(progress_module.sys, "stderr", stream)
    run_batch(20, n_episodes=2, steps_per_episode=10, progress=True)
    assert "400/400" in stream.getvalue()


def test_a_progress_that_is_not_callable_is_refused_before_work():
    with pytest.raises(TypeError, match="progress must be None, True, False or a callable"):
        run_batch(10**12, progress=5)  # refused before the memory check and any work
