"""Every engine against the independent specification (tests/spec.py): same stream, same arms and
rewards, same weights up to float32 rounding, for the seed's rule, baselines and each reward model."""

import pytest
import spec
import torch
from conftest import FAST_BACKENDS, need
from rules import ENGINE_CASES, RULES, bandit_options, options

from batched_bandit.options import make_setup
from batched_bandit.run import simulate_chunks

# the rules tests/spec.py knows: plain SGD with or without a baseline, any reward model, any init
SPEC_CASES = [name for name in ENGINE_CASES if not {"optimizer", "momentum", "weight_decay"} & set(RULES[name])]
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
@pytest.mark.parametrize("case", SPEC_CASES)
def test_engine_follows_the_specification(case, backend):
    resolved = options(case, N_BANDITS)
    first_id = 2**32 - N_BANDITS // 2  # ids straddle 2**32: both halves of the counter matter
    ids = torch.arange(first_id, first_id + N_BANDITS)
    setup = make_setup(N_BANDITS, ids, **resolved)
    need(backend, n_arms=setup.batch.n_arms, rule=setup.batch.rule)
    out = simulate_chunks(
        setup, backend=backend, device=torch.device("cpu"), seed=SEED, n_episodes=N_EPISODES,
        steps_per_episode=STEPS, record_episodes=True, chunk_size=N_BANDITS, dtype=torch.float32,
    )  # fmt: skip
    expected = [
        spec.simulate(
            SEED, first_id + i, n_episodes=N_EPISODES, steps=STEPS, **spec_options(bandit_options(resolved, i))
        )
        for i in range(N_BANDITS)
    ]
    sums = torch.tensor([s for s, _ in expected], dtype=torch.float64)
    weights = torch.tensor([w for _, w in expected], dtype=torch.float64)
    got_sums = out["episode_rewards"].double()
    tolerance = 1e-4 if "gaussian" in case else 0.0  # Gaussian sums: float32 normals and additions
    same = ((got_sums - sums).abs() <= tolerance * sums.abs().clamp_min(1)).flatten(1).all(dim=1)
    assert int(same.sum()) >= N_BANDITS - 1, f"{int((~same).sum())} bandits left the specification's path"
    torch.testing.assert_close(out["weights"][same].double(), weights[same], rtol=1e-4, atol=2e-5)
