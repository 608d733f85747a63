"""Every engine against the independent specification (tests/spec.py): same stream, same arms and
rewards, same weights up to float32 rounding, for the seed's rule, baselines and each reward model."""

import pytest
import spec
import torch
from conftest import FAST_BACKENDS

from batched_bandit.engines import unavailable_reason
from batched_bandit.options import make_setup
from batched_bandit.run import simulate_chunks

CASES = {
    "seed": dict(temperature=0.5, lr=0.1),
    "low temperature": dict(temperature=0.05, lr=0.01),
    "mean baseline, (1, 0)": dict(temperature=0.3, lr=0.1, baseline="mean", reward_values=(1.0, 0.0)),
    "ema baseline, bernoulli": dict(win_prob=(0.3, 0.6, 0.5), temperature=0.3, lr=0.2, baseline=("ema", 0.8)),
    "gaussian": dict(means=(0.5, 1.0, -0.5, 0.0, 0.2), reward_sd=2.0, temperature=1.0, lr=0.05),
    "init weights": dict(temperature=1.0, lr=0.1, init_weights=(1.0, 0.0, -1.0, 0.5)),
}
SEED, N_BANDITS, N_EPISODES, STEPS = 2**33 + 5, 24, 3, 17  # a 64-bit seed; odd episodes straddle Philox pairs


def spec_options(options: dict) -> dict:
    o = dict(options)
    out = dict(temperature=o.pop("temperature"), lr=o.pop("lr"), baseline=o.pop("baseline", None))
    for key, model in (("arms", "threshold"), ("win_prob", "bernoulli"), ("means", "gaussian")):
        if key in o:
            out.update(model=model, params=o.pop(key))
    if "reward_values" in o:
        out["win"], out["loss"] = o.pop("reward_values")
    if "reward_sd" in o:
        out["sd"] = o.pop("reward_sd")
    if "init_weights" in o:
        out["init"] = o.pop("init_weights")
    assert not o, o
    return out


@pytest.mark.parametrize("backend", [*FAST_BACKENDS, "triton"])
@pytest.mark.parametrize("case", list(CASES))
def test_engine_follows_the_specification(case, backend):
    options = CASES[case]
    first_id = 2**32 - N_BANDITS // 2  # ids straddle 2**32: both halves of the counter matter
    ids = torch.arange(first_id, first_id + N_BANDITS)
    setup = make_setup(N_BANDITS, ids, **options)
    reason = unavailable_reason(backend, torch.device("cpu"), torch.float32, setup.batch.n_arms, setup.batch.rule)
    if reason is not None:
        pytest.skip(reason)
    out = simulate_chunks(
        setup, backend=backend, device=torch.device("cpu"), seed=SEED, n_episodes=N_EPISODES,
        steps_per_episode=STEPS, record_episodes=True, chunk_size=N_BANDITS, dtype=torch.float32,
    )  # fmt: skip
    expected = [
        spec.simulate(SEED, g, n_episodes=N_EPISODES, steps=STEPS, **spec_options(options))
        for g in range(first_id, first_id + N_BANDITS)
    ]
    sums = torch.tensor([s for s, _ in expected], dtype=torch.float64)
    weights = torch.tensor([w for _, w in expected], dtype=torch.float64)
    got_sums = out["episode_rewards"].double()
    tolerance = 1e-4 if "gaussian" in case else 0.0  # Gaussian sums: float32 normals and additions
    same = ((got_sums - sums).abs() <= tolerance * sums.abs().clamp_min(1)).flatten(1).all(dim=1)
    assert int(same.sum()) >= N_BANDITS - 1, f"{int((~same).sum())} bandits left the specification's path"
    torch.testing.assert_close(out["weights"][same].double(), weights[same], rtol=1e-4, atol=2e-5)
