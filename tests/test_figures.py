"""Figures over any axis: the layout's choices, what the figures draw, their bounds and notes, and
``plot`` redrawing a study's figures byte for byte from its store."""

import struct
import sys

import numpy as np
import pytest

from batched_bandit import sweep
from batched_bandit.cli import main
from batched_bandit.study import InProcess

pytest.importorskip("matplotlib")

from batched_bandit import figures  # noqa: E402
from batched_bandit.figures import curves, distribution, heatmap, metric  # noqa: E402
from batched_bandit.figures.columns import log_spaced  # noqa: E402
from batched_bandit.figures.layout import MAX_LINES, choose  # noqa: E402
from batched_bandit.figures.table import Table  # noqa: E402

TINY = dict(n_episodes=2, steps_per_episode=10, n_bandits=40, seed=1)
GAPS = [(0.0, g) for g in (0.05, 0.1, 0.2, 0.4, 0.8)]


def study(tmp_path, name="study", **axes) -> Table:
    """A tiny study's table (no figures drawn by the sweep)."""
    sweep(tmp_path / name, **{**TINY, **axes})
    return Table.read(tmp_path / name)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")
    return struct.unpack(">II", data[16:24])


def suptitle(fig) -> str:
    return fig._suptitle.get_text().replace("\n", " ")


def drawn_lines(ax) -> list:
    """The data lines of an axes (not the chance level, which spans the axes in axes coordinates)."""
    return [line for line in ax.get_lines() if line.get_linestyle() != ":"]


@pytest.mark.parametrize(
    ("axes", "x", "by", "log"),
    [
        (dict(arms=GAPS), "arms", "gap", True),  # success vs the gap between two arms
        (dict(steps_per_episode=[5, 10, 20, 40, 80]), "steps_per_episode", "steps_per_episode", True),  # horizon
        (dict(n_episodes=[1, 2, 3, 4]), "n_episodes", "n_episodes", False),
        (dict(lr=[0.01, 0.03, 0.1, 0.3], temperature=[0.1, 1.0]), "lr", "lr", True),
        (dict(arms=[(0.0, 0.5), (0.0, 0.5, 0.5), (0.0, 0.5, 0.5, 0.5)]), "arms", "n_arms", False),  # one gap, K varies
        (dict(optimizer=["sgd", "adam", "rmsprop"], backend="torch"), "optimizer", "", False),
    ],
    ids=["gap", "steps", "episodes", "lr", "arms", "optimizer"],
)
def test_x_is_the_axis_with_the_most_values_read_as_a_number_where_one_exists(tmp_path, axes, x, by, log):
    table = study(tmp_path, **axes)
    layout = choose(table)
    assert (layout.x.name, layout.x.by, layout.x.log) == (x, by, log)
    fig = metric.draw(table, layout)
    (ax,) = fig.axes
    assert ax.get_xscale() == ("log" if log else "linear")
    if by:
        assert len(drawn_lines(ax)) == (len(layout.lines.values) if layout.lines else 1)
    else:  # categories: points with error bars, no line joining them
        assert {line.get_linestyle() for line in drawn_lines(ax)} == {"None"}
    expected = {"gap": "gap: best arm's expected reward − second best's", "n_arms": "number of arms K",
                "": "optimizer", "lr": "learning rate lr", "n_episodes": "number of episodes",
                "steps_per_episode": "steps per episode"}  # fmt: skip
    assert ax.get_xlabel().replace("\n", " ").startswith(expected[by])
    if by == "":
        assert [t.get_text() for t in ax.get_xticklabels()] == ["sgd", "adam", "rmsprop"]


def test_the_gap_sweep_places_each_arm_vector_at_its_gap(tmp_path):
    table = study(tmp_path, arms=GAPS[::-1])
    layout = choose(table)
    x, _ = drawn_lines(metric.draw(table, layout).axes[0])[0].get_data()
    assert list(x) == sorted(r["gap"] for r in table.rows)
    assert "x: arms (0, 0.05) … (0, 0.8), placed by their gap" in suptitle(metric.draw(table, layout))


