"""The mutant list for tools/mutate.py: small, plausible bugs, one per entry, over every module.

To add one: copy an entry, give it a new id (module prefix + what changes), an ``original`` snippet
that occurs exactly once in the file (add surrounding text until it does), the ``replacement``,
one line saying what bug it models, and the tests that should catch it (``tests(...)`` for files,
``suite(...)`` for every test file that can run the module, the named ones first). Set
``equivalent`` only when no input can tell the mutant from the original, and say why.
Never drop or weaken a mutant because it survives: a survivor is a finding about the tests.
"""

from __future__ import annotations

from mutate import Mutant

# test files that run the engines (directly or through run_batch / sweep / the CLI), cheap first
ENGINE_USERS = ("rng", "run", "torch_engine", "cpu_engine", "seed_path", "sweeps", "figures", "cli", "triton_engine")
ENGINE_USERS += ("reference",)  # last: a 17 s fixture (400 reference runs)


def tests(*names: str) -> tuple[str, ...]:
    """pytest arguments: "rng" -> tests/test_rng.py; a path or node id is kept as it is."""
    return tuple(n if "/" in n else f"tests/test_{n}.py" for n in names)


def suite(*first: str) -> tuple[str, ...]:
    """Every test file that can run an engine, the named ones first (with -x, a kill stops early)."""
    return tests(*first, *(n for n in ENGINE_USERS if n not in first))


RNG = tests("rng", "seed_path", "torch_engine", "cpu_engine", "triton_engine", "sweeps", "reference")
POLICY = tests("policy", "torch_engine")  # policy.py is the spec: only tests import it, the engines inline it
PROBLEM = suite("torch_engine", "run", "seed_path", "cpu_engine")
RUN = suite("run", "cli", "sweeps")
STATS = tests("stats", "rng", "policy", "run", "torch_engine", "sweeps", "reference")
SWEEPS = tests("sweeps", "figures", "cli")
FIGURES = tests("figures", "sweeps")
CLI = tests("cli", "sweeps", "figures")
REGISTRY = suite("cpu_engine", "run", "triton_engine", "sweeps")
TORCH = suite("torch_engine", "seed_path", "cpu_engine", "sweeps")
CPU = suite("cpu_engine", "seed_path", "torch_engine", "run", "sweeps")  # auto picks the fused engine on CPU
TRITON = tests(
    "triton_engine",
    "tests/test_seed_path.py::test_seed_path_is_pinned_on_the_triton_kernel",
    "tests/test_sweeps.py::test_lr_and_temperature_act_only_through_lr_over_t2",
)
REFERENCE = tests("reference", "policy")

R, PO, PB = "batched_bandit/rng.py", "batched_bandit/policy.py", "batched_bandit/problem.py"
RU, ST, SW = "batched_bandit/run.py", "batched_bandit/stats.py", "batched_bandit/sweeps.py"
FI, CL, RF = "batched_bandit/figures.py", "batched_bandit/cli.py", "batched_bandit/reference.py"
EN, TE = "batched_bandit/engines/__init__.py", "batched_bandit/engines/torch_engine.py"
CE, CK = "batched_bandit/engines/cpu_engine.py", "batched_bandit/engines/cpu_kernel.c"
TR = "batched_bandit/engines/triton_engine.py"

