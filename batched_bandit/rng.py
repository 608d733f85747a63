"""Counter-based random streams: Philox4x32-10 in plain torch integer ops.

Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11). The numbers bandit ``g``
uses at step ``t`` are a pure function of ``(seed, g, t)``: one Philox call with key ``seed`` and
counter ``(t // 2, g)`` yields four 32-bit words, which feed two consecutive steps
(``t`` even: words 0, 1; ``t`` odd: words 2, 3). Of a step's two words, the first draws the arm,
the second the reward (a uniform for binary rewards, a normal deviate for Gaussian ones). Nothing
here reads or changes torch's or numpy's global generators, and the stream is the same on every
device and in every engine.

32-bit words are held in int64 tensors. The 32x32 -> 64-bit product wraps modulo 2**64 in int64
(two's complement, on CPU and CUDA alike); its high and low halves are recovered with a shift and
a mask. ``tests/test_rng.py`` checks this against the Random123 known-answer vectors.
"""

from __future__ import annotations

import numpy as np
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
    # numpy's: torch.broadcast_shapes imports sympy on first use (1.5 s, most of a small sweep's time)
    shape = np.broadcast_shapes(c0.shape, c1.shape, c2.shape, c3.shape)
    # fresh copies: the rounds work in place, and one tensor may be passed for several words
    c0, c1, c2, c3 = (c.expand(shape).clone(memory_format=torch.contiguous_format) for c in (c0, c1, c2, c3))
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


# Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011), single precision: a
# polynomial in w = -log(1 - x^2), one for the centre (w < 5) and one in sqrt(w) for the tails.
ERFINV_CENTRE = (
    2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
    -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
)  # fmt: skip
ERFINV_TAIL = (
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
    -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
)  # fmt: skip
SQRT2 = 1.4142135623730951


def to_normal(word: torch.Tensor) -> torch.Tensor:
    """32-bit words -> float32 standard normal deviates, by inverse CDF at the midpoints of the
    uniform grid: ``z = Phi^-1((k + 1/2) 2**-24)`` with ``k = word >> 8``, so ``|z| <= 5.42``.

    ``Phi^-1(u) = sqrt(2) erfinv(x)`` with ``x = 2u - 1 = (2k + 1 - 2**24) 2**-24``, exact in float32;
    erfinv by Giles' single-precision polynomials (the fused engines compute the same formula).
    Every operation is IEEE float32 arithmetic except log and sqrt, which are taken in float64 and
    rounded once: correctly rounded float32 on every one of the 2**24 inputs, so each engine can
    reproduce the deviates bit for bit (torch's float32 log and sqrt on the CPU are MKL's, whose
    last bit depends on the machine).
    """
    x = ((word >> 8) * 2 + (1 - 2**24)).to(torch.float32) * UNIFORM_SCALE
    w = -torch.log(((1.0 - x) * (1.0 + x)).double()).float()
    centre, tail = w - 2.5, torch.sqrt(w.double()).float() - 3.0
    p_centre = torch.full_like(x, ERFINV_CENTRE[0])
    p_tail = torch.full_like(x, ERFINV_TAIL[0])
    for a, b in zip(ERFINV_CENTRE[1:], ERFINV_TAIL[1:]):
        p_centre = a + p_centre * centre
        p_tail = b + p_tail * tail
    return torch.where(w < 5.0, p_centre, p_tail) * x * SQRT2


TILE_ELEMENTS = 2**17  # Philox runs on tiles this large: about 1 MiB per word, cache resident