def test_x_lines_and_facets_can_be_chosen_and_bad_choices_name_the_columns(tmp_path):
    table = study(tmp_path, temperature=[0.1, 0.3, 1.0], lr=[0.01, 0.1], optimizer=["sgd", "adam"], backend="torch")
    auto = choose(table)
    assert (auto.x.name, auto.lines.name, [a.name for a in auto.facets]) == ("temperature", "lr", ["optimizer"])
    chosen = choose(table, x="lr", lines="optimizer", facets="temperature")
    assert (chosen.x.name, chosen.lines.name, [a.name for a in chosen.facets]) == ("lr", "optimizer", ["temperature"])
    derived = choose(table, x="eta")  # lr/T² for sgd, lr/T for adam: T moves along a line, lr and sgd/adam are lines
    assert derived.x.name == "eta" and derived.along == ("temperature",) and derived.lines.name == "lr"
    assert "η: T varies along each line" in suptitle(metric.draw(table, derived)).replace("x = ", "")
    with pytest.raises(ValueError, match=r"unknown x 'colour'; choose one of optimizer \(2 values\), lr \(2 values\), "
                       r"temperature \(3 values\); derived: eta, lr_over_T2"):  # fmt: skip
        choose(table, x="colour")
    with pytest.raises(ValueError, match="x = 'n_episodes' has one value in this study"):
        choose(table, x="n_episodes")
    with pytest.raises(ValueError, match="lines = 'temperature' is not a swept axis left once x is chosen"):
        choose(table, lines="temperature")


def test_eta_over_gap2_puts_every_gap_on_one_axes(tmp_path):
    table = study(tmp_path, temperature=[0.1, 0.3, 1.0, 3.0], arms=GAPS[:3])
    layout = choose(table, x="eta_over_gap2")
    assert layout.along == ("temperature",) and layout.lines.name == "arms" and layout.facets == ()
    fig = metric.draw(table, layout)
    (ax,) = fig.axes
    lines = drawn_lines(ax)
    assert len(lines) == 3 and ax.get_xscale() == "log"
    for line, arms in zip(lines, GAPS[:3]):
        mine = sorted((r for r in table.rows if r["arms"] == arms), key=lambda r: r["eta_over_gap2"])
        assert list(line.get_xdata()) == [r["eta_over_gap2"] for r in mine]
        assert list(line.get_ydata()) == [r["success_rate"] for r in mine]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0] == "(0, 0.05), gap 0.03988" and "95% Wilson interval" in labels


def test_figures_stay_within_2400_pixels_and_say_what_they_leave_out(tmp_path):
    out = tmp_path / "big"
    sweep(out, temperature=np.geomspace(0.01, 100, 40), lr=[0.003, 0.01, 0.03], optimizer=["sgd", "adam", "rmsprop"],
          n_episodes=2, steps_per_episode=5, n_bandits=16, backend="torch")  # fmt: skip
    paths = figures.plot_sweep(out)
    assert [p.name for p in paths] == ["success.png", "reward.png", "regret.png", "p_best.png", "learning_curves.png"]
    for path in paths:
        width, height = png_size(path)
        assert 400 < width <= 2400 and 300 < height <= 2400, path.name
        assert path.stat().st_size < 400_000, path.name
    table = Table.read(out)
    fig = curves.draw(table)  # one panel per optimizer; 120 settings each: T thinned, lr held
    title = suptitle(fig)
    assert "Left out: T: 8 of its 40 values drawn, spread over the range; lr held at 0.01 (0.003, 0.03 not drawn)" in (
        title)  # fmt: skip
    assert sum(ax.get_visible() for ax in fig.axes) == 3 * 4  # 3 optimizers: a stack of 4 axes each
    wide = choose(table, x="lr", lines="temperature")
    assert len(wide.lines.values) == MAX_LINES and "T: 8 of its 40 values drawn" in suptitle(metric.draw(table, wide))
    thinned = choose(table, max_panels=2)
    assert "optimizer: 2 of its 3 values drawn" in suptitle(metric.draw(table, thinned))
    held = choose(table, max_panels=1)
    assert held.held == {"optimizer": "sgd"}
    assert "optimizer held at sgd (adam, rmsprop not drawn)" in suptitle(metric.draw(table, held))