# A table, one mutant per entry with its fields on two or three lines: the formatter leaves it alone.
# fmt: off
MUTANTS = [
    # --- rng.py: Philox4x32-10 and the uniforms -------------------------------------------------
    Mutant("rng-m0", R, "PHILOX_M0 = 0xD2511F53", "PHILOX_M0 = 0xD2511F35",
           "a typo in the first Philox multiplier", RNG),
    Mutant("rng-w1", R, "PHILOX_W1 = 0xBB67AE85", "PHILOX_W1 = 0xBB67AE58",
           "a typo in the second Weyl key increment", RNG),
    Mutant("rng-shift", R, "torch.bitwise_right_shift(p1, 32, out=c0)", "torch.bitwise_right_shift(p1, 31, out=c0)",
           "the high half of a 64-bit product taken with a shift of 31", RNG),
    Mutant("rng-key-half", R, ".bitwise_xor_(c3).bitwise_xor_(k1)", ".bitwise_xor_(c3).bitwise_xor_(k0)",
           "the second Philox word xor-ed with the wrong half of the key", RNG),
    Mutant("rng-mask-dropped", R, "        c0.bitwise_and_(MASK32)\n", "",
           "the 32-bit mask of a new high word dropped", RNG),
    Mutant("rng-key-mask", R, "k0 = (k0 + PHILOX_W0) & MASK32", "k0 = k0 + PHILOX_W0",
           "the key schedule not reduced mod 2**32", RNG,
           equivalent="the key only enters through bitwise_xor_ into c0, which is masked to 32 bits right after, "
           "and Python ints do not overflow: the low 32 bits, all that survive, are the same"),
    Mutant("rng-uniform-shift", R, "return (word >> 8).to(torch.float32)", "return (word >> 9).to(torch.float32)",
           "uniforms from 23 bits: they cover [0, 0.5) only", RNG),
    Mutant("rng-uniform-scale", R, "UNIFORM_SCALE = 2.0**-24", "UNIFORM_SCALE = 2.0**-32",
           "the 32-bit scale applied to the 24-bit shifted word", RNG),
    Mutant("rng-seed-halves", R, "seed & MASK32, seed >> 32)", "seed >> 32, seed & MASK32)",
           "the key's halves swapped (seed high word first)", RNG),
    Mutant("rng-id-high", R, "ids & MASK32, ids >> 32,", "ids & MASK32, ids * 0,",
           "the high 32 bits of the bandit id ignored in the counter", RNG),
    Mutant("rng-offset", R, "offset = t_start - 2 * first_pair", "offset = 0",
           "a window starting at an odd step read from the pair's first half", RNG),
    Mutant("rng-extra-pair", R, "(t_start + n_steps - 1) // 2", "(t_start + n_steps) // 2",
           "one Philox pair too many computed for the window", RNG,
           equivalent="the extra pair lies past the window and is sliced away by [offset : offset + n_steps]; "
           "tiling never changes numbers, so only the work grows"),
    # --- policy.py: the spec of the softmax policy and its SGD step -------------------------------
    Mutant("pol-sample-lt", PO, "(cdf[:, :-1] <= threshold[:, None])", "(cdf[:, :-1] < threshold[:, None])",
           "inverse-CDF draw with < instead of <= (a boundary uniform picks the lower arm)", POLICY),
    Mutant("pol-sample-last", PO, "(cdf[:, :-1] <= threshold[:, None])", "(cdf <= threshold[:, None])",
           "the last cumulative sum compared too (could draw arm K)", POLICY,
           equivalent="u <= 1 - 2**-24 and float rounding is monotone and exact just below a power of two, so "
           "fl(u * total) < total = cdf[-1]: the extra comparison is always False"),
    Mutant("pol-sgd-sign", PO, "return weights + scale * (onehot - probs)", "return weights - scale * (onehot - probs)",
           "gradient ascent on the loss (sign flip of the step)", POLICY),
    Mutant("pol-sgd-temperature", PO, "scale = (lr * reward * inv_temperature)[:, None]",
           "scale = (lr * reward)[:, None]", "the 1/T factor of the gradient dropped", POLICY),
    Mutant("pol-softmax-axis", PO, "z.amax(dim=1, keepdim=True)", "z.amax(dim=0, keepdim=True)",
           "the softmax shift taken over bandits instead of arms", POLICY),
    # --- problem.py: arms and rewards ------------------------------------------------------------
    Mutant("prob-erfc-sign", PB, "torch.erfc(arms.to(torch.float64) / math.sqrt(2.0))",
           "torch.erfc(-arms.to(torch.float64) / math.sqrt(2.0))",
           "P(+1) = Phi(value) instead of 1 - Phi(value): the worst arm pays best", PROBLEM),
    Mutant("prob-sqrt2", PB, "/ math.sqrt(2.0))", "/ 2.0)", "erfc scaled by 2 instead of sqrt(2)", PROBLEM),
    Mutant("prob-best-argmax", PB, "return torch.argmin(arms, dim=-1)", "return torch.argmax(arms, dim=-1)",
           "the best arm taken as the highest value", PROBLEM),
    Mutant("prob-reward-le", PB, "torch.where(u < win_prob, 1.0, -1.0)", "torch.where(u <= win_prob, 1.0, -1.0)",
           "reward test u <= q instead of u < q (the portable engine)", PROBLEM),
    # --- run.py: checks, verdict, result ---------------------------------------------------------
    Mutant("run-verdict-first-episode", RU, "last_sums = out.episode_rewards[:, -1]",
           "last_sums = out.episode_rewards[:, 0]", "the verdict read from the first episode", RUN),
    Mutant("run-verdict-argmin", RU, "success = torch.argmax(last_sums, dim=1) == batch.best_arm",
           "success = torch.argmin(last_sums, dim=1) == batch.best_arm",
           "the verdict takes the arm with the lowest sum", RUN),
    Mutant("run-scalars-p-best", RU, "float(self.episode_p_best[:, -1].mean())",
           "float(self.episode_p_best[:, 0].mean())", "scalars()' mean_final_p_best read from episode 0", RUN),
    Mutant("run-summary-verdict-index", RU, 'verdict = "right" if bool(self.success[0]) else "wrong"',
           'verdict = "right" if bool(self.success[-1]) else "wrong"', "the one-bandit verdict read from row -1", RUN,
           equivalent="the line is reached only when n_bandits == 1, where rows 0 and -1 are the same"),
    Mutant("run-summary-unrecorded", RU,
           "if self.n_bandits == 1 and self.episode_rewards.shape[1] == self.n_episodes:", "if self.n_bandits == 1:",
           "one-bandit summary prints 'Episode 1' for the last episode when episodes are not recorded", RUN),
    Mutant("run-summary-action", RU, "choice = int(torch.argmax(self.episode_rewards[0, -1])) + 1",
           "choice = int(torch.argmax(self.episode_rewards[0, -1]))", "the seed's 1-based action printed 0-based", RUN),
    Mutant("run-check-count", RU, "or value < 1:", "or value <= 0:", "count check written as <= 0", RUN,
           equivalent="value is an int or numpy integer at that point (the isinstance test comes first), and for "
           "integers value < 1 and value <= 0 agree"),
    Mutant("run-seed-max", RU, "not 0 <= seed <= MAX_SEED", "not 0 <= seed < MAX_SEED",
           "the largest seed 2**64 - 1 refused (off by one)", RUN),
    Mutant("run-positive-zero", RU, "(torch.isfinite(values) & (values > 0))",
           "(torch.isfinite(values) & (values >= 0))",
           "temperature or lr 0 accepted", RUN),
    Mutant("run-arms-k", RU, "if values.shape[1] < 2:", "if values.shape[1] < 1:", "one-armed bandits accepted", RUN),
    Mutant("run-step-range", RU, '("lr", lr.to(dtype) * inv_temperature)', '("lr", lr.to(dtype))',
           "the range check of lr / T forgets the 1/T factor", RUN),
    Mutant("run-final-probs", RU, "torch.softmax(out.weights.double() / temperatures[:, None], dim=1)",
           "torch.softmax(out.weights.double(), dim=1)", "final_probs computed without the temperature", RUN),
    Mutant("run-record-check", RU, "if not isinstance(record_episodes, bool):", "if False:",
           "record_episodes not checked", RUN),
    Mutant("run-progress-count", RU, "done += n_steps * chunk_bandits", "done += n_steps",
           "progress counts steps, not bandit-steps", RUN),
    Mutant("run-chunk-overlap", RU, "chunk = batch[lo : lo + chunk_size].to(device)",
           "chunk = batch[lo : lo + chunk_size + 1].to(device)", "chunks overlap by one bandit", RUN),
    Mutant("run-ci-args", RU, "return wilson_interval(self.n_successes, self.n_bandits)",
           "return wilson_interval(self.n_bandits, self.n_successes)", "Wilson interval arguments swapped", RUN),
    Mutant("run-rate-episodes", RU, "bandit_steps_per_s=n_bandits * n_episodes * steps_per_episode / wall",
           "bandit_steps_per_s=n_bandits * steps_per_episode / wall", "throughput forgets the episodes", RUN),
    # --- stats.py --------------------------------------------------------------------------------
    Mutant("stats-wilson-z", ST, "NormalDist().inv_cdf(0.5 + confidence / 2)", "NormalDist().inv_cdf(confidence)",
           "one-sided z (1.645) for a two-sided 95% interval", STATS),
    Mutant("stats-wilson-half", ST, "z * z / (4 * n * n)", "z * z / (4 * n)",
           "the Wilson half-width's second term divided by n instead of n**2", STATS),
    Mutant("stats-wilson-clamp", ST, "return max(0.0, centre - half), min(1.0, centre + half)",
           "return centre - half, min(1.0, centre + half)",
           "the lower bound not clamped: 0 successes give a tiny negative bound (-5.6e-17 for n = 2)", STATS),
    Mutant("stats-z-se", ST, "(1 / n_a + 1 / n_b)", "(1 / n_a - 1 / n_b)", "pooled z test's variance sign flip", STATS),
    Mutant("stats-z-one-sided", ST, "return z, 2 * (1 - NormalDist().cdf(abs(z)))",
           "return z, 1 - NormalDist().cdf(abs(z))", "a one-sided p-value for the two-sided z test", STATS),
    Mutant("stats-chi-even", ST, "for i in range(1, df // 2):", "for i in range(1, df // 2 + 1):",
           "one term too many in the even-df chi-square tail", STATS),
    Mutant("stats-chi-odd", ST, "term *= x / (2 * i + 1)", "term *= x / (2 * i - 1)",
           "wrong odd factorial in the odd-df chi-square tail", STATS),
    Mutant("stats-homogeneity-df", ST, "df = (len(rows) - 1) * (len(cols) - 1)", "df = len(rows) * (len(cols) - 1)",
           "degrees of freedom off by one row", STATS),
    # --- sweeps.py -------------------------------------------------------------------------------
    Mutant("sw-grid-order", SW,
           "for e, s, a, rate, t in itertools.product(episodes, steps, arm_vectors, lrs, temperatures)",
           "for e, s, a, t, rate in itertools.product(episodes, steps, arm_vectors, temperatures, lrs)",
           "grid order: lr innermost instead of temperature", SWEEPS),
    Mutant("sw-axis-unsorted", SW, "values = sorted(checked.tolist())", "values = checked.tolist()",
           "float axes kept in the given order, not sorted", SWEEPS),
    Mutant("sw-resume-min", SW, "return min(n_results, n_curves)", "return n_results",
           "resume trusts results.csv and ignores missing curve rows", SWEEPS),
    Mutant("sw-resume-curve-rows", SW, "sum(s.n_episodes for s in settings[:n_done])",
           "sum(s.n_episodes for s in settings[: n_done + 1])",
           "resume keeps the curve rows of the first unfinished setting", SWEEPS),
    Mutant("sw-csv-digits", SW, 'return format(float(value), ".12g")', 'return format(float(value), ".6g")',
           "computed CSV values written with 6 significant digits", SWEEPS),
    Mutant("sw-locked-temperature", SW, "z = weights.numpy().astype(np.float64) / setting.temperature",
           "z = weights.numpy().astype(np.float64)",
           "locked_wrong computed from softmax(w), not softmax(w / T)", SWEEPS),
    Mutant("sw-locked-threshold", SW, "(probs.max(axis=1) > LOCK_THRESHOLD) & (probs.argmax(axis=1) != best)",
           "(probs.max(axis=1) > LOCK_THRESHOLD) & (probs.argmax(axis=1) == best)",
           "locked_wrong counts bandits locked on the right arm", SWEEPS),
    Mutant("sw-sd-ddof", SW, 'float(p_best[-1].std())', 'float(p_best[-1].std(ddof=1))',
           "sd_final_p_best with n - 1 instead of n", SWEEPS),
    Mutant("sw-mean-reward", SW, "last_reward / (n * setting.steps_per_episode)", "last_reward / n",
           "mean reward per bandit, not per step", SWEEPS),
    Mutant("sw-curve-step", SW, '"step": (e + 1) * setting.steps_per_episode', '"step": e * setting.steps_per_episode',
           "curves' step column counts steps before the episode", SWEEPS),
    Mutant("sw-successes-axis", SW, "(rewards.argmax(axis=2) == best).sum(axis=0)",
           "(rewards.argmax(axis=2) == best).sum(axis=1)", "successes summed over episodes, not bandits", SWEEPS),
    Mutant("sw-common-streams", SW, "torch.arange(n_bandits).repeat(n_settings)",
           "torch.arange(n_bandits * n_settings)",
           "settings of a batch get different random streams (no common random numbers)", SWEEPS),
    Mutant("sw-progress-end", SW, "if base + done < steps_total:", "if base + done <= steps_total:",
           "the sweep's last progress call repeated", SWEEPS),
    # --- figures.py ------------------------------------------------------------------------------
    Mutant("fig-xscale", FI, 'ax.set_xscale("log")', 'ax.set_xscale("linear")',
           "temperature axis linear instead of log", FIGURES),
    Mutant("fig-band", FI, "ax.fill_between(t, low, high, color=line.get_color(), alpha=0.2)", "pass",
           "the Wilson band not drawn", FIGURES),
    Mutant("fig-uniform-line", FI, "ax.axhline(1 / len(problem[0])", "ax.axhline(1 / len(problem)",
           "the 1/K reference line drawn at 1/3 (the problem tuple's length)", FIGURES),
    Mutant("fig-sort-key", FI, 'key=lambda r: r["temperature"]', 'key=lambda r: r["lr_over_T2"]',
           "a panel's points sorted by lr/T^2 (descending T)", FIGURES),
    Mutant("fig-picks", FI, "round(i * (n - 1) / (MAX_CURVES - 1))", "round(i * n / (MAX_CURVES - 1))",
           "learning-curve temperatures picked past the end of the grid", FIGURES),
    Mutant("fig-about-seed", FI, "seed {spec['seed']}", "seed {spec['n_bandits']}",
           "the figures' subtitle shows n_bandits as the seed", FIGURES),
    # --- cli.py ----------------------------------------------------------------------------------
    Mutant("cli-log-lr", CL, 'lr=parse_axis("--lr", args.lr, log=args.log)', 'lr=parse_axis("--lr", args.lr)',
           "--log not applied to --lr ranges", CLI),
    Mutant("cli-log-episodes", CL, 'parse_axis("--episodes", args.n_episodes, log=args.log, integer=True)',
           'parse_axis("--episodes", args.n_episodes, integer=True)', "--log not applied to --episodes ranges", CLI),
    Mutant("cli-no-record", CL, "record_episodes=args.record_episodes,", "record_episodes=True,",
           "--no-record-episodes ignored", CLI),
    Mutant("cli-chunk-size", CL, "chunk_size=args.chunk_size,", "chunk_size=None,",
           "--chunk-size ignored (memory not bounded as asked)", CLI),
    Mutant("cli-run-seed", CL, "steps_per_episode=args.steps_per_episode,\n        seed=args.seed,",
           "steps_per_episode=args.steps_per_episode,\n        seed=0,", "run --seed ignored", CLI),
    Mutant("cli-geomspace", CL, "(np.geomspace if log else np.linspace)", "(np.linspace if log else np.geomspace)",
           "--log ranges linear and plain ranges geometric", CLI),
    Mutant("cli-num-zero", CL, "if num < 1:", "if num < 0:", "a range with num = 0 accepted (an empty axis)", CLI),
    Mutant("cli-repeats", CL, "if len(set(rounded)) < len(rounded):", "if False:",
           "an integer range that rounds to repeats is not refused", CLI),
    Mutant("cli-exit-status", CL, "        return 2\n    except KeyboardInterrupt:",
           "        return 1\n    except KeyboardInterrupt:",
           "bad input exits 1 instead of argparse's 2", CLI),
    Mutant("cli-progress-percent", CL, "{100 * done / total:5.1f}%", "{done / total:5.1f}%",
           "progress shows a fraction labelled as a percentage", CLI),
    # --- engines/__init__.py: the registry and backend choice -------------------------------------
    Mutant("eng-cpu-preference", EN, '"cpu": ("cpu", "torch")}', '"cpu": ("torch", "cpu")}',
           "auto prefers the portable engine over the fused one on CPU", REGISTRY),
    Mutant("eng-max-arms", EN, "if n_arms > MAX_ARMS.get(backend, n_arms):",
           "if n_arms >= MAX_ARMS.get(backend, n_arms + 1):",
           "64 arms refused by the fused engines (off by one)", REGISTRY),
    Mutant("eng-dtype", EN, "    if dtype not in dtypes:\n", "    if False:\n",
           "a backend's dtype support not checked", REGISTRY),
    Mutant("eng-triton-arms", EN, 'MAX_ARMS = {"cpu": 64, "triton": 64}', 'MAX_ARMS = {"cpu": 64, "triton": 128}',
           "the Triton engine's arm limit raised past what it holds in registers", REGISTRY),
    # --- torch_engine.py -------------------------------------------------------------------------
    Mutant("te-arm-lt", TE, "arm = (cdf[:-1] <= u_arm * total).sum(dim=0)",
           "arm = (cdf[:-1] < u_arm * total).sum(dim=0)",
           "the portable engine's arm draw with < instead of <=", TORCH),
    Mutant("te-slot", TE, "episode if record_episodes else 0]", "episode if record_episodes else -1]",
           "the unrecorded slot written as -1", TORCH,
           equivalent="without record_episodes the tensor has one slot, where 0 and -1 are the same index"),
    Mutant("te-sums-reset", TE, "        sums.zero_()\n", "",
           "per-arm sums not reset between episodes", TORCH),
    Mutant("te-p-best-arm", TE, "e.gather(0, batch.best_arm[None])[0] / total", "e[0] / total",
           "P(best) read from arm 0", TORCH),
    Mutant("te-reward-dropped", TE, "scale = lr * reward * inv_t / total", "scale = lr * inv_t / total",
           "the reward dropped from the step (every pull reinforced)", TORCH),
    Mutant("te-stream-restart", TE, "draws = step_uniforms(seed, batch.bandit_ids, t, n_steps)",
           "draws = step_uniforms(seed, batch.bandit_ids, block_start, n_steps)",
           "every episode reuses the first episode's random numbers", TORCH),
    # --- cpu_engine.py ---------------------------------------------------------------------------
    Mutant("ce-last-bandit", CE, "bounds = [(lo, min(lo + per_thread, n_bandits))",
           "bounds = [(lo, min(lo + per_thread, n_bandits - 1))", "the last bandit of a batch never simulated", CPU),
    Mutant("ce-record", CE, "            int(record_episodes),\n", "            1,\n",
           "record_episodes not passed to the kernel", CPU),
    Mutant("ce-ids-int32", CE, "ids = batch.bandit_ids.to(torch.int64).contiguous()",
           "ids = batch.bandit_ids.to(torch.int32).contiguous()",
           "bandit ids passed as int32 to an int64 argument", CPU),
    Mutant("ce-cache-key", CE, 'b"\\0".join([source, " ".join(flags).encode()', 'b"\\0".join([" ".join(flags).encode()',
           "the kernel cache key forgets the source: an edited kernel reuses the stale build", CPU),
    Mutant("ce-on-steps", CE, "on_steps(n_episodes * steps_per_episode)", "on_steps(steps_per_episode)",
           "progress reports one episode's steps", CPU),
    Mutant("ce-row-pointer", CE, "a.data_ptr() + lo * a.stride(0) * a.element_size()",
           "a.data_ptr() + lo * a.stride(0)",
           "a thread's row pointer in elements, not bytes", CPU),
    # --- cpu_kernel.c: the fused kernel ------------------------------------------------------------
    Mutant("ck-arm-lt", CK, "vi past = cdf <= threshold;", "vi past = cdf < threshold;",
           "the fused kernel's arm draw with cdf < threshold instead of <=", CPU),
    Mutant("ck-reward-le", CK, "vi won = to_uniform(word_reward) < q;", "vi won = to_uniform(word_reward) <= q;",
           "the fused kernel's reward test u <= q instead of u < q", CPU),
    Mutant("ck-id-high", CK, "g_hi[l] = (uint32_t)((uint64_t)ids[src] >> 32);", "g_hi[l] = 0;",
           "the fused kernel ignores the high 32 bits of the bandit id", CPU),
    Mutant("ck-m1", CK, "PHILOX_M1 = 0xCD9E8D57u", "PHILOX_M1 = 0xCD9E8D75u", "a typo in the kernel's Philox M1", CPU),
    Mutant("ck-key-schedule", CK, "k1 += PHILOX_W1;", "k1 += PHILOX_W0;", "both key words bumped by W0", CPU),
    Mutant("ck-poly", CK, "p = p * f + 9.618437357674640e-3f;", "p = p * f + 9.618437357674640e-2f;",
           "a wrong exponent in one coefficient of the exp polynomial", CPU),
    Mutant("ck-exp-round", CK, "__builtin_convertvector(y - 0.5f, vi)", "__builtin_convertvector(y + 0.5f, vi)",
           "exp's range reduction rounds the wrong way (f in [-1.5, -0.5], outside the polynomial's range)", CPU),
    Mutant("ck-exp-flush", CK, "select_f(x < -87.0f, splat(0.0f), result)", "select_f(x < -8.7f, splat(0.0f), result)",
           "exp flushes to zero below -8.7 instead of -87", CPU),
    Mutant("ck-compile-error", CK, "select_f(x < -87.0f, splat(0.0f), result)", "select_f(x < -87.0f, 0.0f, result)",
           "a scalar passed where a vector is expected: the kernel no longer compiles", CPU),
    Mutant("ck-pad-lane", CK, "int src = l < lanes_used ? l : 0;", "int src = l < lanes_used ? l : lanes_used - 1;",
           "padding lanes copy the last used lane instead of lane 0", CPU,
           equivalent="padding lanes are computed but never written out, and lanes never interact"),
    Mutant("ck-rewards-stride", CK, "rewards_out[(l * n_recorded + slot) * K + k]",
           "rewards_out[(l * n_episodes + slot) * K + k]",
           "episode slots strided by n_episodes when not recorded", CPU),
    Mutant("ck-p-best-lane", CK, "e[best[l]][l] / total[l]", "e[best[0]][l] / total[l]",
           "P(best) of every lane uses lane 0's best arm", CPU),
    Mutant("ck-word-half", CK, "int half = (int)(t & 1) * 2;", "int half = (int)(t & 1);",
           "odd steps read words 1, 2 instead of 2, 3", CPU),
    # --- triton_engine.py --------------------------------------------------------------------------
    Mutant("tr-log2e", TR, "log2_scale = inv_t * 1.4426950408889634", "log2_scale = inv_t * 1.4427",
           "log2(e) truncated to 1.4427", TRITON),
    Mutant("tr-uniform-shift", TR, "return (word >> 8).to(tl.float32)", "return (word >> 7).to(tl.float32)",
           "uniforms from 25 bits (values up to 2)", TRITON),
    Mutant("tr-philox-product", TR, "c3 = prev0 * 0xD2511F53", "c3 = prev2 * 0xD2511F53",
           "the low product taken of the wrong word", TRITON),
    Mutant("tr-arm-lt", TR, "below = (cdf <= (u_arm * total)[None, :])", "below = (cdf < (u_arm * total)[None, :])",
           "the Triton kernel's arm draw with < instead of <=", TRITON),
    Mutant("tr-arm-mask", TR, "& (arm_index < N_ARMS - 1)", "& (arm_index < N_ARMS)",
           "the last real arm's cumulative sum counted too", TRITON,
           equivalent="padded arms have e = exp2(-inf) = 0 exactly and the cumsum over arms is sequential (numpy's in "
           "the interpreter, in-thread when compiled: the PTX test pins no shuffles), so cdf[N_ARMS - 1] == total "
           "> u * total and the comparison the mask removes is always False"),
    Mutant("tr-win-prob-memory", TR, "win = u_reward < tl.load(win_prob + arm)",
           "win = u_reward < tl.load(win_prob + arm + 1)",
           "K > 16: the next arm's win probability read", TRITON),
    Mutant("tr-tail", TR, "if (steps_per_episode - head) % 2 == 1:", "if steps_per_episode % 2 == 1:",
           "odd horizons: the tail step decided without the head step", TRITON),
    Mutant("tr-first-pair", TR, "first_pair = (t0 + head) // 2", "first_pair = t0 // 2",
           "an episode starting mid-pair reuses that pair", TRITON),
    Mutant("tr-padding", TR, 'tl.where(arm_index < N_ARMS, 0.0, float("-inf"))',
           "tl.where(arm_index < N_ARMS, 0.0, 0.0)",
           "padded arms start at weight 0, not -inf (they get probability)", TRITON),
    Mutant("tr-slot", TR, "slot = tl.minimum(episode, n_recorded - 1)", "slot = tl.minimum(episode, n_recorded)",
           "unrecorded episodes written one slot past the row", TRITON),
    Mutant("tr-as-int32", TR, "return word - 2**32 if word >= 2**31 else word",
           "return word - 2**32 if word > 2**31 else word",
           "a seed word of exactly 2**31 passed as an out-of-range int32", TRITON),
    # --- reference.py: the seed's program (the oracle) ---------------------------------------------
    Mutant("ref-pull-ge", RF, "if result > self.arms[arm]:", "if result >= self.arms[arm]:",
           "the seed's reward test with >=", REFERENCE,
           equivalent="a standard normal draw equals an arm value with probability zero (2**-53 at most per pull); "
           "no seeded run of the tests can tell"),
    Mutant("ref-success-episode", RF, "success = bool(np.argmax(episode_rewards[-1]) == np.argmin(env.arms))",
           "success = bool(np.argmax(episode_rewards[0]) == np.argmin(env.arms))",
           "the reference's verdict read from the first episode", REFERENCE),
]
# fmt: on
