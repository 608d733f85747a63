"""The grid: the product of the axes, crossed only where an axis applies; batches; checks."""

import time

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from batched_bandit import Setting, grid
from batched_bandit.random_arms import gap_arms, normal_arms, uniform_arms
from batched_bandit.study import axes
from batched_bandit.study.axes import batch_key, columns, grid_and_columns


def test_grid_is_the_sorted_product_with_batches_adjacent():
    arms_k3, arms_k4, arms_k3b = (0.2, 0.0, -1.0), (0.2, 0.0, -0.2, -1.0), (0.5, -0.5, 0.0)
    settings = grid(
        temperature=[10, 0.1, 1.0], lr=[0.1, 0.01], arms=[arms_k3, arms_k4, arms_k3b], n_episodes=[3, 2],
        steps_per_episode=40,
    )  # fmt: skip
    assert len(settings) == len(set(settings)) == 3 * 2 * 3 * 2
    expected = {
        Setting({"temperature": float(t), "lr": lr, "arms": a, "n_episodes": e, "steps_per_episode": 40})
        for t in (0.1, 1, 10) for lr in (0.01, 0.1) for a in (arms_k3, arms_k4, arms_k3b) for e in (2, 3)
    }  # fmt: skip
    assert set(settings) == expected
    keys = [batch_key(s) for s in settings]
    runs = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(runs) == len(set(keys)) == 4  # (episodes, K): one run of adjacent settings per key
    first = [s for s in settings if (s.n_episodes, s.n_arms) == (2, 3)]
    assert [(s.arms, s.lr, s.temperature) for s in first] == [
        (a, lr, t) for a in (arms_k3, arms_k3b) for lr in (0.01, 0.1) for t in (0.1, 1.0, 10.0)
    ]  # arms, then lr, then temperature innermost; numeric axes ascending
    assert settings[0].lr_over_t2 == 0.01 / 0.1**2 and settings[0]["lr"] == settings[0].lr


def test_grid_takes_numbers_arrays_and_tensors():
    (one,) = grid(temperature=2, lr=0.5, arms=(0.1, -0.1), n_episodes=3, steps_per_episode=7)
    assert dict(one) == {"n_episodes": 3, "steps_per_episode": 7, "arms": (0.1, -0.1), "lr": 0.5, "temperature": 2.0}
    many = grid(
        temperature=np.geomspace(0.01, 100, 5), lr=torch.tensor([0.02, 0.01]),
        arms=torch.tensor([[0.0, 1.0], [1.0, 0.0]]), n_episodes=np.array([4]), steps_per_episode=range(1, 3),
    )  # fmt: skip
    assert sorted({s.temperature for s in many}) == pytest.approx([0.01, 0.1, 1, 10, 100])
    assert {s.arms for s in many} == {(0.0, 1.0), (1.0, 0.0)} and len(many) == 5 * 2 * 2 * 2


def test_axes_are_crossed_only_where_they_apply():
    """momentum is an sgd/rmsprop option, betas adam's, the decay the EMA baseline's: an axis is not
    crossed with settings it does not apply to, and their column stays empty."""
    settings, given = grid_and_columns(
        optimizer=["sgd", "adam", "rmsprop"], momentum=[0.0, 0.9], beta1=[0.8, 0.9], alpha=[0.9, 0.99],
        baseline=["none", "ema"], baseline_decay=[0.5, 0.9], temperature=1.0,
    )  # fmt: skip
    per_optimizer = {"sgd": 2, "adam": 2, "rmsprop": 2 * 2}  # momentum; beta1; momentum x alpha
    assert len(settings) == sum(per_optimizer.values()) * (1 + 2)  # baseline none, or ema x 2 decays
    for s in settings:
        assert ("momentum" in s) == (s.optimizer != "adam")
        assert ("beta1" in s) == (s.optimizer == "adam") and ("alpha" in s) == (s.optimizer == "rmsprop")
        assert ("baseline_decay" in s) == (s.baseline == "ema")
    assert columns(given)[:5] == ["temperature", "lr", "arms", "n_episodes", "steps_per_episode"]
    assert set(columns(given)) >= {"optimizer", "momentum", "beta1", "alpha", "baseline", "baseline_decay"}
    adam = next(s for s in settings if s.optimizer == "adam" and s.baseline == "ema")
    assert adam.options() == {
        "arms": adam.arms, "optimizer": "adam", "lr": 0.01, "temperature": 1.0, "beta1": adam.beta1, "baseline": "ema",
        "baseline_decay": adam.baseline_decay,
    }  # fmt: skip


