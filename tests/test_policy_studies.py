"""The field's baselines in studies: a sweep over policies stores, reads and summarises them (each
policy with its own parameter, no lr or temperature where they do not apply); the derived column
``param`` and Sutton & Barto's parameter-study figure (x = param, a line per policy, base-2 axis);
the regret figure against log t with the Lai-Robbins bound."""

import math

import pytest
import torch

from batched_bandit import sweep
from batched_bandit.cli import main
from batched_bandit.problem import lai_robbins
from batched_bandit.study import load_rows, open_study

pytest.importorskip("matplotlib")

from batched_bandit import figures  # noqa: E402
from batched_bandit.figures import over_steps  # noqa: E402
from batched_bandit.figures.layout import choose  # noqa: E402
from batched_bandit.figures.marks import log_scale  # noqa: E402
from batched_bandit.figures.table import Table  # noqa: E402

TINY = dict(n_episodes=1, steps_per_episode=40, n_bandits=60, seed=2)
BERNOULLI = dict(win_prob=[(0.6, 0.5, 0.4)], reward_values=[(1.0, 0.0)])
# Figure 2.6's grid, shrunk: each policy crossed with its own parameter only
PARAMETER_STUDY = dict(policy=["epsilon_greedy", "greedy", "ucb", "gradient"], epsilon=[1 / 64, 1 / 16, 1 / 4],
                       initial_value=[0.5, 1.0, 2.0], step_size=[0.1], ucb_c=[0.25, 1.0, 4.0],
                       lr=[0.125, 0.5, 2.0], temperature=[1.0], baseline=["mean"])  # fmt: skip


def test_a_study_of_other_policies_is_stored_read_and_summarised(tmp_path):
    """No setting has lr or temperature (gradient options): the spec keeps only axes that some
    setting has, the store reopens, and rows leave the gradient's columns empty."""
    result = sweep(tmp_path / "s", policy=["ucb", "thompson"], ucb_c=[0.5, 2.0], **BERNOULLI, **TINY)
    with open_study(tmp_path / "s") as study:
        assert "lr" not in study.spec and "temperature" not in study.spec and study.spec["ucb_c"] == [0.5, 2.0]
        assert [s.get("policy") for s in study.settings] == ["ucb", "ucb", "thompson"]
    rows = load_rows(tmp_path / "s")
    assert [r["param"] for r in rows] == [0.5, 2.0, None]
    assert all(r.get("lr") is None and r["eta"] is None and r["lr_over_T2"] is None for r in rows)
    headers = [line for line in result.summary().splitlines() if "success" in line]
    data = [line for line in result.summary().splitlines() if line.startswith("  ") and "success" not in line]
    assert headers[0].split()[0] == "c" and headers[1].split()[0] == "n" and len(data) == 3
    ends = {h.index(" n ") + 2 for h in headers} | {d.index(" 60 ") + 3 for d in data}
    assert len(ends) == 1  # the bandit counts line up under "n", with a parameter and without


def test_param_is_each_policys_own_parameter_and_its_lines_move_along_their_own(tmp_path):
    sweep(tmp_path / "s", means=[(0.0, 0.5, 1.0)], **PARAMETER_STUDY, **TINY)
    table = Table.read(tmp_path / "s")
    own = {"epsilon_greedy": "epsilon", "greedy": "initial_value", "ucb": "ucb_c", "gradient": "lr"}
    assert len(table.rows) == 12
    for row in table.rows:
        assert row["param"] == row[own[row["policy"]]]
        assert all(row.get(k) is None for k in own.values() if k != own[row["policy"]])
    layout = choose(table, x="param")
    assert layout.lines.name == "policy" and set(layout.along) == set(own.values()) and not layout.facets
    groups = layout.group(table.rows)[()]
    assert {line: [r["param"] for r in rows] for line, rows in groups.items()} == {
        "epsilon_greedy": [1 / 64, 1 / 16, 1 / 4], "greedy": [0.5, 1.0, 2.0], "ucb": [0.25, 1.0, 4.0],
        "gradient": [0.125, 0.5, 2.0],
    }  # fmt: skip
    (path,) = figures.plot_sweep(tmp_path / "s", x="param", y="reward", lines="policy")
    assert path.name == "reward.png"


