import random

import numpy as np
import pytest
import spec
import torch

from batched_bandit import run_batch
from batched_bandit.rng import MASK32, philox4x32, step_uniforms
from batched_bandit.stats import chi_square_sf

# Random123 known-answer vectors for philox4x32-10: (counter, key, output).
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK32,) * 4, (MASK32,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("counter, key, expected", KAT)
def test_philox_known_answers(counter, key, expected):
    out = philox4x32(*(torch.tensor([c]) for c in counter), *key)
    assert tuple(int(o) for o in out) == expected
    assert spec.philox(counter, key) == expected  # the independent reference the other tests use


def test_philox_matches_exact_integer_arithmetic_on_random_inputs():
    rng = random.Random(1234)
    counters = [[rng.getrandbits(32) for _ in range(4)] for _ in range(500)]
    key = (rng.getrandbits(32), rng.getrandbits(32))
    out = philox4x32(*(torch.tensor(c) for c in zip(*counters)), *key)
    got = list(zip(*(o.tolist() for o in out)))
    assert got == [spec.philox(c, key) for c in counters]


def test_step_uniforms_is_a_function_of_seed_bandit_and_step():
    ids = torch.tensor([0, 5, 2**33 + 7, 123456789])
    whole = step_uniforms(42, ids, 0, 101)  # (101, 2, 4)
    # any window, odd or even start, equals the same slice of the whole
    for start, n in [(0, 1), (1, 1), (3, 10), (50, 51), (100, 1)]:
        torch.testing.assert_close(step_uniforms(42, ids, start, n), whole[start : start + n], rtol=0, atol=0)
    # any subset or order of bandits sees the same numbers
    torch.testing.assert_close(step_uniforms(42, ids[[2]], 0, 101)[:, :, 0], whole[:, :, 2], rtol=0, atol=0)
    # the seed matters, and the two words of a step differ
    assert not torch.equal(step_uniforms(43, ids, 0, 101), whole)
    assert not torch.equal(whole[:, 0], whole[:, 1])


def test_one_tensor_for_several_counter_words_and_inputs_left_alone():
    """The rounds work in place: passing one tensor for two words once returned wrong words."""
    z = torch.tensor([5, 2**32 - 1, 123456789], dtype=torch.int64)
    before = z.clone()
    words = philox4x32(z, z, z, z, 7, 9)
    expected = [spec.philox((int(v),) * 4, (7, 9)) for v in before]
    assert [tuple(int(w[i]) for w in words) for i in range(3)] == expected
    assert torch.equal(z, before)


def test_normal_deviates_are_the_inverse_normal_cdf_at_grid_midpoints():
    """to_normal(word) = Phi^-1((k + 1/2) 2^-24), k = word >> 8, within 1.5e-6 everywhere, with the
    tails at the ends of the grid (|z| = 5.42) and the exact symmetry of the midpoint grid."""
    from statistics import NormalDist

    from batched_bandit.rng import to_normal

    k = torch.cat([torch.arange(0, 3000), torch.randint(0, 2**24, (20000,), generator=torch.Generator().manual_seed(0)),
                   2**24 - 1 - torch.arange(3000)])  # fmt: skip
    z = to_normal(k << 8 | 0x5A)  # the low 8 bits do not matter
    expected = torch.tensor([NormalDist().inv_cdf((int(v) + 0.5) * 2**-24) for v in k], dtype=torch.float64)
    assert float((z.double() - expected).abs().max()) < 1.5e-6
    assert float(z.min()) == pytest.approx(-5.42, abs=0.005) and float(z.max()) == -float(z.min())
    torch.testing.assert_close(to_normal(k << 8), -to_normal((2**24 - 1 - k) << 8), rtol=0, atol=0)


def test_step_normals_are_standard_normal():
    z = step_uniforms(3, torch.arange(4000), 0, 50, normal_rewards=True)[:, 1].flatten().double()
    assert abs(float(z.mean())) < 4 * (1 / z.numel()) ** 0.5 and abs(float(z.var()) - 1) < 0.02
    u = step_uniforms(3, torch.arange(4000), 0, 50)  # the arm uniforms are the same either way
    assert torch.equal(step_uniforms(3, torch.arange(4000), 0, 50, normal_rewards=True)[:, 0], u[:, 0])


def test_step_uniforms_tiling_does_not_change_numbers(monkeypatch):
    ids = torch.arange(1000)
    reference = step_uniforms(7, ids, 3, 20)
    monkeypatch.setattr("batched_bandit.rng.TILE_ELEMENTS", 64)  # many small tiles
    torch.testing.assert_close(step_uniforms(7, ids, 3, 20), reference, rtol=0, atol=0)


def test_step_uniforms_word_layout():
    """Step 2p uses words 0, 1 of pair p's Philox call; step 2p + 1 words 2, 3 (spec.step_words)."""
    seed, g, pair = 2**40 + 3, 2**33 + 9, 2**32 + 5  # every half of key and counter matters
    u = step_uniforms(seed, torch.tensor([g]), 2 * pair, 2)[:, :, 0]
    expected = torch.tensor([spec.step_words(seed, g, t) for t in (2 * pair, 2 * pair + 1)], dtype=torch.float64)
    torch.testing.assert_close(u.double(), torch.floor(expected / 256) / 2**24, rtol=0, atol=0)


def test_uniforms_are_uniform():
    u = step_uniforms(0, torch.arange(2000), 0, 50).flatten()  # 200,000 numbers
    assert float(u.min()) >= 0 and float(u.max()) < 1
    counts = torch.histc(u, bins=20, min=0, max=1)
    expected = u.numel() / 20
    stat = float(((counts - expected) ** 2 / expected).sum())
    assert chi_square_sf(stat, 19) > 0.01


def test_library_never_touches_global_rng_state():
    torch.manual_seed(0)
    np.random.seed(0)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    run_batch(5, n_episodes=2, steps_per_episode=10)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1]) and after[2:] == numpy_state[2:]