def test_settings_share_a_batch_only_with_the_same_rule_and_shape():
    """A momentum-0 setting keeps the seed's rule (and its fused engine), apart from momentum 0.9."""
    settings = grid(momentum=[0.0, 0.9], temperature=[1.0, 2.0], arms=[(0.0, 1.0), (1.0, 0.0), (0.0, 1.0, 2.0)])
    keys = {batch_key(s) for s in settings}
    assert len(keys) == 2 * 2  # momentum on/off x K = 2, 3
    rules = {k[0] for k in keys}
    assert {r.momentum for r in rules} == {False, True} and any(r.is_seed for r in rules)


def test_random_problems_are_an_arms_value():
    settings = grid(arms=[normal_arms(3), (0.2, 0.0, -1.0)], temperature=[1.0, 2.0])
    assert [s.arms for s in settings] == [normal_arms(3)] * 2 + [(0.2, 0.0, -1.0)] * 2
    assert settings[0].n_arms == 3 and len({batch_key(s) for s in settings}) == 1


BAD_GRID = [
    (dict(temperature=[]), "temperature: the axis is empty"),
    (dict(temperature=[1.0, 0.0]), r"temperature must be finite and > 0, got 0.0 \(axis entry 1\)"),
    (dict(temperature=float("inf")), "temperature must be finite"),
    (dict(temperature="1,2"), "temperature must be a value or a sequence of values"),
    (dict(temperature=[1, "2"]), "temperature values must be numbers"),
    (dict(temperature=[True]), "temperature values must be numbers"),
    (dict(temperature=[1.0, 2.0, 1.0]), "temperature: the value 1.0 is given twice"),
    (dict(lr=[float("nan")]), "lr must be finite and > 0"),
    (dict(n_episodes=[2, 2.5]), "n_episodes must be an integer >= 1, got 2.5"),
    (dict(steps_per_episode=-5), "steps_per_episode must be an integer >= 1"),
    (dict(arms=[]), "arms must have at least 2 arms"),
    (dict(arms=[[0.1, 0.2], [0.3]]), "arms must have at least 2 arms"),
    (dict(arms="abc"), "arms must be a sequence of numbers or a tensor"),
    (dict(arms=[[0.1, 0.2], [0.1, 0.2]]), r"arms: the value \(0.1, 0.2\) is given twice"),
    (dict(arms=torch.zeros(2, 2, 2)), r"arms: each arm vector must be one-dimensional"),
    (dict(arms=(0.1, 0.2), means=(0.1, 0.2)), "give one reward model axis"),
    (dict(optimizer=["sgd", "lion"]), "optimizer must be one of 'sgd', 'adam', 'rmsprop', got 'lion'"),
    (dict(momentum=[0.5, 1.0]), r"momentum must be in \[0, 1\), got 1.0 \(axis entry 1\)"),
    (dict(baseline="ema"), 'baseline "ema" needs a baseline_decay axis'),
    (dict(nesterov=True), r"nesterov requires momentum > 0 .* \(in the setting"),
    (dict(win_prob=[(0.5, 1.5)]), "win_prob must be probabilities in"),
    (dict(temperature_=1.0), "unknown sweep axis 'temperature_'"),
    # an option that no setting of the grid uses (it stored a spec it could not read back)
    (dict(optimizer="sgd", beta2=0.99), r"beta2 applies only with optimizer adam, .* \(optimizer 'sgd'\)"),
    (dict(baseline_decay=0.9), "baseline_decay applies only with baseline ema"),
    (dict(betas=[(0.9, 0.99), (0.8, 0.99)]), "betas must be a pair .* to sweep them, give beta1 and beta2 as axes"),
    # issue 15: random problems whose draws leave the model's range, grids and axes beyond a study's size
    (dict(win_prob=[normal_arms(4, 0.5, 0.15)]), r"win_prob normal:4:0.5:0.15: its draws range over \[-0.731, 1.73\]"),
    (dict(win_prob=[uniform_arms(4, 0.0, 1.5)]), r"win_prob uniform:4:0.0:1.5: .* within \[0, 1\]"),
    (dict(win_prob=[gap_arms(4, 0.1, 0.6, 0.5)]), r"win_prob gaps:4:0.1:0.6:0.5: its draws range over \[-0.1, 0.5\]"),
    (dict(means=[normal_arms(4, 0.0, 1e308)]), r"means normal:4:0.0:1e\+308: its draws range over \[-inf, inf\]"),
    (dict(arms=[uniform_arms(4, -1e308, 1e308)]), r"arms uniform:4:.*must be finite"),
    (
        dict(temperature=np.geomspace(0.01, 100, 1000), lr=np.geomspace(1e-3, 1, 1000)),
        r"the grid has 1,000,000 settings \(1,000 lr x 1,000 temperature\); a study holds at most 100,000: split it",
    ),
    (dict(temperature=np.geomspace(0.01, 100, 100_001)), "temperature: 100,001 values; a study holds at most 100,000"),
    (dict(arms=np.zeros((100_001, 2))), "arms: 100,001 values; a study holds at most 100,000"),
]


