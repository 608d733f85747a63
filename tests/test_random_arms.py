"""Random problems per bandit: draws keyed by (seed, bandit), apart from the steps' stream."""

import numpy as np
import pytest
import torch

from batched_bandit import run_batch, sweep
from batched_bandit.random_arms import RandomArms
from batched_bandit.rng import MASK32, philox4x32, problem_uniforms
from batched_bandit.study import InProcess, gap_arms, load_rows, load_verdicts, normal_arms, uniform_arms


def test_problem_uniforms_are_a_function_of_seed_bandit_and_index():
    ids = torch.tensor([0, 1, 7, 2**33 + 5])
    u = problem_uniforms(9, ids, 5)
    assert u.shape == (4, 5) and u.dtype == torch.float64 and bool(((u > 0) & (u < 1)).all())
    assert torch.equal(problem_uniforms(9, ids[2:], 3), u[2:, :3])  # any subset, any count
    assert not torch.equal(problem_uniforms(10, ids, 5), u)
    # value 2 of bandit 7: Philox counter (1, 0xFFFFFFFF, 7, 0), words 0 and 1, 26 high bits each
    words = philox4x32(*(torch.tensor([c]) for c in (1, MASK32, 7, 0)), 9, 0)
    k = (int(words[0]) >> 6) << 26 | int(words[1]) >> 6
    assert float(u[2, 2]) == (k + 0.5) * 2.0**-52


@pytest.mark.parametrize("dist", [normal_arms(5, 0.5, 2.0), uniform_arms(5, -1.0, 3.0)])
def test_iid_draws_have_their_distribution(dist):
    values = dist.draw("threshold", 0, torch.arange(20000)).flatten()
    if dist.dist == "normal":
        assert abs(float(values.mean()) - 0.5) < 0.05 and abs(float(values.std()) - 2.0) < 0.05
    else:
        assert float(values.min()) >= -1 and float(values.max()) <= 3 and abs(float(values.mean()) - 1.0) < 0.03


def test_gaps_put_one_best_arm_at_a_uniform_position():
    for model in ("threshold", "bernoulli"):
        values = gap_arms(4, 0.1, 0.3, best=0.5).draw(model, 3, torch.arange(8000))
        best = values.argmin(dim=1) if model == "threshold" else values.argmax(dim=1)
        assert torch.equal(values[torch.arange(8000), best], torch.full((8000,), 0.5, dtype=torch.float64))
        gaps = (values - 0.5).abs().sort(dim=1).values[:, 1:]
        assert float(gaps.min()) >= 0.1 - 1e-12 and float(gaps.max()) <= 0.3 + 1e-12
        counts = torch.bincount(best, minlength=4).double() / 8000
        assert float((counts - 0.25).abs().max()) < 0.03


def test_text_forms_round_trip_and_bad_ones_are_refused():
    for dist in (normal_arms(4), uniform_arms(3, 0.1, 0.9), gap_arms(6, 0.05, 0.5), gap_arms(2, 0.1, 0.2, -1.0)):
        assert RandomArms.parse(str(dist)) == dist
    for text, message in (("normal:4:0", "random arms must be"), ("cauchy:4:0:1", "random arms must be"),
                          ("normal:1:0:1", r"K must be an integer in \[2, 1,048,576\]"),
                          ("uniform:3:1:0", "LOW must be <= HIGH"), ("gaps:3:0:1", "gaps must be > 0"),
                          ("normal:4:0:-1", "the sd must be >= 0"), ("normal:inf:0:1", "K must be an integer in"),
                          ("normal:nan:0:1", "K must be an integer in"), ("normal:1e30:0:1", "K must be an integer in"),
                          ("normal:2.5:0:1", "K must be an integer in"), ("normal:4:0:1e400", "must be finite"),
                          ("normal:4:0:1:2", "random arms must be"), ("uniform:4::1", "random arms must be"),
                          ("", "random arms must be")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            RandomArms.parse(text)


def test_random_problems_are_the_same_whatever_the_blocks(tmp_path):
    """A setting's bandits get the same problems, so the same verdicts, in any blocks, fused or
    not, and exactly run_batch's verdicts for those problems."""
    dist = normal_arms(4, 0.0, 0.5)
    common = dict(arms=[dist], temperature=[0.3, 3.0], n_bandits=120, n_episodes=2, steps_per_episode=40, seed=5)
    sweep(tmp_path / "one", **common, block_bandits=120)
    sweep(tmp_path / "many", **common, block_bandits=25, executor=InProcess(fuse_elements=1))
    problems = dist.draw("threshold", 5, torch.arange(120))
    for setting, temperature in enumerate((0.3, 3.0)):
        verdicts = load_verdicts(tmp_path / "one", setting)
        assert np.array_equal(verdicts, load_verdicts(tmp_path / "many", setting))
        alone = run_batch(120, arms=problems, temperature=temperature, n_episodes=2, steps_per_episode=40, seed=5)
        assert np.array_equal(verdicts, alone.success.numpy())
    rows = load_rows(tmp_path / "one")
    assert [r["arms"] for r in rows] == [dist, dist]
    assert (tmp_path / "one" / "results.csv").read_text().splitlines()[1].split(",")[3] == "normal:4:0.0:0.5"
