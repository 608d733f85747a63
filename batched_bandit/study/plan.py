"""The task plan: what to compute next, as a pure function of what the store has committed.

A task is (a group of settings that share a batch, a block of bandit ids). Blocks have a fixed
size (``block_bandits``, part of the study's spec, never the number of workers): block ``b`` is
bandits ``b * block_bandits ..`` of every setting in it, so a setting's bandits are always the
random streams 0..n-1, exactly the bandits of ``run_batch(n, seed=seed)``.

With a fixed ``n_bandits`` the plan is one stage of every task. With a target ``precision`` the
plan goes in stages (python-adaptive's learner, made deterministic): stage 0 gives every setting
``n_bandits``; when every task of a stage is committed, each setting's next target is computed
from its own committed blocks alone — enough blocks for the 95% Wilson half-width to reach the
target at the current success rate, at most ``max_bandits`` — and the next stage holds the blocks
up to it. Decisions read only committed blocks, in block order, and wait for whole stages, so the
counts do not depend on the executor, the order of completion or interruptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..stats import wilson_interval

TASK_ELEMENTS = 2**25  # bandits x episodes x arms of one task's per-arm sums (int32: 128 MiB)


@dataclass(frozen=True)
class Task:
    """Settings of one group, one block of bandits."""

    key: str  # "b<block>:s<settings as ranges>", unique in the study (the store's primary key)
    stage: int
    group: int
    block: int
    settings: tuple[int, ...]  # indices into the grid, ascending


@dataclass(frozen=True)
class Plan:
    """The study's tasks, stage by stage. ``groups``: setting indices per batch group, in grid order;
    ``episodes_x_arms``: E x K per group, plus the trace's share (task.per_bandit_elements: sizes a task)."""

    groups: tuple[tuple[int, ...], ...]
    episodes_x_arms: tuple[int, ...]
    n_bandits: int
    block_bandits: int
    precision: float | None = None
    max_bandits: int | None = None

    @property
    def cap(self) -> int:
        """The most bandits a setting can get."""
        return self.n_bandits if self.precision is None else self.max_bandits

    def bandits(self, block: int) -> tuple[int, int]:
        """Bandit ids [lo, hi) of a block (the last one may be short)."""
        lo = block * self.block_bandits
        return lo, min(lo + self.block_bandits, self.cap)

    def n_blocks(self, n: int) -> int:
        return -(-min(n, self.cap) // self.block_bandits)

    def settings_per_task(self, group: int) -> int:
        return max(1, TASK_ELEMENTS // (self.block_bandits * self.episodes_x_arms[group]))

    def next_stage(self, committed: Mapping[tuple[int, int], tuple[int, int]]) -> list[Task]:
        """The tasks of the first stage not yet wholly committed (only the missing ones), or []
        when the study is done. ``committed``: (setting, block) -> (n, successes)."""
        targets = {s: self.n_blocks(self.n_bandits) for g in self.groups for s in g}
        done = dict.fromkeys(targets, 0)
        stage = 0
        while True:
            tasks = self._tasks(stage, done, targets)
            missing = [t for t in tasks if any((s, t.block) not in committed for s in t.settings)]
            if missing:
                return missing
            if self.precision is None:
                return []
            done, targets = targets, {s: self._target(s, n, committed) for s, n in targets.items()}
            if targets == done:
                return []
            stage += 1

    def _tasks(self, stage: int, done: dict[int, int], targets: dict[int, int]) -> list[Task]:
        """Blocks done[s] .. targets[s] - 1 of every setting, bundled per group and block."""
        tasks = []
        for g, settings in enumerate(self.groups):
            blocks = sorted({b for s in settings for b in range(done[s], targets[s])})
            size = self.settings_per_task(g)
            for b in blocks:
                needing = [s for s in settings if done[s] <= b < targets[s]]
                for lo in range(0, len(needing), size):
                    chunk = tuple(needing[lo : lo + size])
                    tasks.append(Task(f"b{b}:s{ranges(chunk)}", stage, g, b, chunk))
        return tasks

    def _target(self, setting: int, n_blocks: int, committed) -> int:
        """Blocks the setting needs, judged on its first ``n_blocks`` blocks (all committed)."""
        n = sum(committed[setting, b][0] for b in range(n_blocks))
        successes = sum(committed[setting, b][1] for b in range(n_blocks))
        if n >= self.cap or half_width(successes, n) <= self.precision:
            return n_blocks
        needed = bandits_for(successes / n, self.precision, self.cap)
        return min(self.n_blocks(self.cap), max(n_blocks + 1, self.n_blocks(needed)))


def half_width(successes: float, n: int) -> float:
    """Half the width of the 95% Wilson interval."""
    low, high = wilson_interval(successes, n)
    return (high - low) / 2


def bandits_for(rate: float, precision: float, cap: int) -> int:
    """The fewest bandits whose Wilson half-width at this success rate is <= precision (at most cap)."""
    if half_width(rate * cap, cap) > precision:
        return cap
    low, high = 1, cap  # half_width(rate * n, n) falls as n grows
    while low < high:
        mid = (low + high) // 2
        if half_width(rate * mid, mid) <= precision:
            high = mid
        else:
            low = mid + 1
    return low


def ranges(values: Sequence[int]) -> str:
    """(0, 1, 2, 5, 7, 8) -> "0-2,5,7-8"."""
    parts, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ",".join(parts)