def step_uniforms(
    seed: int, bandit_ids: torch.Tensor, t_start: int, n_steps: int, *, normal_rewards: bool = False
) -> torch.Tensor:
    """The two draws of steps ``t_start .. t_start + n_steps - 1`` of each bandit.

    bandit_ids: (B,) int64 global bandit indices. Returns (n_steps, 2, B) float32, time first (the
    engines scan over it): ``[:, 0]`` the uniform that draws the arm, ``[:, 1]`` the uniform that
    draws a binary reward, or with ``normal_rewards`` the standard normal deviate of a Gaussian one.
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
        for i, word in enumerate(words):  # words 1 and 3 draw the rewards of steps 2p and 2p + 1
            draws[:, i, lo : lo + tile] = to_normal(word) if normal_rewards and i % 2 else to_uniform(word)
    # (P, 4, B) -> (2P, 2, B): row 2p holds words 0, 1 of pair p, row 2p + 1 words 2, 3.
    offset = t_start - 2 * first_pair
    return draws.view(2 * n_pairs, 2, n_bandits)[offset : offset + n_steps]


PROBLEM_COUNTER = MASK32  # counter word c1 of problem draws; the steps' c1 (t // 2 >> 32) never gets there
# The policies' own randomness, in counter ranges no other draw reaches (the steps' c1 is below 2**31,
# the problems' is 0xFFFFFFFF): the value policies' words of step t are Philox of (t mod 2**32,
# POLICY_TAG | t >> 32, g); Thompson sampling's, of (t mod 2**32, THOMPSON_TAG | draw << 20 |
# attempt << 8 | arm, g). So the step's own two words — the arm's uniform and the reward's — are the
# same whatever the policy (common random numbers), and a policy's extra draws never overlap them.
POLICY_TAG = 0x80000000
THOMPSON_TAG = 0xC0000000
MAX_POLICY_STEPS = 2**62  # steps a bandit can take with a value policy (c1 stays below THOMPSON_TAG)
MAX_THOMPSON_STEPS = 2**32  # with Thompson sampling (t is counter word c0 alone)
THOMPSON_ARMS, THOMPSON_ATTEMPTS, THOMPSON_DRAWS = 2**8, 2**12, 2**6  # bit fields of Thompson's c1


def policy_uniforms(seed: int, bandit_ids: torch.Tensor, t_start: int, n_steps: int) -> torch.Tensor:
    """The value policies' draws of steps ``t_start ..``: (n_steps, 4, B) float32 uniforms on the
    2**-24 grid, [the exploration coin, the uniform arm, the tie-break, a spare], one Philox call a
    step with counter (t mod 2**32, POLICY_TAG | t >> 32, g)."""
    steps = torch.arange(t_start, t_start + n_steps, device=bandit_ids.device, dtype=torch.int64)[:, None]
    ids = bandit_ids[None, :]
    words = philox4x32(steps & MASK32, POLICY_TAG | (steps >> 32), ids & MASK32, ids >> 32, seed & MASK32,
                       seed >> 32)  # fmt: skip
    return torch.stack([to_uniform(w) for w in words], dim=1)


def thompson_words(
    seed: int, bandit_ids: torch.Tensor, t: int, n_arms: int, attempt: int, draw: int = 0
) -> tuple[torch.Tensor, ...]:
    """Thompson sampling's four words for every arm at step ``t``, one rejection ``attempt`` of its
    gamma variates, posterior ``draw`` (0: the step's own; 1.. for estimating P(best)): 4 x (K, B)."""
    c1 = THOMPSON_TAG | draw << 20 | attempt << 8 | torch.arange(n_arms, device=bandit_ids.device, dtype=torch.int64)
    ids = bandit_ids[None, :]
    return philox4x32(torch.tensor(t & MASK32), c1[:, None], ids & MASK32, ids >> 32, seed & MASK32, seed >> 32)


def problem_uniforms(seed: int, bandit_ids: torch.Tensor, n_values: int) -> torch.Tensor:
    """``n_values`` uniforms per bandit for drawing its problem (random arms), disjoint from the steps.

    bandit_ids: (B,) int64 -> (B, n_values) float64 in (0, 1), on the grid (k + 1/2) 2**-52. Value
    ``i`` of bandit ``g`` is a function of (seed, g, i) alone: Philox with key ``seed`` and counter
    ``(i // 2, 0xFFFFFFFF, g)``, two 32-bit words per value. The steps use counter ``(t // 2 mod
    2**32, t // 2 >> 32, g)``, which reaches c1 = 0xFFFFFFFF only after 2**65 steps, so a bandit's
    problem and its trajectory never share a random number.
    """
    ids = bandit_ids.to(torch.int64).reshape(1, -1)
    blocks = torch.arange((n_values + 1) // 2, dtype=torch.int64)[:, None]
    c1 = torch.full_like(blocks, PROBLEM_COUNTER)
    words = philox4x32(blocks, c1, ids & MASK32, ids >> 32, seed & MASK32, seed >> 32)
    # 52 bits from two words (26 high bits of each), then the midpoint of the 2**-52 grid cell:
    # k + 1/2 is exact in float64 for k < 2**52, so a value is never 0 or 1 (finite normal deviates)
    first = ((words[0] >> 6) << 26 | (words[1] >> 6)).double()
    second = ((words[2] >> 6) << 26 | (words[3] >> 6)).double()
    k = torch.stack([first, second], dim=1).reshape(-1, ids.shape[1])[:n_values]  # (n_values, B)
    return ((k + 0.5) * 2.0**-52).T.contiguous()
