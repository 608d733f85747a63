"""Counter-based random streams: Philox4x32-10 in plain torch integer ops.

Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11). The numbers bandit ``g``
uses at step ``t`` are a pure function of ``(seed, g, t)``: one Philox call with key ``seed`` and
counter ``(t // 2, g)`` yields four 32-bit words, which feed two consecutive steps
(``t`` even: words 0, 1; ``t`` odd: words 2, 3). Of a step's two words, the first draws the arm,
the second the reward. Nothing here reads or changes torch's or numpy's global generators, and
the stream is the same on every device and in every engine.

32-bit words are held in int64 tensors. The 32x32 -> 64-bit product wraps modulo 2**64 in int64
(two's complement, on CPU and CUDA alike); its high and low halves are recovered with a shift and
a mask. ``tests/test_rng.py`` checks this against the Random123 known-answer vectors.
"""

from __future__ import annotations

import torch

MASK32 = 0xFFFFFFFF
PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9  # golden ratio
PHILOX_W1 = 0xBB67AE85  # sqrt(3) - 1
PHILOX_ROUNDS = 10
MAX_SEED = 2**64 - 1
UNIFORM_SCALE = 2.0**-24  # 24-bit uniforms are exact in float32


def philox4x32(c0, c1, c2, c3, k0: int, k1: int, rounds: int = PHILOX_ROUNDS):
    """Philox4x32-``rounds`` of the counter words ``c0..c3`` (int64 tensors, broadcastable, values
    in [0, 2**32)) under the key ``(k0, k1)``. Returns four int64 tensors of the broadcast shape."""
    shape = torch.broadcast_shapes(c0.shape, c1.shape, c2.shape, c3.shape)
    c0, c1, c2, c3 = (c.expand(shape).contiguous() for c in (c0, c1, c2, c3))
    p0, p1 = torch.empty_like(c0), torch.empty_like(c0)
    for _ in range(rounds):
        # In place, to keep the working set in cache. The low halves stay unmasked until they
        # are xor-ed into a high half, which is masked: one op per word and round saved.
        torch.mul(c0, PHILOX_M0, out=p0)
        torch.mul(c2, PHILOX_M1, out=p1)
        torch.bitwise_right_shift(p1, 32, out=c0).bitwise_xor_(c1).bitwise_xor_(k0)
        torch.bitwise_right_shift(p0, 32, out=c2).bitwise_xor_(c3).bitwise_xor_(k1)
        c0.bitwise_and_(MASK32)
        c2.bitwise_and_(MASK32)
        c1, p1 = p1, c1  # c1 <- lo(c2 * M1), c3 <- lo(c0 * M0)
        c3, p0 = p0, c3
        k0 = (k0 + PHILOX_W0) & MASK32
        k1 = (k1 + PHILOX_W1) & MASK32
    return c0, c1.bitwise_and_(MASK32), c2, c3.bitwise_and_(MASK32)


def to_uniform(word: torch.Tensor) -> torch.Tensor:
    """32-bit words -> float32 uniforms on the grid {0, 2**-24, ..., 1 - 2**-24}."""
    return (word >> 8).to(torch.float32) * UNIFORM_SCALE


TILE_ELEMENTS = 2**17  # Philox runs on tiles this large: about 1 MiB per word, cache resident


def step_uniforms(seed: int, bandit_ids: torch.Tensor, t_start: int, n_steps: int) -> torch.Tensor:
    """The two uniforms of steps ``t_start .. t_start + n_steps - 1`` of each bandit.

    bandit_ids: (B,) int64 global bandit indices. Returns (n_steps, 2, B) float32, time first (the
    engines scan over it): ``[:, 0]`` draws the arm, ``[:, 1]`` the reward.
    """
    n_bandits, device = bandit_ids.shape[0], bandit_ids.device
    first_pair, last_pair = t_start // 2, (t_start + n_steps - 1) // 2
    pairs = torch.arange(first_pair, last_pair + 1, device=device, dtype=torch.int64)[:, None]
    n_pairs = pairs.shape[0]
    draws = torch.empty(n_pairs, 4, n_bandits, device=device, dtype=torch.float32)
    tile = max(1, TILE_ELEMENTS // n_pairs)
    for lo in range(0, n_bandits, tile):
        ids = bandit_ids[None, lo : lo + tile]
        words = philox4x32(pairs & MASK32, pairs >> 32, ids & MASK32, ids >> 32, seed & MASK32, seed >> 32)
        for i, word in enumerate(words):
            draws[:, i, lo : lo + tile] = to_uniform(word)
    # (P, 4, B) -> (2P, 2, B): row 2p holds words 0, 1 of pair p, row 2p + 1 words 2, 3.
    offset = t_start - 2 * first_pair
    return draws.view(2 * n_pairs, 2, n_bandits)[offset : offset + n_steps]
