"""The command line, end to end: every option reaches run_batch, errors are one line with status 2."""

import json
import subprocess
import sys

import pytest
import torch

from batched_bandit import run_batch
from batched_bandit.cli import main


def cli(*args):
    return subprocess.run([sys.executable, "-m", "batched_bandit.cli", *args], capture_output=True, text=True)


VOLATILE = {"wall_time_s", "bandit_steps_per_s"}


def test_cli_json_equals_scalars_field_by_field():
    args = ["run", "--n-bandits", "300", "--episodes", "2", "--steps", "100", "--temperature", "0.1", "--lr", "0.02",
            "--arms", "0.3,-0.5,0", "--seed", "9", "--json", "--no-progress"]  # fmt: skip
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected = run_batch(
        300, arms=(0.3, -0.5, 0.0), temperature=0.1, lr=0.02, n_episodes=2, steps_per_episode=100, seed=9
    ).scalars()
    assert out.keys() == expected.keys()
    for key in expected.keys() - VOLATILE:
        assert out[key] == expected[key], key
    assert out["versions"]["torch"] and out["device"] == "cpu" and out["backend"] == expected["backend"]


def test_cli_passes_every_rule_option():
    args = ["run", "--n-bandits", "64", "--episodes", "2", "--steps", "30", "--win-prob", "0.2,0.5,0.7",
            "--reward-values", "1,0", "--optimizer", "adam", "--betas", "0.8,0.99", "--eps", "1e-6",
            "--weight-decay", "0.01", "--baseline", "ema", "--baseline-decay", "0.5", "--init-weights", "0.1,0,-0.1",
            "--temperature", "0.5", "--lr", "0.05", "--json", "--no-progress", "--backend", "torch"]  # fmt: skip
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected = run_batch(
        64, n_episodes=2, steps_per_episode=30, win_prob=(0.2, 0.5, 0.7), reward_values=(1, 0), optimizer="adam",
        betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, baseline=("ema", 0.5), init_weights=(0.1, 0, -0.1),
        temperature=0.5, lr=0.05, backend="torch",
    ).scalars()  # fmt: skip
    for key in expected.keys() - VOLATILE:
        assert out[key] == expected[key], key
    assert out["reward_model"] == "bernoulli" and (out["beta1"], out["beta2"]) == (0.8, 0.99)
    assert out["baseline"] == "ema" and out["baseline_decay"] == 0.5


def test_cli_passes_the_gaussian_model_the_dtype_and_centred_rmsprop():
    args = ["run", "--n-bandits", "32", "--episodes", "2", "--steps", "30", "--means", "0,0.5,1", "--reward-sd", "2.5",
            "--dtype", "float64", "--backend", "torch", "--temperature", "0.5", "--json", "--no-progress"]  # fmt: skip
    done = cli(*args)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    expected = run_batch(32, n_episodes=2, steps_per_episode=30, means=(0, 0.5, 1), reward_sd=2.5, temperature=0.5,
                         dtype=torch.float64, backend="torch").scalars()  # fmt: skip
    for key in expected.keys() - VOLATILE:
        assert out[key] == expected[key], key
    assert out["dtype"] == "float64" and out["reward_sd"] == 2.5 and out["reward_model"] == "gaussian"
    done = cli("run", "--n-bandits", "32", "--episodes", "2", "--steps", "30", "--optimizer", "rmsprop", "--centered",
               "--alpha", "0.9", "--temperature", "0.5", "--json", "--no-progress", "--backend", "torch")  # fmt: skip
    out = json.loads(done.stdout)
    expected = run_batch(32, n_episodes=2, steps_per_episode=30, optimizer="rmsprop", centered=True, alpha=0.9,
                         temperature=0.5, backend="torch").scalars()  # fmt: skip
    for key in expected.keys() - VOLATILE:
        assert out[key] == expected[key], key
    assert out["centered"] is True and out["alpha"] == 0.9


