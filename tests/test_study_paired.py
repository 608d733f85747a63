"""Paired comparisons from a study's per-bandit values: McNemar's counts for success, the paired t and
Wilcoxon tests for the other metrics, Holm, selectors, the CLI."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from batched_bandit import compare, run_batch, sweep
from batched_bandit.cli import main
from batched_bandit.stats import holm, mcnemar_exact
from batched_bandit.study import Study
from batched_bandit.study.selector import find_setting

AXES = dict(temperature=[0.05, 0.08, 0.1], lr=[0.01, 0.02], n_episodes=2, steps_per_episode=200)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    sweep(out, n_bandits=3000, seed=4, **AXES)
    return out


def verdicts(temperature, lr):
    return run_batch(3000, temperature=temperature, lr=lr, n_episodes=2, steps_per_episode=200, seed=4).success.numpy()


def test_counts_and_test_equal_a_direct_computation(study):
    result = compare(study, a=dict(temperature=0.08, lr=0.01), b=dict(temperature=0.05, lr=0.01))
    va, vb = verdicts(0.08, 0.01), verdicts(0.05, 0.01)
    assert result.n == 3000 and (result.both, result.only_a) == (int(np.sum(va & vb)), int(np.sum(va & ~vb)))
    assert (result.only_b, result.neither) == (int(np.sum(~va & vb)), int(np.sum(~va & ~vb)))
    assert result.difference == pytest.approx(va.mean() - vb.mean())
    assert result.p_value == mcnemar_exact(result.only_a, result.only_b) == result.p_holm
    low, high = result.ci
    assert low < result.difference < high and high - low < 0.05
    # common random numbers: most bandits agree, so the paired test is far sharper than the unpaired one
    assert result.only_a + result.only_b < 0.5 * result.n and result.p_value < result.p_unpaired


MEANS = ["p_best", "regret", "reward", "optimal_action"]


@pytest.mark.parametrize("metric", MEANS)
def test_any_metric_equals_scipy_on_the_stored_arrays(study, metric):
    """The mean paired difference, its t interval, the paired t test and Wilcoxon's signed-rank test
    equal SciPy's on the per-bandit values read back from the store, which are run_batch's."""
    from scipy import stats

    a, b = dict(temperature=0.08, lr=0.02), dict(temperature=0.05, lr=0.01)
    result = compare(study, a=a, b=b, metric=metric)
    with Study(study) as s:
        x, y = s.metric_values(find_setting(s, a), metric), s.metric_values(find_setting(s, b), metric)
    run = run_batch(3000, temperature=0.08, lr=0.02, n_episodes=2, steps_per_episode=200, seed=4)
    assert np.array_equal(x, getattr(run, metric).numpy().astype(np.float32).astype(np.float64))
    t = stats.ttest_rel(x, y)
    interval = t.confidence_interval(0.95)
    assert result.n == 3000 and result.metric == metric and result.p_value == result.p_holm
    assert result.mean_a == pytest.approx(x.mean(), rel=1e-12) and result.mean_b == pytest.approx(y.mean(), rel=1e-12)
    assert result.difference == pytest.approx(np.mean(x - y), rel=1e-12)
    assert result.ci == pytest.approx((interval.low, interval.high), rel=1e-9)
    assert result.p_value == pytest.approx(t.pvalue, rel=1e-6)
    d = x - y
    w = stats.wilcoxon(d[d != 0], correction=True, method="approx")  # R's wilcox.test: zeros dropped, corrected
    assert result.p_wilcoxon == pytest.approx(w.pvalue, rel=1e-9)
    assert f"mean {metric} A" in result.summary() and "paired t p" in result.summary()


def test_holm_adjusts_the_t_tests_of_several_pairs(study):
    pairs = [(dict(temperature=0.1, lr=0.01), dict(temperature=0.08, lr=0.01)),
             (dict(temperature=0.08, lr=0.02), dict(temperature=0.05, lr=0.02))]  # fmt: skip
    results = compare(study, pairs=pairs, metric="regret")
    assert [r.p_holm for r in results] == holm([r.p_value for r in results])
    alone = compare(study, a=pairs[0][0], b=pairs[0][1], metric="regret")
    assert alone.p_value == results[0].p_value and alone.ci == results[0].ci


def test_a_metric_that_is_not_one_is_refused_before_any_work(study, tmp_path, capsys):
    with pytest.raises(ValueError, match="metric must be one of success, p_best, regret, reward, optimal_action"):
        compare(tmp_path / "absent", a=dict(lr=1), b=dict(lr=2), metric="regrets")
    assert main(["compare", str(study), "--a", "lr=0.01", "--b", "lr=0.02", "--metric", "regrets"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'regrets'" in err


def test_cli_compare_a_metric(study, capsys):
    args = ["compare", str(study), "--a", "temperature=0.08", "lr=0.02", "--b", "temperature=0.05", "lr=0.01",
            "--metric", "regret"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "3,000 paired bandits: mean regret A" in out and "paired t p" in out and "Wilcoxon signed-rank p" in out
    assert main([*args, "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    expected = compare(study, a=dict(temperature=0.08, lr=0.02), b=dict(temperature=0.05, lr=0.01), metric="regret")
    assert record["metric"] == "regret" and record["difference"] == expected.difference
    assert record["ci"] == list(expected.ci) and record["p_wilcoxon"] == expected.p_wilcoxon


def test_several_pairs_get_holm(study):
    pairs = [(dict(temperature=0.1, lr=0.01), dict(temperature=0.08, lr=0.01)),
             (dict(temperature=0.08, lr=0.02), dict(temperature=0.05, lr=0.02))]  # fmt: skip
    results = compare(study, pairs=pairs)
    assert [r.p_holm for r in results] == holm([r.p_value for r in results])
    assert all(r.p_holm >= r.p_value for r in results)


@pytest.mark.parametrize(
    "a, error, message",
    [
        (dict(temperature=0.3, lr=0.01), ValueError, r"no setting has temperature=0.3, lr=0.01; values in the study"),
        (dict(temperature=0.1), ValueError, "2 settings have temperature=0.1; also give lr"),
        (dict(momentum=0.9), ValueError, "the study has no axis 'momentum'"),
        ("temperature=0.1", TypeError, "must be a dict axis -> value"),
    ],
)
def test_selectors_name_one_setting(study, a, error, message):
    with pytest.raises(error, match=message):
        compare(study, a=a, b=dict(temperature=0.05, lr=0.01))


def test_cli_compare(study, capsys):
    args = ["compare", str(study), "--a", "temperature=0.08", "lr=0.01", "--b", "temperature=0.05", "lr=0.01"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "paired bandits" in out and "McNemar exact p" in out and "unpaired z test" in out
    assert main([*args, "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["a"]["temperature"] == 0.08 and record["n"] == 3000
    assert main(["compare", str(study), "--a", "temperature=0.08", "--b", "temperature=0.05", "lr=0.01"]) == 2
    assert "also give lr" in capsys.readouterr().err
    assert main(["compare", str(study / "nothing"), "--a", "lr=1", "--b", "lr=2"]) == 2


def test_an_axis_given_twice_in_one_selector_is_refused(study, capsys):
    """The last value must not silently win (compare --a temperature=0.1 temperature=1)."""
    for a in (["temperature=0.08", "temperature=0.05"], ["lr=0.01", "temperature=0.08", "lr=0.01"]):
        assert main(["compare", str(study), "--a", *a, "--b", "temperature=0.05", "lr=0.01"]) == 2
        err = capsys.readouterr().err
        axis = a[0].split("=")[0]
        assert f"--a: the axis {axis} is given twice" in err and err.count("\n") == 1
    assert main(["compare", str(study), "--a", "temperature=0.08", "lr=0.01", "--b", "steps-per-episode=50",
                 "steps_per_episode=50"]) == 2  # fmt: skip
    assert "--b: the axis steps_per_episode is given twice (steps-per-episode=50 and" in capsys.readouterr().err


def test_settings_with_different_counts_pair_on_their_common_bandits():
    """With a precision target settings get different counts: the blocks both have pair up, block
    by block, whichever blocks those are (tasks finish in any order)."""
    from batched_bandit.study.paired import _paired

    va = {0: np.array([1, 1], bool), 1: np.array([0, 1], bool), 2: np.array([0, 1], bool)}
    vb = {0: np.array([1, 0], bool), 1: np.array([0, 1], bool)}
    study = SimpleNamespace(verdict_blocks=lambda i: (va, vb)[i], settings=[{"temperature": 0.1}, {"temperature": 0.2}])
    for i, j, counts in ((0, 1, (2, 1, 0, 1)), (1, 0, (2, 0, 1, 1))):
        r = _paired(study, i, j)
        assert r["n"] == 4 and (r["both"], r["only_a"], r["only_b"], r["neither"]) == counts
        assert (r["n_a"], r["n_b"]) == ((6, 4) if i == 0 else (4, 6))
    vb = {2: np.array([0, 1], bool)}  # B has only its third block: paired with A's third, not A's first
    r = _paired(study, 0, 1)
    assert r["n"] == 2 and (r["both"], r["only_a"], r["only_b"], r["neither"]) == (1, 0, 0, 1)


def test_a_partial_study_pairs_bandits_by_id_not_by_position(tmp_path, monkeypatch):
    """Issue 15's reproducer: tasks finished out of order and the study stopped part-way. (lr, T) and
    (4 lr, 2 T) train the very same bandits (lr / T² alone acts, exactly for powers of two), so their
    paired difference is none at all; pairing by position put bandit j of A against another bandit of B."""
    from batched_bandit.study import InProcess, plan

    class LastFirstStopped(InProcess):
        def run(self, jobs, on_result, on_steps=None):
            for done, job in enumerate(reversed(jobs)):
                if done == 5:
                    raise KeyboardInterrupt
                super().run([job], on_result, on_steps)

    monkeypatch.setattr(plan, "TASK_ELEMENTS", 1)  # a task per setting and block: a setting's blocks finish apart
    with pytest.raises(KeyboardInterrupt):
        sweep(tmp_path, temperature=[0.5, 1.0], lr=[0.01, 0.04], n_bandits=400, block_bandits=100, n_episodes=2,
              steps_per_episode=50, seed=1, executor=LastFirstStopped())  # fmt: skip
    a, b = dict(temperature=0.5, lr=0.01), dict(temperature=1.0, lr=0.04)
    result = compare(tmp_path, a=a, b=b)  # A has block 3, B blocks 2 and 3
    assert (result.n, result.n_a, result.n_b, result.complete) == (100, 100, 200, False)
    assert result.only_a == result.only_b == 0 and result.p_value == 1.0 and result.difference == 0.0
    assert 0 < result.both < 100  # verdicts of both kinds: the agreement is not vacuous
    assert "100 paired bandits (of 100 in A and 200 in B; the study is PARTIAL" in result.summary()
    shifted = compare(tmp_path, a=b, b=dict(temperature=0.5, lr=0.04))  # B's block 2 has no partner in this A
    assert shifted.n == 100 and shifted.n_a == 200