def test_an_axis_held_at_one_value_is_named_with_the_values_left_out(tmp_path):
    table = study(tmp_path, temperature=[0.1, 0.3, 1.0, 3.0], lr=[0.01, 0.1], optimizer=["sgd", "adam"],
                  baseline=["none", "mean"], momentum=[0.0, 0.9], backend="torch")  # fmt: skip
    layout = choose(table, max_panels=4)
    assert (layout.x.name, layout.lines.name) == ("temperature", "lr")
    assert [a.name for a in layout.facets] == ["momentum", "baseline"] and layout.held == {"optimizer": "sgd"}
    assert len(metric.draw(table, layout).axes) == 4
    assert "Left out: optimizer held at sgd (adam not drawn)" in suptitle(metric.draw(table, layout))


def test_a_heat_map_when_two_axes_have_five_values_or_more(tmp_path):
    out = tmp_path / "grid"
    sweep(out, **TINY, temperature=np.geomspace(0.03, 3, 5), lr=np.geomspace(0.01, 1, 6))
    assert not list(out.glob("*.png"))  # a library call draws nothing
    assert [p.name for p in figures.plot_sweep(out)][-1] == figures.HEATMAP_FIGURE
    table = Table.read(out)
    layout = heatmap.choose_axes(table, choose(table))
    assert (layout.x.name, layout.lines.name) == ("lr", "temperature")  # x has the most values
    fig = heatmap.draw(table, layout)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    rates = ax.collections[0].get_array().reshape(5, 6)
    for r in table.rows:
        i, j = list(layout.lines.values).index(r["temperature"]), list(layout.x.values).index(r["lr"])
        assert rates[i, j] == r["success_rate"]
    few = study(tmp_path, "few", temperature=np.geomspace(0.03, 3, 5), lr=[0.01, 0.1])
    assert heatmap.choose_axes(few, choose(few)) is None


def test_log_scale_for_positive_log_spaced_values_only():
    assert log_spaced([0.01, 0.03, 0.1, 0.3, 1.0])
    assert log_spaced([1, 10]) and not log_spaced([1, 2]) and not log_spaced([1.0])
    assert log_spaced(np.geomspace(100, 800, 4))  # within a decade, but evenly spaced in log
    assert not log_spaced([100, 200, 300, 400, 500]) and not log_spaced([-1.0, 0.1, 10.0])
    assert log_spaced([1e-4, 0.5, 0.6, 0.7])  # four decades: unreadable on a linear axis


