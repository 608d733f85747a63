"""The plan: fixed-size blocks, tasks from committed results only, precision stages."""

import random

import pytest

from batched_bandit.study.plan import TASK_ELEMENTS, Plan, bandits_for, half_width, ranges


def plan(**kwargs):
    defaults = dict(groups=((0, 1, 2), (3, 4)), episodes_x_arms=(8, 8), n_bandits=1000, block_bandits=300)
    return Plan(**{**defaults, **kwargs})


def commit_all(tasks, committed, rate, p):
    """Commit tasks as an executor would: (setting, block) -> (n, successes at rate[setting])."""
    for t in tasks:
        lo, hi = p.bandits(t.block)
        for s in t.settings:
            committed[s, t.block] = (hi - lo, round(rate[s] * (hi - lo)))


def test_fixed_n_is_one_stage_of_every_block():
    p = plan()
    tasks = p.next_stage({})
    assert [(t.block, t.settings) for t in tasks] == [(b, g) for g in ((0, 1, 2), (3, 4)) for b in range(4)]
    assert [p.bandits(b) for b in range(4)] == [(0, 300), (300, 600), (600, 900), (900, 1000)]
    assert len({t.key for t in tasks}) == len(tasks) and tasks[0].key == "b0:s0-2"
    committed = {}
    commit_all(tasks[:3], committed, dict.fromkeys(range(5), 0.5), p)
    assert p.next_stage(committed) == tasks[3:]  # only what is missing, whatever was committed before
    commit_all(tasks[3:], committed, dict.fromkeys(range(5), 0.5), p)
    assert p.next_stage(committed) == []


def test_tasks_are_cut_to_a_bounded_size():
    p = plan(groups=(tuple(range(50)),), episodes_x_arms=(TASK_ELEMENTS // 3000,), block_bandits=1000)
    tasks = p.next_stage({})
    assert p.settings_per_task(0) == 3 and [len(t.settings) for t in tasks[:17]] == [3] * 16 + [2]


def run_to_the_end(p, rate, order):
    """Drive the planner as sweep does, committing each stage's tasks in the given order."""
    committed, stages = {}, 0
    while tasks := p.next_stage(committed):
        stages += 1
        tasks = tasks[::-1] if order == "reverse" else random.Random(stages).sample(tasks, len(tasks))
        commit_all(tasks[: len(tasks) // 2], committed, rate, p)  # an interruption mid-stage
        commit_all(p.next_stage(committed), committed, rate, p)
    counts = {s: sum(n for (t, _), (n, _) in committed.items() if t == s) for s in rate}
    return counts, committed, stages


def test_precision_targets_each_setting_deterministically():
    rate = {0: 0.5, 1: 0.99, 2: 0.8, 3: 1.0, 4: 0.4}
    p = plan(precision=0.02, max_bandits=100_000, n_bandits=500, block_bandits=256)
    counts, committed, stages = run_to_the_end(p, rate, "reverse")
    assert (counts, stages) == run_to_the_end(p, rate, "shuffled")[::2]  # same counts whatever the order
    assert counts[0] > counts[2] > counts[1] >= counts[3] and counts[4] > counts[2]
    for s, n in counts.items():
        x = sum(c[1] for (t, _), c in committed.items() if t == s)
        assert half_width(x, n) <= 0.02
        assert n - 256 < bandits_for(x / n, 0.02, 100_000) or n == 512  # no more than a block past the need
    assert 2 <= stages <= 4
    capped, _, _ = run_to_the_end(plan(precision=0.001, max_bandits=3000, n_bandits=500, block_bandits=256), rate,
                                  "reverse")  # fmt: skip
    assert capped[0] == 3000  # the cap binds: the last block is short


def test_bandits_for_inverts_the_wilson_half_width():
    for rate in (0.0, 0.4, 0.5, 0.99, 1.0):
        n = bandits_for(rate, 0.005, 10**7)
        assert half_width(rate * n, n) <= 0.005 < half_width(rate * (n - 1), n - 1)
    assert bandits_for(0.5, 0.005, 10**7) == pytest.approx(0.25 * 1.96**2 / 0.005**2, rel=0.01)
    assert bandits_for(0.5, 0.005, 1000) == 1000


def test_ranges():
    assert ranges((0, 1, 2, 5, 7, 8)) == "0-2,5,7-8" and ranges((4,)) == "4"
