"""How runs and studies show themselves in a notebook: short reprs, escaped HTML tables, a study's
figure inline when matplotlib is there; progress bars through tqdm.auto."""

import base64
import dataclasses
import re
import subprocess
import sys

import pytest

from batched_bandit import run_batch
from batched_bandit.study import open_study, sweep

HORIZON = dict(n_episodes=2, steps_per_episode=10)


@pytest.fixture(scope="module")
def result():
    return run_batch(500, arms=[0.1 * i for i in range(40)], backend="torch", **HORIZON)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("display") / "a <b>study</b> & 'co'"
    sweep(out, temperature=[0.5, 2.0], lr=[0.01, 0.1], n_bandits=30, backend="torch", **HORIZON)
    return out


def test_a_run_repr_is_two_short_lines(result):
    text = repr(result)
    lines = text.splitlines()
    assert len(lines) == 2 and all(len(line) < 200 for line in lines)
    assert lines[0].startswith("RunResult: 500 bandits x 2 episodes x 10 steps, threshold arms (0, 0.1, 0.2, ...")
    assert "torch backend on cpu" in lines[0]
    for label in ("success", "P(best)", "regret", "reward", "optimal action"):
        assert label in lines[1]
    assert "tensor" not in text and "95% CI" in lines[1]
    assert repr(run_batch(1, backend="torch", **HORIZON)).startswith("RunResult: 1 bandit x")


def test_a_run_html_is_an_escaped_table(result):
    odd = dataclasses.replace(result, device="<script>alert('x')</script> & co")
    page = odd._repr_html_()
    assert page.count("<table>") == 1 and "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in page
    assert "tensor" not in page and len(page) < 3000
    assert re.search(r"<td>success</td><td>[0-9.]+</td><td>[0-9.]+ \.\. [0-9.]+</td>", page)


@pytest.mark.parametrize(
    "options, words",
    [
        (dict(policy="ucb", ucb_c=1.5), "ucb policy, ucb_c 1.5, rewards (win 1.0, loss -1.0)"),
        (dict(policy="greedy", initial_value=5.0, step_size=0.1), "greedy policy, initial_value 5.0, step_size 0.1"),
        (dict(policy="thompson", means=[0.0, 1.0]), "thompson policy, prior_mean 0.0, prior_sd 1.0, reward sd 1.0"),
    ],
)
def test_a_policy_runs_summary_and_html_name_the_policy_and_its_parameters(options, words):
    """Not the gradient policy's optimizer, lr and temperature, which do not apply to it."""
    run = run_batch(20, backend="torch", **HORIZON, **options)
    line = run.summary().splitlines()[1]
    assert words in line and "lr" not in line and "temperature" not in line
    assert words in run._repr_html_()
    assert f", {options['policy']} policy, torch backend on cpu" in repr(run).splitlines()[0]


def test_a_study_repr_names_the_folder_and_the_settings_done(folder):
    with open_study(folder) as study:
        text = repr(study)
    assert text == f"Study({str(folder)!r}): 4 of 4 settings done (1 of 1 tasks), complete"


def test_a_study_html_is_an_escaped_table_and_its_figure(folder):
    with open_study(folder) as study:
        page = study._repr_html_()
        rows = study.rows()
    assert "<b>study</b>" not in page and "a &lt;b&gt;study&lt;/b&gt; &amp; &#x27;co&#x27;" in page
    assert page.count("<tr>") == 1 + len(rows)  # the header, a row per setting
    assert "<th>temperature</th><th>lr</th>" in page  # the swept axes
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page).group(1))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert not any(p.suffix == ".png" for p in folder.iterdir())  # drawn in memory: nothing written


def test_a_study_html_without_matplotlib_is_the_table(folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with open_study(folder) as study:
        page = study._repr_html_()
    assert "<table>" in page and "<img" not in page


def test_a_study_html_shows_at_most_its_first_settings(tmp_path, monkeypatch):
    from batched_bandit.study import display

    monkeypatch.setattr(display, "MAX_ROWS", 2)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    sweep(tmp_path, temperature=[0.5, 1.0, 2.0], n_bandits=5, backend="torch", **HORIZON)
    with open_study(tmp_path) as study:
        page = study._repr_html_()
    assert page.count("<tr>") == 3 and "... and 1 more settings: to_pandas() has them all" in page


NOTEBOOK = """
import sys, types, warnings
warnings.simplefilter("error")
kernel = types.ModuleType("ipykernel.zmqshell")
sys.modules.update({"ipykernel": types.ModuleType("ipykernel"), "ipykernel.zmqshell": kernel})
class ZMQInteractiveShell: pass
ipython = types.ModuleType("IPython")
ipython.get_ipython = lambda: ZMQInteractiveShell()
display = types.ModuleType("IPython.display")
display.display = lambda *a, **k: None
ipython.display = display
sys.modules.update({"IPython": ipython, "IPython.display": display})
if WIDGETS:
    widgets = types.ModuleType("ipywidgets")
    widgets.FloatProgress = widgets.HBox = widgets.HTML = type("Widget", (), {})
    sys.modules["ipywidgets"] = widgets
else:
    sys.modules["ipywidgets"] = None  # not installed
from batched_bandit import progress
print(progress.NOTEBOOK)
"""


@pytest.mark.parametrize("widgets", [False, True])
def test_in_a_notebook_the_bar_is_tqdm_autos(widgets):
    """In a kernel with ipywidgets the bar is tqdm's widget; without, tqdm.auto's fallback warning
    is not shown and the bar stays text."""
    done = subprocess.run([sys.executable, "-c", f"WIDGETS = {widgets}\n{NOTEBOOK}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.strip() == str(widgets) and done.stderr == ""