def test_plot_redraws_the_sweeps_figures_byte_for_byte(tmp_path, capsys):
    out = tmp_path / "redraw"
    sweep(out, **TINY, temperature=[0.03, 0.1, 0.3, 1.0], lr=[0.01, 0.1])
    drawn = figures.plot_sweep(out)
    before = {p.name: p.read_bytes() for p in drawn}
    assert set(before) == {"success.png", "reward.png", "regret.png", "p_best.png", "learning_curves.png"}
    for p in drawn:
        p.unlink()
    assert main(["plot", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out / name) for name in before]
    assert {name: (out / name).read_bytes() for name in before} == before
    assert not list(out.glob(".*.tmp"))
    assert main(["plot", str(out), "--x", "lr_over_T2"]) == 0
    assert (out / "success.png").read_bytes() != before["success.png"]
    assert main(["plot", str(out), "--x", "colour"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("batched-bandit plot: error: unknown x 'colour'; choose one of") and "\n" not in err
    assert main(["plot", str(tmp_path / "nothing")]) == 2
    assert "holds no study" in capsys.readouterr().err


def test_p_best_figure_stacks_the_three_fractions_to_one(tmp_path):
    table = study(tmp_path, temperature=[0.01, 0.03, 0.1, 0.3, 1.0])
    layout = choose(table)
    fig = distribution.draw(table, layout)
    ax = fig.axes[0]
    areas = ax.collections[0].get_paths()  # locked on the best arm, undecided, locked on a wrong arm
    assert len(areas) == 3
    n = len(table.rows)
    top = areas[2].vertices[n : 2 * n, 1]  # the last area's upper edge, right to left
    assert np.allclose(top, 1.0)
    for r, low in zip(sorted(table.rows, key=lambda r: r["temperature"]), areas[1].vertices[:n, 1]):
        assert low == pytest.approx(r["locked_best"])
        assert r["locked_best"] + r["undecided"] + r["locked_wrong"] == pytest.approx(1.0)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:3] == [text for _, text, _ in reversed(distribution.PARTS)]
    assert "mean ± 1 s.d." not in suptitle(fig)


def test_learning_curves_have_bands_and_the_mean_field_dashed_for_sgd(tmp_path):
    table = study(tmp_path, temperature=[0.1, 1.0], optimizer=["sgd", "adam"], backend="torch")
    fig = curves.draw(table)
    sgd, adam = fig.axes[:4], fig.axes[4:8]  # success rate, mean P(best), reward, regret
    (sgd_top, sgd_bottom), (adam_top, adam_bottom) = sgd[:2], adam[:2]
    assert "optimizer sgd" in sgd_top.get_title() and "optimizer adam" in adam_top.get_title()
    for ax in (*sgd, *adam):
        assert len(ax.collections) == 1 and len(ax.collections[0].get_paths()) == 2  # a band per temperature
    for ax in (sgd_top, sgd_bottom, adam_top, adam_bottom):
        assert ax.get_ylim()[1] > 1.0  # a curve at 1.0 stays visible
    dashed = [line for line in sgd_bottom.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2 and not [line for line in adam_bottom.get_lines() if line.get_linestyle() == "--"]
    sgd_rows = sorted((r for r in table.rows if r["optimizer"] == "sgd"), key=lambda r: r["temperature"])
    for line, row in zip(dashed, sgd_rows):
        field = [c["mean_field_p_best"] for c in sorted(table.curves[row["setting"]], key=lambda c: c["episode"])]
        assert list(line.get_ydata()) == field
    assert "mean field: expected-update P(best)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_learning_curves_of_a_horizon_sweep_share_one_axes_in_steps(tmp_path):
    table = study(tmp_path, steps_per_episode=[5, 10, 20, 40, 80])
    fig = curves.draw(table)
    top, *_, bottom = (ax for ax in fig.axes if ax.get_visible())
    assert len(drawn_lines(top)) == 5 and bottom.get_xscale() == "log" and "steps done" in bottom.get_xlabel()


def test_a_partial_study_is_drawn_and_says_so(tmp_path):
    class Stopped(InProcess):
        def run(self, jobs, on_result, on_steps=None):
            super().run(jobs[:1], on_result, on_steps)
            raise KeyboardInterrupt

    out = tmp_path / "partial"
    with pytest.raises(KeyboardInterrupt):
        sweep(out, **TINY, temperature=[0.1, 1.0], arms=GAPS[:2], block_bandits=20, executor=Stopped())
    paths = figures.plot_sweep(out)
    assert len(paths) == 5
    assert "PARTIAL study: 1 of 2 tasks done, 4 of 4 settings have results so far" in suptitle(
        metric.draw(Table.read(out), choose(Table.read(out))))  # fmt: skip


def test_without_matplotlib_the_tables_are_written_and_figures_skipped(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    sweep(tmp_path / "py", temperature=[0.1, 1.0], n_episodes=3, steps_per_episode=30, n_bandits=60)
    assert {p.name for p in (tmp_path / "py").iterdir()} == {"study.sqlite", "results.csv", "curves.csv", "meta.json"}
    args = ["sweep", "--out", str(tmp_path / "cli"), "--n-bandits", "20", "--episodes", "1", "--steps", "10"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "figures skipped: matplotlib is not installed; to get figures: pip install 'batched_bandit[plot]'" in err
    assert (tmp_path / "cli" / "results.csv").exists()
    assert main(["plot", str(tmp_path / "cli")]) == 2
    assert "matplotlib is not installed" in capsys.readouterr().err


def test_the_threshold_figure_shows_the_crossing_and_zooms_around_its_interval(tmp_path, monkeypatch):
    """A search crossing 0.9 at T = 0.162 (95% CI 0.155 .. 0.168): both panels mark the target and the
    estimate; the right panel shows the whole interval and the points around it, its curve running
    off both edges."""
    from batched_bandit.figures import search as threshold_figure
    from batched_bandit.study.search import Threshold

    values = [0.02, 0.05, 0.1, 0.13, 0.15, 0.16, 0.165, 0.17, 0.2, 0.3, 0.5]
    rates = [0.40, 0.50, 0.70, 0.80, 0.86, 0.89, 0.905, 0.92, 0.95, 0.97, 0.98]
    points = [dict(value=v, n=4000, success_rate=r, ci_low=r - 0.01, ci_high=min(1.0, r + 0.01))
              for v, r in zip(values, rates)]  # fmt: skip
    found = Threshold("temperature", 0.9, 0.162, (0.155, 0.168), True, points, tmp_path)
    drawn = {}
    monkeypatch.setattr(threshold_figure, "save", lambda fig, path: drawn.setdefault("fig", fig) and path)
    assert threshold_figure.plot_threshold(found) == tmp_path / "threshold.png"
    whole, zoom = drawn["fig"].axes[:2]
    for ax in (whole, zoom):
        vertical = [line.get_xdata()[0] for line in ax.get_lines() if len(set(line.get_xdata())) == 1]
        horizontal = [line.get_ydata()[0] for line in ax.get_lines() if len(set(line.get_ydata())) == 1]
        assert vertical == [0.162] and horizontal == [0.9]  # the crossing on the axis, the target across
    assert list(whole.containers[0].lines[0].get_xdata()) == values
    left, right = zoom.get_xlim()
    assert left < 0.155 and 0.168 < right < 0.3  # the whole interval, widened
    shown = list(zoom.containers[0].lines[0].get_xdata())
    assert shown == [0.1, 0.13, 0.15, 0.16, 0.165, 0.17, 0.2, 0.3]  # the points near the interval
    assert shown[0] < left and right < shown[-1]  # and one beyond each edge: the curve crosses the panel


def test_the_success_figure_names_the_seed_and_draws_chance_at_one_over_k(tmp_path):
    table = study(tmp_path, temperature=[0.1, 1.0], arms=(0.0, 0.5, 0.5), seed=7)
    fig = metric.draw(table, choose(table))
    assert "40 bandits per setting, seed 7; fixed: arms (0, 0.5, 0.5), lr 0.01, 2 episodes × 10 steps" in suptitle(fig)
    chance = [line.get_ydata()[0] for ax in fig.axes for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert chance == [pytest.approx(1 / 3)]  # three arms: a uniform policy picks the best one time in three


def test_settings_an_x_axis_does_not_apply_to_are_left_out_with_a_note(tmp_path):
    table = study(tmp_path, optimizer=["sgd", "adam"], momentum=[0.0, 0.5, 0.9], backend="torch")
    title = suptitle(metric.draw(table, choose(table, x="momentum")))
    assert "Left out: 1 settings without a momentum (it does not apply to them)" in title  # adam has none


def test_plot_draws_the_lines_and_facets_asked_for(tmp_path, capsys):
    study(tmp_path, temperature=[0.1, 1.0, 3.0], lr=[0.01, 0.1], momentum=[0.0, 0.5])
    out = tmp_path / "study"
    drawn = {}
    for lines in ("lr", "momentum"):  # the other one becomes the facets
        assert main(["plot", str(out), "--x", "temperature", "--lines", lines]) == 0
        drawn[lines] = (out / "success.png").read_bytes()
        figures.plot_sweep(out, x="temperature", lines=lines)
        assert (out / "success.png").read_bytes() == drawn[lines]
    assert drawn["lr"] != drawn["momentum"]
    assert main(["plot", str(out), "--x", "temperature", "--facets", "lr"]) == 0
    assert (out / "success.png").read_bytes() == drawn["momentum"]


@pytest.mark.parametrize("name", ["success", "p_best", "regret", "reward", "optimal_action"])
def test_plot_y_draws_any_metric_with_its_interval(tmp_path, capsys, name):
    """--y METRIC: the metric's mean over the run against x, each point in its 95% band; fractions on
    0..1, regret on a log axis when it spans 100x (here: horizons of 5 to 600 steps), reward linear."""
    from batched_bandit.metrics import METRICS

    table = study(tmp_path, steps_per_episode=[5, 50, 600], temperature=[0.3, 3.0], n_episodes=1)
    out = tmp_path / "study"
    assert main(["plot", str(out), "--y", name, "--x", "steps_per_episode"]) == 0
    assert capsys.readouterr().out.split() == [str(out / f"{name}.png")]
    assert figures.plot_sweep(out, y=name, x="steps_per_episode") == [out / f"{name}.png"]
    if name == "p_best":  # its figure is where the policies end, with the mean final P(best) and its interval
        return
    m = METRICS[name]
    fig = metric.draw(table, choose(table, x="steps_per_episode"), name)
    (ax,) = fig.axes
    assert ax.get_ylabel().replace("\n", " ").startswith(m.label)
    lines = drawn_lines(ax)
    bands = ax.collections[0].get_paths()
    assert len(lines) == len(bands) == 2  # a line and a band per temperature
    for line, band, temperature in zip(lines, bands, (0.3, 3.0)):
        rows = sorted((r for r in table.rows if r["temperature"] == temperature), key=lambda r: r["steps_per_episode"])
        assert list(line.get_xdata()) == [5, 50, 600] and list(line.get_ydata()) == [r[m.column] for r in rows]
        assert list(band.vertices[:3, 1]) == [r[m.ci[0]] for r in rows]  # the band's lower edge, left to right
        assert list(band.vertices[3:6, 1]) == [r[m.ci[1]] for r in reversed(rows)]
    assert ax.get_yscale() == ("log" if name == "regret" else "linear")
    assert (ax.get_ylim() == (-0.03, 1.03)) == (name in ("success", "optimal_action"))
    assert f"({m.better} is better)" in suptitle(fig) and "fixed:" in suptitle(fig)


def test_plot_y_refuses_an_unknown_metric_in_one_line(tmp_path, capsys):
    study(tmp_path, temperature=[0.3, 3.0])
    assert main(["plot", str(tmp_path / "study"), "--y", "lr"]) == 2
    err = capsys.readouterr().err
    assert "argument --y: invalid choice: 'lr'" in err and err.count("\n") == 1
    with pytest.raises(ValueError, match="metric must be one of success, p_best, regret, reward, optimal_action"):
        figures.plot_sweep(tmp_path / "study", y="lr")


def test_a_one_episode_study_traced_draws_real_learning_curves(tmp_path):
    """record_every: the curves have a point every N steps, inside the one episode (not one lone dot)."""
    table = study(tmp_path, temperature=[0.3, 3.0], n_episodes=1, steps_per_episode=60, record_every=5,
                  backend="torch")  # fmt: skip
    fig = curves.draw(table)
    stack = fig.axes[:4]
    for ax in stack:  # solid: the simulated means (the mean field is dashed)
        lines = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
        assert len(lines) == 2 and all(list(line.get_xdata()) == list(range(5, 61, 5)) for line in lines)
    assert stack[-1].get_xlabel() == "steps done (a point every 5 steps)"
    regret = [list(line.get_ydata()) for line in drawn_lines(stack[3])]
    assert all(r == sorted(r) and r[0] > 0 for r in regret)  # cumulative
    assert "Learning curves every 5 steps" in suptitle(fig)