def test_cli_negative_list_values_need_no_equals_sign(capsys):
    assert main(["run", "--n-bandits", "20", "--steps", "10", "--episodes", "1", "--arms", "-0.5,0", "--json",
                 "--no-progress", "--init-weights", "-1"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["arms"] == [-0.5, 0.0] and out["init_weights"] == [-1.0, -1.0]


def test_cli_no_record_episodes_keeps_one(capsys):
    common = ["run", "--n-bandits", "10", "--episodes", "3", "--steps", "5", "--json", "--no-progress"]
    assert main(common) == 0
    assert json.loads(capsys.readouterr().out)["episodes_recorded"] == 3
    assert main([*common, "--no-record-episodes"]) == 0
    assert json.loads(capsys.readouterr().out)["episodes_recorded"] == 1


def test_cli_run_record_every_carries_the_trace_in_json_and_prints_nothing_new(capsys):
    common = ["run", "--n-bandits", "30", "--episodes", "2", "--steps", "15", "--no-progress", "--backend", "torch"]
    assert main([*common, "--json", "--record-every", "10"]) == 0
    out = json.loads(capsys.readouterr().out)
    res = run_batch(30, n_episodes=2, steps_per_episode=15, backend="torch", record_every=10)
    assert out["record_every"] == 10 and out["trace"]["step"] == [10, 20, 30]
    for name in ("success", "p_best", "regret", "reward", "optimal_action"):
        assert out["trace"][name] == getattr(res.trace, name).double().mean(dim=0).tolist(), name
    assert main(common) == 0
    plain = capsys.readouterr().out
    assert main([*common, "--record-every", "10"]) == 0
    assert capsys.readouterr().out.splitlines()[:-1] == plain.splitlines()[:-1]  # the last line: the timing


def test_counts_accept_whole_numbers_written_as_floats_like_the_api(capsys):
    assert main(["run", "--n-bandits", "1e2", "--episodes", "2.0", "--steps", "10", "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_bandits"] == 100 and out["n_episodes"] == 2
    assert run_batch(100.0, n_episodes=2.0, steps_per_episode=10).n_bandits == 100
    assert main(["run", "--steps", "100.5"]) == 2
    err = capsys.readouterr().err
    with pytest.raises(ValueError) as api_error:
        run_batch(10, steps_per_episode=100.5)
    assert str(api_error.value) in err  # the same message


def test_cli_summary_for_one_bandit():
    done = cli("run", "--n-bandits", "1", "--episodes", "2", "--steps", "50")
    assert done.returncode == 0, done.stderr
    assert "Episode 2: Total reward" in done.stdout and "is the most promising" in done.stdout


BAD_RUN = [
    (["--temperature", "0"], "temperature must be finite and > 0, got 0.0"),
    (["--temperature", "1e-30"], "temperature 1e-30 is too small for lr 0.01"),
    (["--lr", "1e-300"], "lr = 1e-300 underflows in float32"),
    (["--arms", "0,1e300"], "arms = 1e+300 overflows in float32"),
    (["--arms", "1"], "arms must have at least 2 arms"),
    (["--arms", "a,b"], "expected comma-separated numbers"),
    (["--arms", "1,2", "--arms", "1,3"], "--arms given twice"),
    (["--arms", "1,2", "--means", "1,3"], "not allowed with argument"),
    (["--steps", "10", "--steps", "20"], "--steps given twice"),
    (["--n-bandits", "0"], "n_bandits must be an integer >= 1, got 0"),
    (["--n-bandits", "1000000000000"], "this run needs about"),
    (["--device", "cuda:7"], "device"),
    (["--backend", "nope"], "backend must be"),
    (["--optimizer", "adam", "--momentum", "0.9"], "momentum is not an option of optimizer 'adam'"),
    (["--baseline", "ema"], "baseline_decay is required with baseline ema"),
    (["--reward-sd", "2"], "reward_sd is not an option of model 'threshold'"),
    (["--betas", "0.8,0.9", "--beta1", "0.7", "--optimizer", "adam"], "give --betas B1,B2 or --beta1/--beta2"),
    (["--reward-values", "0,1"], "reward_values must be (win, loss) with win > loss"),
    (["--win-prob", "0.5,1.5"], "win_prob must be probabilities in [0, 1]"),
    (["--nesterov"], "nesterov requires momentum > 0"),
    (["--weight-decay", "300"], "SGD diverges when lr * weight_decay >= 2"),
    (["--steps", "1e20"], "steps_per_episode must be an integer in [1, 2,147,483,647]"),
    (["--n-bandits", "1e20"], "must be at most 9,223,372,036,854,775,807 (2**63 - 1"),
    (["--n-bandits", "12345678901234567891"], "got 12,345,678,901,234,567,891 x 50 x 1,000"),  # read exactly
    (["--reward-values", "1e-46,0"], "(win 1e-46, loss 0.0) round to the same float32 value 0.0"),
    (["--momentum", "0.999999999"], "momentum = 0.999999999 rounds to 1 in float32"),
]


@pytest.mark.parametrize("args, message", BAD_RUN)
def test_cli_bad_input_is_one_line_and_status_2(args, message, capsys):
    assert main(["run", "--no-progress", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("batched-bandit run: error: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err


def test_cli_bad_input_from_a_shell_has_no_traceback():
    done = cli("run", "--temperature", "1e-25")
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""


def test_cli_run_passes_chunk_size(monkeypatch, capsys):
    from batched_bandit.cli import run as run_command

    seen = []
    monkeypatch.setattr(run_command, "run_batch", lambda *a, **kw: seen.append(kw) or run_batch(*a, **kw))
    assert main(["run", "--n-bandits", "40", "--episodes", "1", "--steps", "5", "--chunk-size", "16", "--json",
                 "--no-progress"]) == 0  # fmt: skip
    assert seen[0]["chunk_size"] == 16 and json.loads(capsys.readouterr().out)["n_bandits"] == 40


def test_cli_sweep_log_spaces_the_ranges_named_by_axis_or_flag():
    from batched_bandit.cli import build_parser
    from batched_bandit.cli.sweep import axes_of

    parser = build_parser()
    ranges = ["--lr", "0.01:1:3", "--episodes", "1:100:3", "--steps", "10:1000:3", "--temperature", "1:3:3"]
    args = parser.parse_args(["sweep", "--out", "x", *ranges, "--log", "lr", "episodes", "steps_per_episode"])
    axes = axes_of(args, parser)
    assert list(axes["lr"]) == [0.01, 0.1, 1.0]  # rounded to 12 digits: exactly what one would type
    assert list(axes["n_episodes"]) == [1, 10, 100] and list(axes["steps_per_episode"]) == [10, 100, 1000]
    assert list(axes["temperature"]) == [1.0, 2.0, 3.0]  # not named: linear


def option_flags(command: str) -> set[str]:
    """The option flags (schema.py's) a command accepts."""
    from batched_bandit.cli import build_parser
    from batched_bandit.schema import OPTIONS

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    flags = {flag for action in sub._actions for flag in action.option_strings}
    return {o.flag for o in OPTIONS.values()} & flags | ({"--betas"} & flags)


def test_every_command_that_simulates_takes_the_same_option_flags():
    from batched_bandit.schema import OPTIONS

    every = {o.flag for o in OPTIONS.values()} | {"--betas"}
    assert option_flags("run") == option_flags("sweep") == option_flags("threshold") == option_flags("optimum") == every


def test_threshold_takes_every_rule_option(tmp_path, monkeypatch, capsys):
    """--centered, --init-weights, --dampening and --nesterov reach threshold (refused in 0.2)."""
    from batched_bandit.cli import threshold as threshold_command

    seen = {}

    def fake(out, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr("batched_bandit.study.threshold", fake)
    args = ["threshold", "--out", str(tmp_path), "--momentum", "0.9", "--nesterov", "--init-weights", "0.5",
            "--dampening", "0", "--episodes", "2", "--steps", "10", "--no-progress"]  # fmt: skip
    assert main(args) == 2 and "stop here" in capsys.readouterr().err
    assert seen["nesterov"] is True and seen["momentum"] == 0.9 and seen["init_weights"] == 0.5
    assert seen["dampening"] == 0.0 and seen["n_episodes"] == 2 and threshold_command is not None
    assert main(["threshold", "--out", str(tmp_path), "--optimizer", "rmsprop", "--centered", "false"]) == 2
    assert seen["centered"] is False and seen["optimizer"] == "rmsprop"


@pytest.mark.parametrize(
    "text, values",
    [
        ("0.03125:2:7:log", [0.03125, 0.0625, 0.125, 0.25, 0.5, 1.0, 2.0]),  # numpy: 0.12499999999999999, ...
        ("0:1:11", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),  # numpy: 0.30000000000000004, ...
        ("-0.3:0.3:7", [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3]),  # numpy: 5.6e-17 for the middle
        ("0.001:1000:7:log", [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]),
        ("1:10:3:log", [1.0, 3.16227766017, 10.0]),  # 12 significant digits
        ("1e-7:3e-7:5", [1e-7, 1.5e-7, 2e-7, 2.5e-7, 3e-7]),
        ("0.12345678901234567:1:3:lin", [0.12345678901234567, 0.56172839451, 1.0]),  # ends as typed; 12 digits of 1
        ("5:6:1", [5.0]),
    ],
)
def test_ranges_give_the_numbers_people_type(text, values):
    from batched_bandit.cli.args import parse_axis

    assert parse_axis("--lr", text) == values
    assert all(type(v) is float for v in values)


def test_a_range_that_rounds_to_repeats_is_refused():
    from batched_bandit.cli.args import parse_axis

    for text in ("1:1.0000000000001:3", "2:2:2"):
        with pytest.raises(ValueError, match=f"--lr: the range {text} gives repeated values"):
            parse_axis("--lr", text)


def test_a_table_s_numbers_name_settings_in_compare(tmp_path, capsys):
    """Issue 17's example end to end: a log range stores 0.125 (not 0.12499999999999999), and compare takes
    lr as a table shows it (0.03162 for 0.0316227766...); its errors list the values in numeric order."""
    from batched_bandit.study import load_rows

    common = ["--n-bandits", "50", "--episodes", "1", "--steps", "20", "--no-figures", "--no-progress"]
    assert main(["sweep", "--out", str(tmp_path / "pow2"), "--lr", "0.03125:2:7:log", *common]) == 0
    assert [r["lr"] for r in load_rows(tmp_path / "pow2")] == [0.03125, 0.0625, 0.125, 0.25, 0.5, 1.0, 2.0]
    assert main(["sweep", "--out", str(tmp_path / "log"), "--lr", "0.001:1:7:log", *common]) == 0
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "log"), "--a", "lr=0.03162", "--b", "lr=0.1", "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["a"]["lr"] == 0.0316227766017 and record["b"]["lr"] == 0.1
    assert main(["compare", str(tmp_path / "log"), "--a", "lr=0.02", "--b", "lr=0.1"]) == 2
    assert "values in the study: lr 0.001, 0.00316228, 0.01, 0.0316228, 0.1, 0.316228, 1\n" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["run"], ["sweep"], ["plot"], ["compare"], ["threshold"], ["optimum"]])
def test_every_help_prints(command, capsys):
    """--help of the program and of each command (a bare % in a help string broke the program's)."""
    assert main([*command, "--help"]) == 0
    assert "usage: batched-bandit" in capsys.readouterr().out