def test_powers_of_two_read_on_a_base_2_axis_ticked_as_fractions():
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    log_scale(ax, [1 / 128, 1 / 16, 1 / 2, 4])
    assert ax.xaxis.get_scale() == "log" and ax.xaxis._scale.base == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1/128", "1/64", "1/32", "1/16", "1/8", "1/4", "1/2",
                                                            "1", "2", "4"]  # fmt: skip
    ax = Figure().add_subplot()
    log_scale(ax, [0.01, 0.1, 1.0, 10.0])  # not powers of two: decades
    assert ax.xaxis._scale.base == 10


def test_the_lai_robbins_constant_of_a_setting():
    """C = sum over worse arms of gap / KL(q_a || q*), by hand for P(win) (0.6, 0.5, 0.4) paying
    (1, 0); the threshold model's P(win) is 1 - Phi(arm); none for Gaussian rewards."""
    kl = lambda q, p: q * math.log(q / p) + (1 - q) * math.log((1 - q) / (1 - p))  # noqa: E731
    by_hand = 0.1 / kl(0.5, 0.6) + 0.2 / kl(0.4, 0.6)
    from batched_bandit.study.axes import grid

    (setting,) = grid(policy=["ucb"], win_prob=[(0.6, 0.5, 0.4)], reward_values=[(1.0, 0.0)])
    assert over_steps.bound(setting) == pytest.approx(by_hand, rel=1e-12)
    (seed,) = grid(arms=[(0.2, 0.0, -0.2, -1.0)])  # wins pay 1, losses -1: gaps in reward twice those in P(win)
    q = 1 - torch.distributions.Normal(0.0, 1.0).cdf(torch.tensor([0.2, 0.0, -0.2, -1.0], dtype=torch.float64))
    assert over_steps.bound(seed) == pytest.approx(float(lai_robbins(q[None], 1.0, -1.0)[0]), rel=1e-6)
    (gaussian,) = grid(policy=["ucb"], means=[(0.0, 1.0)])
    assert over_steps.bound(gaussian) is None


@pytest.mark.filterwarnings("ignore:using the portable torch engine")  # UCB traced: the portable engine
def test_plot_x_step_draws_regret_on_log_steps_with_the_bound(tmp_path, capsys):
    sweep(tmp_path / "s", policy=["ucb", "gradient"], temperature=[1.0], lr=[0.1], record_every=5, **BERNOULLI,
          **TINY)  # fmt: skip
    assert main(["plot", str(tmp_path / "s"), "--x", "step"]) == 0
    assert capsys.readouterr().out.strip().endswith("regret_over_steps.png")
    figure = over_steps.draw(Table.read(tmp_path / "s"), "regret")
    (ax,) = figure.axes
    assert ax.get_xscale() == "log"
    bound = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(bound) == 1
    t, c_ln_t = bound[0].get_data()
    assert t[0] == 5 and t[-1] == pytest.approx(40)
    constant = over_steps.bound(Table.read(tmp_path / "s").settings[0])
    assert c_ln_t == pytest.approx([constant * math.log(x) for x in t])
    with pytest.raises(ValueError, match="takes no lines or facets"):
        figures.plot_sweep(tmp_path / "s", x="step", lines="policy")


def test_plot_x_step_needs_curves_of_two_points(tmp_path):
    sweep(tmp_path / "s", policy=["ucb"], **BERNOULLI, **TINY)
    with pytest.raises(ValueError, match="--record-every"):
        figures.plot_sweep(tmp_path / "s", x="step")