@pytest.mark.parametrize("kwargs, message", BAD_GRID)
def test_bad_axes_are_refused(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        grid(**kwargs)


def test_a_grid_too_large_is_refused_at_once():
    """10**6 settings: counted, not made (making and checking them took 25 minutes, or ran out of memory)."""
    start = time.perf_counter()
    with pytest.raises(ValueError, match="the grid has 1,000,000,000 settings"):
        grid(
            temperature=np.geomspace(0.01, 100, 1000),
            lr=np.geomspace(1e-3, 1, 1000),
            momentum=np.linspace(0, 0.9, 1000),
        )
    assert time.perf_counter() - start < 1.0
    assert len(grid(temperature=np.geomspace(0.01, 100, 1000), lr=[0.1] * 1 + [0.2])) == 2000  # within: made


GRIDS = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.lists(st.sampled_from([0.5, 1.0, 2.0, 4.0]), min_size=1, max_size=4, unique=True),
        "optimizer": st.lists(st.sampled_from(["sgd", "adam", "rmsprop"]), min_size=1, max_size=3, unique=True),
        "baseline": st.lists(st.sampled_from(["none", "mean", "ema"]), min_size=1, max_size=3, unique=True),
        "momentum": st.lists(st.sampled_from([0.0, 0.5, 0.9]), min_size=1, max_size=3, unique=True),
        "beta1": st.lists(st.sampled_from([0.5, 0.9]), min_size=1, max_size=2, unique=True),
        "eps": st.lists(st.sampled_from([1e-8, 1e-6]), min_size=1, max_size=2, unique=True),
        "centered": st.lists(st.booleans(), min_size=1, max_size=2, unique=True),
        "reward_sd": st.lists(st.sampled_from([0.5, 1.0]), min_size=1, max_size=2, unique=True),
        "means": st.just([(0.0, 1.0), (0.5, 0.2, 0.1)]),
    },
)


@settings(max_examples=60, deadline=None)
@given(GRIDS)
def test_the_grid_size_is_counted_exactly_without_making_the_grid(axes_values):
    if "ema" in axes_values.get("baseline", ()):
        axes_values["baseline_decay"] = [0.5, 0.9]
    counted = []
    original = axes.grid_size
    try:
        axes.grid_size = lambda values, model: counted.append(original(values, model)) or counted[-1]
        made = grid(**axes_values)
    except ValueError as err:  # an option no setting uses (beta1 without adam): refused after counting
        assert "applies only with" in str(err)
        assume(False)
    finally:
        axes.grid_size = original
    assert counted == [len(made)]
