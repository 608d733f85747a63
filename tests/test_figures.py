import struct
import sys

import pytest

from batched_bandit import figures, sweep
from batched_bandit.cli import main

SMALL = dict(n_episodes=3, steps_per_episode=30, n_bandits=60)
TEMPERATURES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
ARMS = [(0.2, 0.0, -0.2, -1.0), (0.1, 0.0, -0.5)]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("sweep")
    return sweep(out, temperature=TEMPERATURES, lr=[0.01, 0.1], arms=ARMS, seed=1, **SMALL)


def test_figure_files_are_valid_pngs(swept):
    from matplotlib.image import imread

    names = {figures.SUCCESS_FIGURE, figures.P_BEST_FIGURE, figures.CURVES_FIGURE}
    assert {p.name for p in swept.figures} == names and swept.figures_skipped is None
    for path in swept.figures:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")
        width, height = struct.unpack(">II", data[16:24])
        pixels = imread(path)
        assert pixels.shape[:2] == (height, width) and width > 600 and height > 300
        assert pixels.std() > 0.05  # something is drawn
    assert not list(swept.out.glob(".*.tmp"))


def test_success_figure_has_a_log_temperature_axis_a_band_and_a_line_per_lr(swept):
    rows = figures.read_table(swept.out / "results.csv")
    fig = figures._success_vs_temperature(rows, "about")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(ARMS)  # one panel per arm vector (and horizon)
    for ax in axes:
        assert ax.get_xscale() == "log" and "temperature" in ax.get_xlabel() and "success rate" in ax.get_ylabel()
        assert [line.get_label() for line in ax.get_lines()] == ["lr = 0.01", "lr = 0.1"]
        assert len(ax.collections) == 2  # the Wilson bands
        x, y = ax.get_lines()[0].get_data()
        assert list(x) == TEMPERATURES and all(0 <= v <= 1 for v in y)
    assert fig._suptitle.get_text() == "Success rate vs temperature\nabout; band: 95% Wilson interval"

    fig = figures._p_best_vs_temperature(rows, "about")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "P(best arm)" in ax.get_ylabel()
    got = list(ax.get_lines()[0].get_ydata())
    expected = [r["mean_final_p_best"] for r in rows if r["arms"] == ARMS[0] and r["lr"] == 0.01]
    assert got == expected


def test_learning_curves_for_a_few_temperatures(swept):
    fig = figures._learning_curves(
        figures.read_table(swept.out / "results.csv"), figures.read_table(swept.out / "curves.csv"), "about"
    )
    success_ax, p_ax = fig.axes
    labels = [line.get_label() for line in success_ax.get_lines()]
    assert len(labels) == figures.MAX_CURVES
    assert labels[0].startswith("T = 0.01 ") and labels[-1].startswith("T = 10 ")  # the ends of the grid
    assert "episode (30 steps each)" == success_ax.get_xlabel() == p_ax.get_xlabel()
    assert list(success_ax.get_lines()[0].get_xdata()) == [1, 2, 3]


def test_without_matplotlib_the_tables_are_written_and_figures_skipped(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    hint = r"figures skipped: matplotlib is not installed; to get figures: pip install 'batched_bandit\[plot\]'"
    with pytest.warns(UserWarning, match=hint):
        result = sweep(tmp_path / "py", temperature=[0.1, 1.0], **SMALL)
    assert result.figures == [] and "pip install" in result.figures_skipped
    assert {p.name for p in (tmp_path / "py").iterdir()} == {"study.sqlite", "results.csv", "curves.csv", "meta.json"}
    args = ["sweep", "--out", str(tmp_path / "cli"), "--n-bandits", "20", "--episodes", "1", "--steps", "10"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "figures skipped: matplotlib is not installed; to get figures: pip install 'batched_bandit[plot]'" in err
    assert (tmp_path / "cli" / "results.csv").exists()


def test_panels_follow_the_rule_axes(tmp_path):
    pytest.importorskip("matplotlib")
    result = sweep(tmp_path, temperature=[0.1, 1.0], optimizer=["sgd", "adam"], n_episodes=1, steps_per_episode=20,
                   n_bandits=30, backend="torch")  # fmt: skip
    fig = figures._success_vs_temperature(figures.read_table(tmp_path / "results.csv"), "about")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(titles) == 2 and "optimizer sgd" in titles[0] and "optimizer adam" in titles[1]
    assert len(result.figures) == 3
