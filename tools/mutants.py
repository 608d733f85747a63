"""The mutant list for tools/mutate.py: small, plausible bugs, one per entry, over every module.

To add one: copy an entry, give it a new id (module prefix + what changes), an ``original`` snippet
that occurs exactly once in the file (add surrounding text until it does), the ``replacement``,
one line saying what bug it models, and the tests that should catch it (``tests(...)`` for files,
``suite(...)`` for every test file that can run an engine, the named ones first). Set
``equivalent`` only when no input can tell the mutant from the original, and say why.
Never drop or weaken a mutant because it survives: a survivor is a finding about the tests.

Ids of the first list (the before run, commit b3feccb) are kept where the same bug can still be
made, even when the code moved to another module (``sw-*`` now live in ``study/``, ``fig-*`` in
``figures/``, ``run-*`` partly in ``checks.py`` / ``result.py``); tools/README.md lists the ones
dropped and why.
"""

from __future__ import annotations

from mutate import Mutant

# test files that run an engine (directly or through run_batch / sweep / the CLI), cheap first;
# the last two are the slowest: every engine against the seed's own loop (Triton interpreted
# included), and the statistical comparison with 400 reference runs
ENGINE_USERS = ("rng", "run", "problem", "torch_engine", "options", "progress", "meanfield", "invariance", "engines")
ENGINE_USERS += ("cpu_engine", "seed_path", "sweeps", "study_problems", "study_compare", "study_threshold", "figures")
ENGINE_USERS += ("trace", "cli", "study_dask", "triton_engine", "rules", "reference")


def tests(*names: str) -> tuple[str, ...]:
    """pytest arguments: "rng" -> tests/test_rng.py; a path or node id is kept as it is; no repeats."""
    return tuple(dict.fromkeys(n if "/" in n else f"tests/test_{n}.py" for n in names))


def suite(*first: str) -> tuple[str, ...]:
    """Every test file that can run an engine, the named ones first (with -x, a kill stops early)."""
    return tests(*first, *(n for n in ENGINE_USERS if n not in first))


SEED_PROGRAM = "tests/test_reference.py::test_reference_is_the_seed_program"
TRITON_PINNED = "tests/test_seed_path.py::test_seed_path_is_pinned_on_the_triton_kernel"
TRITON_COMPILED = "tests/test_triton_engine.py::test_kernel_compiles_for_a100_and_h100_with_thread_local_arms"
CHUNKING = "tests/test_run.py::test_trajectory_independent_of_batch_size_and_chunking"  # every engine

RNG = tests("rng", "study_problems", "seed_path", "engines", "cpu_engine", "torch_engine", "triton_engine", CHUNKING,
            "sweeps", "rules", "reference")  # fmt: skip
POLICY = tests("policy", "optimizers", "torch_engine")  # policy.py is the spec: only tests import it
OPTIMIZERS = suite("optimizers", "cpu_engine", "invariance", "engines", "rules", "triton_engine")
OPTIONS = suite("options", "run", "cli", "rules", "study_axes")
CHECKS = suite("options", "run", "cli", "study_axes", "study_threshold")
PROBLEM = suite("problem", "engines", "torch_engine", "run", "cpu_engine", "rules")
RUN = suite("run", "problem", "torch_engine", "cli", "sweeps")
RESULT = suite("run", "cli", "options", "sweeps")
MEMORY = suite("options", "run", "cli")
PROGRESS = tests("progress", "run", "cli", "sweeps", "cpu_engine", "triton_engine")
MEANFIELD = tests("meanfield", "sweeps", "figures")
STATS = tests("stats", "study_paired", "run", "study_plan", "sweeps", "cli", "rng", "policy", "torch_engine",
              "figures", "study_search", "reference")  # fmt: skip
REFERENCE = tests(SEED_PROGRAM, "rules", "policy", "optimizers", "reference")
REGISTRY = suite("cpu_engine", "run", "engines", "triton_engine", "rules")
TORCH = suite("torch_engine", "engines", "seed_path", "problem", "cpu_engine", "invariance", "rules")
CPU = suite("cpu_engine", "seed_path", "engines", "problem", "torch_engine", "run", "invariance", "rules")
TRITON = tests("triton_engine", TRITON_PINNED, "engines", CHUNKING, "rules")
TRITON_AOT = tests(TRITON_COMPILED, "triton_engine")
TRACE = tests("trace", "cpu_engine", "triton_engine")
RUN_TRACE = tests("trace", "run")
STUDY = tests("sweeps", "study_metrics", "study_axes", "study_plan", "study_store", "study_problems", "figures",
              "study_compare", "study_threshold", "cli", "study_dask")  # fmt: skip
AXES = tests("study_axes", *STUDY)
SETTING = tests("study_axes", *STUDY)
PLAN = tests("study_plan", *STUDY)
STORE = tests("study_store", *STUDY)
PROBLEMS = tests("study_problems", *STUDY)
COMPARE = tests("study_compare", "stats")
SELECTOR = tests("study_selector", "study_paired", "cli")
PAIRED_STATS = tests("stats", "study_paired")
FOLDER = tests("study_files", "study_lock", "study_integrity", "study_store", "study_compare", "sweeps",
               "study_metrics")  # fmt: skip
THRESHOLD = tests("study_threshold")
THRESHOLD_FIGURE = tests("figures", "study_threshold")
FIGURES = tests("figures", "sweeps")
CLI = tests("cli", "sweeps", "figures", "study_compare", "study_threshold", "study_store")

R, PO, PB = "batched_bandit/rng.py", "batched_bandit/policy.py", "batched_bandit/problem.py"
RU, ST, RF = "batched_bandit/run.py", "batched_bandit/stats.py", "batched_bandit/reference.py"
OP, OS, CH = "batched_bandit/optimizers.py", "batched_bandit/options.py", "batched_bandit/checks.py"
RS, MM, PG = "batched_bandit/result.py", "batched_bandit/memory.py", "batched_bandit/progress.py"
MF = "batched_bandit/meanfield.py"
EN, TE = "batched_bandit/engines/__init__.py", "batched_bandit/engines/torch_engine.py"
CE, CK = "batched_bandit/engines/cpu_engine.py", "batched_bandit/engines/cpu_kernel.c"
CB, CC = "batched_bandit/engines/cpu_build.py", "batched_bandit/engines/cpu_cache.py"
TR, TK = "batched_bandit/engines/triton_engine.py", "batched_bandit/engines/triton_kernel.py"
TA = "batched_bandit/engines/triton_aot.py"
S, F, C = "batched_bandit/study/", "batched_bandit/figures/", "batched_bandit/cli/"
S_INIT, S_AX, S_SE, S_PL = S + "__init__.py", S + "axes.py", S + "setting.py", S + "plan.py"
S_ST, S_TB, S_TK, S_EX = S + "store.py", S + "tables.py", S + "task.py", S + "executors.py"
S_SW, S_DE, S_PR, S_RE = S + "sweep.py", S + "derived.py", S + "problems.py", S + "result.py"
S_CM, S_TH = S + "compare.py", S + "threshold.py"
S_SEL = S + "selector.py"
S_FI, S_LO, S_IN, S_RP, S_CO = S + "files.py", S + "lock.py", S + "integrity.py", S + "repair.py", S + "connection.py"
S_BL, S_CA, S_CL = S + "blocks.py", S + "calls.py", S + "columns.py"
F_INIT, F_CO, F_LA, F_WO = F + "__init__.py", F + "columns.py", F + "layout.py", F + "words.py"
F_TA, F_SU, F_CU, F_DI = F + "table.py", F + "metric.py", F + "curves.py", F + "distribution.py"
F_HE, F_CA, F_MA = F + "heatmap.py", F + "canvas.py", F + "marks.py"
F_TH = F + "threshold.py"
C_INIT, C_MAIN, C_AR, C_RUN = C + "__init__.py", C + "__main__.py", C + "args.py", C + "run.py"
C_SW, C_PL, C_CM, C_TH = C + "sweep.py", C + "plot.py", C + "compare.py", C + "threshold.py"

# the CLI's rule options, one value each: a mutant drops one name from rule_options' list
RULE_NAMES = (
    'names = ("arms", "win_prob", "means", "reward_sd", "reward_values", "temperature", "lr", "optimizer",\n'
    '             "momentum", "dampening", "nesterov", "weight_decay", "betas", "eps", "alpha", "centered")'
)


def dropped_rule_option(name: str) -> str:
    return (
        RULE_NAMES.replace(f' "{name}",', "", 1)
        if f' "{name}",' in RULE_NAMES
        else RULE_NAMES.replace(f', "{name}")', ")", 1)
    )


# A table, one mutant per entry with its fields on two or three lines: the formatter leaves it alone.
# fmt: off
MUTANTS = [
    # --- rng.py: Philox4x32-10, the uniforms, the normal deviates, the problems' draws ----------------
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
    Mutant("rng-uniform-shift", R, "return (word >> 8).to(torch.float32) * UNIFORM_SCALE",
           "return (word >> 9).to(torch.float32) * UNIFORM_SCALE",
           "uniforms from 23 bits: they cover [0, 0.5) only", RNG),
    Mutant("rng-uniform-scale", R, "UNIFORM_SCALE = 2.0**-24", "UNIFORM_SCALE = 2.0**-32",
           "the 32-bit scale applied to the 24-bit shifted word", RNG),
    Mutant("rng-seed-halves", R, "pairs >> 32, ids & MASK32, ids >> 32, seed & MASK32, seed >> 32)",
           "pairs >> 32, ids & MASK32, ids >> 32, seed >> 32, seed & MASK32)",
           "the steps' key halves swapped (seed high word first)", RNG),
    Mutant("rng-id-high", R, "pairs >> 32, ids & MASK32, ids >> 32, seed", "pairs >> 32, ids & MASK32, ids * 0, seed",
           "the high 32 bits of the bandit id ignored in the steps' counter", RNG),
    Mutant("rng-offset", R, "offset = t_start - 2 * first_pair", "offset = 0",
           "a window starting at an odd step read from the pair's first half", RNG),
    Mutant("rng-extra-pair", R, "(t_start + n_steps - 1) // 2", "(t_start + n_steps) // 2",
           "one Philox pair too many computed for the window", RNG,
           equivalent="the extra pair lies past the window and is sliced away by [offset : offset + n_steps]; "
           "tiling never changes numbers, so only the work grows"),
    Mutant("rng-normal-midpoint", R, "x = ((word >> 8) * 2 + (1 - 2**24))", "x = ((word >> 8) * 2 - 2**24)",
           "normal deviates at the grid's cell edges, not its midpoints (k = 0 gives x = -1: an infinite log)", RNG),
    Mutant("rng-problem-counter", R, "c1 = torch.full_like(blocks, PROBLEM_COUNTER)", "c1 = torch.zeros_like(blocks)",
           "problem draws on the steps' counters (c1 = 0): a bandit's problem shares numbers with its trajectory",
           RNG),
    Mutant("rng-problem-order", R, "torch.stack([first, second], dim=1)", "torch.stack([second, first], dim=1)",
           "a Philox block's two problem values returned in the wrong order", RNG),
    # --- policy.py: the spec of the softmax policy and its gradient --------------------------------
    Mutant("pol-sample-lt", PO, "(cdf[:, :-1] <= threshold[:, None])", "(cdf[:, :-1] < threshold[:, None])",
           "inverse-CDF draw with < instead of <= (a boundary uniform picks the lower arm)", POLICY),
    Mutant("pol-sample-last", PO, "(cdf[:, :-1] <= threshold[:, None])", "(cdf <= threshold[:, None])",
           "the last cumulative sum compared too (could draw arm K)", POLICY,
           equivalent="u <= 1 - 2**-24 and float rounding is monotone and exact just below a power of two, so "
           "fl(u * total) < total = cdf[-1]: the extra comparison is always False"),
    Mutant("pol-sgd-sign", PO, "return weights - lr[:, None] * policy_gradient(",
           "return weights + lr[:, None] * policy_gradient(",
           "gradient ascent on the loss (sign flip of the step)", POLICY),
    Mutant("pol-sgd-temperature", PO, "return -(advantage * inv_temperature)[:, None] * (onehot - probs)",
           "return -(advantage)[:, None] * (onehot - probs)", "the 1/T factor of the gradient dropped", POLICY),
    Mutant("pol-softmax-axis", PO, "z.amax(dim=1, keepdim=True)", "z.amax(dim=0, keepdim=True)",
           "the softmax shift taken over bandits instead of arms", POLICY),
    # --- optimizers.py: torch.optim's SGD, Adam, RMSprop and the baselines, in closed form -----------
    Mutant("opt-momentum-first-copy", OP,
           "buffer = grad.clone() if t == 0 else buffer * hyper.momentum + factor * grad",
           "buffer = buffer * hyper.momentum + factor * grad",
           "SGD's momentum buffer starts at 0 and takes (1 - dampening) g, not a copy of g", OPTIMIZERS),
    Mutant("opt-dampening-factor", OP, "1.0, one_minus(exact.dampening, weights.dtype))",
           "1.0, exact.dampening.to(weights.dtype))",
           "the gradient scaled by dampening instead of 1 - dampening in the momentum buffer", OPTIMIZERS),
    Mutant("opt-nesterov", OP, "grad = grad + hyper.momentum * buffer if rule.nesterov else buffer",
           "grad = buffer + hyper.momentum * grad if rule.nesterov else buffer",
           "Nesterov's look-ahead written as buf + m g instead of g + m buf", OPTIMIZERS),
    Mutant("opt-adam-bias-power", OP, "count = t + 1", "count = t",
           "Adam's bias corrections with beta**t instead of beta**(t + 1) (a division by 0 at the first step)",
           OPTIMIZERS),
    Mutant("opt-adam-eps", OP, "denom = torch.sqrt(exp_avg_sq) / correction2_sqrt + hyper.eps",
           "denom = (torch.sqrt(exp_avg_sq) + hyper.eps) / correction2_sqrt",
           "Adam's eps added before the bias correction (eps / sqrt(1 - beta2**t) instead of eps)", OPTIMIZERS),
    Mutant("opt-adam-lerp-weight", OP, "torch.lerp(state.exp_avg, grad, one_minus(exact.beta1, weights.dtype))",
           "torch.lerp(state.exp_avg, grad, exact.beta1.to(weights.dtype))",
           "Adam's first moment moved by beta1 towards g instead of by 1 - beta1", OPTIMIZERS),
    Mutant("opt-rmsprop-alpha", OP, "complement = one_minus(exact.alpha, weights.dtype)",
           "complement = exact.alpha.to(weights.dtype)",
           "RMSprop's square average weighted by alpha where 1 - alpha belongs", OPTIMIZERS),
    Mutant("opt-centered-clamp", OP, "torch.sqrt(torch.clamp_min(square_avg - grad_avg * grad_avg, 0.0))",
           "torch.sqrt(square_avg - grad_avg * grad_avg)",
           "centred RMSprop without the clamp at 0: a rounding below zero gives NaN weights", OPTIMIZERS),
    # --- options.py: the rule and the problem from run_batch's keywords ------------------------------
    Mutant("opts-momentum-one", OS, 'o["momentum"], n, low=0.0, high=1.0, high_open=True)',
           'o["momentum"], n, low=0.0, high=1.0)', "momentum = 1 accepted (the buffer never decays)", OPTIONS),
    Mutant("opts-adam-momentum", OS, '"adam": ("betas", "eps"),', '"adam": ("betas", "eps", "momentum"),',
           "momentum given to Adam silently ignored instead of refused", OPTIONS),
    Mutant("opts-betas-given", OS, '"betas": bool(((hyper.beta1 != 0.9) | (hyper.beta2 != 0.999)).any()),',
           '"betas": bool((hyper.beta1 != 0.9).any()),',
           "betas with the default beta1 and another beta2 given to SGD silently ignored", OPTIONS),
    Mutant("opts-rule-momentum", OS, 'momentum=optimizer != "adam" and bool((hyper.momentum > 0).any()),',
           'momentum=optimizer != "adam" and bool((hyper.momentum > 0).all()),',
           "a batch mixing momentum 0 and momentum > 0 compiled without a momentum buffer", OPTIONS),
    Mutant("opts-integer-rewards", OS, 'return b.rule.rewards == "binary" and bool((values == values.round()).all())',
           'return b.rule.rewards == "binary"',
           "fractional win / loss values summed in int32 (truncated per-arm sums)", OPTIONS),
    Mutant("opts-advantage-bound", OS, 'advantage = reward if b.rule.baseline == "none" else 2 * reward',
           "advantage = reward",
           "the run bound forgets that a baseline can double the advantage |r - b|", OPTIONS),
    Mutant("run-step-range", OS,
           'checks.check_representable("lr / temperature", b.hyper.lr * b.inv_temperature, dtype)',
           'checks.check_representable("lr / temperature", b.hyper.lr, dtype)',
           "the range check of lr / T forgets the 1/T factor", OPTIONS),
    # --- checks.py: every argument check -----------------------------------------------------------
    Mutant("run-check-count", CH, "    if int(value) < 1:\n", "    if int(value) <= 0:\n",
           "count check written as <= 0", CHECKS,
           equivalent="value is an integer at that point (floats were checked to be whole and int() is taken), and "
           "for integers value < 1 and value <= 0 agree"),
    Mutant("run-seed-max", CH, "if not 0 <= int(seed) <= MAX_SEED:", "if not 0 <= int(seed) < MAX_SEED:",
           "the largest seed 2**64 - 1 refused (off by one)", CHECKS),
    Mutant("run-positive-zero", CH, "ok &= values_c > low if low_open else values_c >= low", "ok &= values_c >= low",
           "temperature, lr or eps 0 accepted (open lower ends treated as closed)", CHECKS),
    Mutant("chk-underflow", CH,
           "small = (values != 0) & (values.abs() < info.tiny) if nonzero else torch.zeros_like(big)",
           "small = torch.zeros_like(big)", "an lr or temperature that underflows to 0 in the dtype accepted", CHECKS),
    Mutant("chk-win-prob-one", CH, "not bool(((p >= 0) & (p <= 1)).all())", "not bool(((p >= 0) & (p < 1)).all())",
           "a sure arm (P(win) = 1) refused", CHECKS),
    Mutant("run-arms-k", CH, "if values.shape[1] < 2:", "if values.shape[1] < 1:", "one-armed bandits accepted",
           CHECKS),
    Mutant("chk-momentum-bound", CH, "per_momentum = 1.0 / (1.0 - m) if rule.momentum else 1.0", "per_momentum = 1.0",
           "the run bound forgets momentum's 1 / (1 - m) amplification of the step", CHECKS),
    Mutant("chk-squared-gradient", CH, "limit = math.sqrt(SAFE_LOGIT[dtype])", "limit = SAFE_LOGIT[dtype]",
           "Adam / RMSprop's squared gradient bounded by the logit limit, not its square root (g * g overflows)",
           CHECKS),
    # --- problem.py: arms, rewards, the best arm, regret ---------------------------------------------
    Mutant("prob-erfc-sign", PB, "return 0.5 * torch.erfc(params / math.sqrt(2.0))",
           "return 0.5 * torch.erfc(-params / math.sqrt(2.0))",
           "P(win) = Phi(value) instead of 1 - Phi(value): the worst arm pays best", PROBLEM),
    Mutant("prob-sqrt2", PB, "return 0.5 * torch.erfc(params / math.sqrt(2.0))",
           "return 0.5 * torch.erfc(params / 2.0)",
           "erfc scaled by 2 instead of sqrt(2)", PROBLEM),
    Mutant("prob-best-argmax", PB, "return torch.argmin(params, dim=-1)", "return torch.argmax(params, dim=-1)",
           "the best threshold arm taken as the highest value", PROBLEM),
    Mutant("prob-reward-le", PB, "return torch.where(u < param, win, loss)",
           "return torch.where(u <= param, win, loss)",
           "reward test u <= q instead of u < q (the portable engine)", PROBLEM),
    Mutant("prob-expected-reward", PB, "+ (win - loss).to(torch.float64)[:, None] * q",
           "+ win.to(torch.float64)[:, None] * q",
           "expected reward loss + win q instead of loss + (win - loss) q", PROBLEM),
    Mutant("prob-regret-gaps", PB, "return mu.amax(dim=-1, keepdim=True) - mu",
           "return mu - mu.amin(dim=-1, keepdim=True)",
           "regret measured from the worst arm up instead of from the best arm down", PROBLEM),
    # --- run.py: run_batch, the chunks and their assembly ---------------------------------------------
    Mutant("run-verdict-first-episode", RU, "success = torch.argmax(episode_rewards[:, -1], dim=1)",
           "success = torch.argmax(episode_rewards[:, 0], dim=1)", "the verdict read from the first episode", RUN),
    Mutant("run-verdict-argmin", RU, "success = torch.argmax(episode_rewards[:, -1], dim=1)",
           "success = torch.argmin(episode_rewards[:, -1], dim=1)", "the verdict takes the arm with the lowest sum",
           RUN),
    Mutant("run-final-probs", RU,
           'torch.softmax(out["weights"].double() * setup.batch.inv_temperature[:, None], dim=1)',
           'torch.softmax(out["weights"].double(), dim=1)', "final_probs computed without the temperature", RUN),
    Mutant("run-trace-cumsum", RU, 'out["trace_regret"][rows].cumsum_(dim=1)', "",
           "the run's trace regret is each interval's, not cumulative", RUN_TRACE),
    Mutant("run-trace-rate", RU, 'optimal_action=out["trace_optimal"].to(torch.float64).div_(record_every),',
           'optimal_action=out["trace_optimal"].to(torch.float64),',
           "the run's trace optimal action is a count of pulls, not a fraction of the interval's", RUN_TRACE),
    Mutant("run-record-check", RU, 'record_episodes = check_bool("record_episodes", record_episodes)',
           "record_episodes = bool(record_episodes)", "record_episodes not checked", RUN),
    Mutant("run-progress-count", RU, "        progress(done, total)\n", "        progress(n, total)\n",
           "the progress callback gets each increment instead of the running total", RUN),
    Mutant("run-chunk-overlap", RU, "chunk = batch[lo : lo + chunk_size].to(device)",
           "chunk = batch[lo : lo + chunk_size + 1].to(device)", "chunks overlap by one bandit", RUN),
    Mutant("run-rate-episodes", RU, "total = n_bandits * n_episodes * steps_per_episode",
           "total = n_bandits * steps_per_episode", "throughput and progress total forget the episodes", RUN),
    Mutant("run-int32-rewards", RU, "reward_dtype = torch.int32 if integer_rewards(setup) else dtype",
           "reward_dtype = dtype", "whole-number per-arm sums returned as floats, not int32", RUN),
    Mutant("run-cumulative-regret", RU,
           'out["episode_regret"][rows] = torch.cumsum(result.episode_regret.cpu().double(), dim=1)',
           'out["episode_regret"][rows] = result.episode_regret.cpu().double()',
           "episode_regret returned per episode instead of cumulative", RUN),
    Mutant("run-safety-net", RU, "        _check_finite(result.weights, result.episode_p_best, setup, rows)\n", "",
           "the safety net dropped: a chunk whose weights overflowed is returned as if fine", RUN),
    # --- result.py: RunResult, scalars(), summary() ---------------------------------------------------
    Mutant("run-scalars-p-best", RS, '"mean_final_p_best": float(self.episode_p_best[:, -1].double().mean()),',
           '"mean_final_p_best": float(self.episode_p_best[:, 0].double().mean()),',
           "scalars()' mean_final_p_best read from episode 0", RESULT),
    Mutant("run-summary-verdict-index", RS, 'verdict = "right" if bool(self.success[0]) else "wrong"',
           'verdict = "right" if bool(self.success[-1]) else "wrong"', "the one-bandit verdict read from row -1",
           RESULT,
           equivalent="the line is reached only when n_bandits == 1, where rows 0 and -1 are the same"),
    Mutant("run-summary-unrecorded", RS,
           "if self.n_bandits == 1 and self.episode_rewards.shape[1] == self.n_episodes:", "if self.n_bandits == 1:",
           "one-bandit summary prints 'Episode 1' for the last episode when episodes are not recorded", RESULT),
    Mutant("run-summary-action", RS, "choice = int(torch.argmax(self.episode_rewards[0, -1])) + 1",
           "choice = int(torch.argmax(self.episode_rewards[0, -1]))", "the seed's 1-based action printed 0-based",
           RESULT),
    Mutant("run-ci-args", RS, "return wilson_interval(self.n_successes, self.n_bandits)",
           "return wilson_interval(self.n_bandits, self.n_successes)", "Wilson interval arguments swapped", RESULT),
    Mutant("res-regret-ci", RS, "mean_interval(float(regret.sum()), float((regret * regret).sum()), self.n_bandits)",
           "mean_interval(float(regret.sum()), float(regret.sum()), self.n_bandits)",
           "the regret interval from the sum where the sum of squares belongs", RESULT),
    Mutant("res-format-exact", RS,
           'looks_exact = any(t in (f"{0:.{digits}f}", f"{1:.{digits}f}") for t in text)', "looks_exact = False",
           "a success rate of 0.99999 printed as 1.0000 (looks exact)", RESULT),
    # --- memory.py ------------------------------------------------------------------------------------
    Mutant("mem-recorded", MM, "    n_recorded = n_episodes if record_episodes else 1\n    # +",
           "    n_recorded = n_episodes\n    # +",
           "the estimate ignores record_episodes=False: a run that fits that way is refused", MEMORY),
    Mutant("mem-item", MM, "    item = torch.finfo(dtype).bits // 8\n    n_recorded", "    item = 4\n    n_recorded",
           "float64 results estimated at 4 bytes per number (half what they take)", MEMORY),
    # --- progress.py ----------------------------------------------------------------------------------
    Mutant("prog-done-line", PG, "elif time.monotonic() >= self.next_line and self.done < self.total:",
           "elif time.monotonic() >= self.next_line:",
           "a plain line for the finished work from update(), then the same line again from close()", PROGRESS),
    Mutant("prog-initial-rate", PG, "initial=self.initial,  # the rate and ETA count this call's work only",
           "# the rate and ETA count this call's work only",
           "after a resume, the rate counts the earlier calls' work as done in this call", PROGRESS),
    # --- meanfield.py ---------------------------------------------------------------------------------
    Mutant("mf-first-copy", MF, "buffer = grad.copy() if t == 0 else m * buffer + factor * grad",
           "buffer = factor * grad if t == 0 else m * buffer + factor * grad",
           "the mean field's momentum buffer starts damped, not as a copy of the gradient", MEANFIELD),
    Mutant("mf-momentum-zero", MF, "factor = np.where(m == 0, 1.0, 1.0 - column(dampening))",
           "factor = 1.0 - column(dampening)",
           "a momentum-0 setting iterated with dampening next to momentum settings", MEANFIELD),
    Mutant("mf-centring", MF, "grad = -inv_t * p * (mu - (p * mu).sum(axis=1, keepdims=True)) + wd * w",
           "grad = -inv_t * p * mu + wd * w",
           "the expected gradient without its - p . mu term (only the chosen arm's part)", MEANFIELD),
    Mutant("stats-wilson-z", ST, "z = NormalDist().inv_cdf(0.5 + confidence / 2)\n    p = successes / n",
           "z = NormalDist().inv_cdf(confidence)\n    p = successes / n",
           "one-sided z (1.645) for a two-sided 95% interval", STATS),
    Mutant("stats-wilson-half", ST, "z * z / (4 * n * n)", "z * z / (4 * n)",
           "the Wilson half-width's second term divided by n instead of n**2", STATS),
    Mutant("stats-wilson-clamp", ST, "low = 0.0 if successes == 0 else max(0.0, centre - half)",
           "low = max(0.0, centre - half)",
           "no successes: the lower bound left at rounding's ~1e-19 instead of exactly 0", STATS),
    Mutant("stats-z-se", ST, "(1 / n_a + 1 / n_b)", "(1 / n_a - 1 / n_b)", "pooled z test's variance sign flip", STATS),
    Mutant("stats-z-one-sided", ST, "return z, math.erfc(abs(z) / math.sqrt(2))",
           "return z, math.erfc(abs(z) / math.sqrt(2)) / 2", "a one-sided p-value for the two-sided z test", STATS),
    Mutant("stats-chi-df", ST, "float(stats.chi2.sf(x, df))", "float(stats.chi2.sf(x, df + 1))",
           "the chi-square tail with one degree of freedom too many", STATS),
    Mutant("stats-homogeneity-df", ST, "df = (len(rows) - 1) * (len(cols) - 1)", "df = len(rows) * (len(cols) - 1)",
           "degrees of freedom off by one row", STATS),
    Mutant("stats-mcnemar-two-sided", ST, "return min(1.0, 2.0 * binomial_cdf_half(min(b, c), n))",
           "return min(1.0, binomial_cdf_half(min(b, c), n))", "McNemar's exact test one-sided", STATS),
    Mutant("stats-holm-monotone", ST, "running = max(running, min(1.0, (m - rank) * p_values[i]))",
           "running = min(1.0, (m - rank) * p_values[i])",
           "Holm's adjusted p-values not made monotone (a larger raw p can get a smaller adjusted one)", STATS),
    Mutant("stats-am-adjust", ST, "b_, c_ = b + 0.5, c + 0.5", "b_, c_ = b + 1.0, c + 1.0",
           "Agresti-Min's interval with 1 added to the discordant cells instead of 0.5", PAIRED_STATS),
    Mutant("stats-am-n", ST, "n = a + b + c + d + 2.0", "n = a + b + c + d + 1.0",
           "Agresti-Min's interval over n + 1 instead of n + 2 pairs", PAIRED_STATS),
    Mutant("stats-wilson-centre", ST, "(p + z * z / (2 * n))", "(p + z * z / n)",
           "the Wilson interval's centre pulled twice as far towards 1/2", PAIRED_STATS),
    Mutant("stats-mean-bessel", ST, "variance = max(0.0, total_squares / n - mean * mean) * n / (n - 1)",
           "variance = max(0.0, total_squares / n - mean * mean)",
           "the interval of a mean from the variance over n instead of n - 1", PAIRED_STATS),
    Mutant("stats-mcnemar-larger", ST, "2.0 * binomial_cdf_half(min(b, c), n)", "2.0 * binomial_cdf_half(b, n)",
           "McNemar's tail at b whichever of b, c is smaller", PAIRED_STATS),
    Mutant("stats-holm-bonferroni", ST, "min(1.0, (m - rank) * p_values[i])", "min(1.0, m * p_values[i])",
           "Bonferroni's factor m for every p-value instead of Holm's m - rank", PAIRED_STATS),
    Mutant("stats-t-df", ST, "stats.t.ppf(0.5 + confidence / 2, n - 1)", "stats.t.ppf(0.5 + confidence / 2, n)",
           "the t interval with n degrees of freedom instead of n - 1", PAIRED_STATS),
    Mutant("stats-t-normal", ST, "float(stats.t.ppf(0.5 + confidence / 2, n - 1))",
           "NormalDist().inv_cdf(0.5 + confidence / 2)", "the paired interval with a normal quantile, not t's",
           PAIRED_STATS),
    Mutant("stats-t-ddof", ST, "np.std(d, ddof=1)", "np.std(d)",
           "the paired differences' sd over n instead of n - 1", PAIRED_STATS),
    Mutant("stats-t-one-sided", ST, "p_t = (mean - half, mean + half), float(2 * stats.t.sf(",
           "p_t = (mean - half, mean + half), float(stats.t.sf(", "a one-sided paired t test", PAIRED_STATS),
    Mutant("stats-t-no-spread", ST, "ci, p_t = (mean, mean), 1.0 if mean == 0 else 0.0", "ci, p_t = (mean, mean), 1.0",
           "equal nonzero differences reported as no evidence (p = 1)", PAIRED_STATS),
    Mutant("stats-t-rounded-mean", ST, "mean = float(d[0])", "mean = float(np.mean(d))",
           "equal differences averaged (0.1 three times gives 0.1 + 1.4e-17)", PAIRED_STATS),
    Mutant("stats-t-one-pair", ST, "if n == 1:\n            ci, p_t = (math.nan, math.nan), math.nan",
           "if n == 0:\n            ci, p_t = (math.nan, math.nan), math.nan",
           "one pair given a zero-width interval and a p-value, as if it had no spread", PAIRED_STATS),
    Mutant("stats-wx-correction", ST, "correction=True", "correction=False",
           "the signed-rank normal approximation without R's continuity correction", PAIRED_STATS),
    Mutant("stats-wx-exact-50", ST, "exact = n < 50", "exact = n <= 50",
           "the exact signed-rank distribution at 50 differences (R: fewer than 50)", PAIRED_STATS),
    Mutant("stats-wx-zeros", ST, "n < 50 and n == d.size and", "n < 50 and",
           "an exact signed-rank p-value although zero differences were dropped (R: normal)", PAIRED_STATS),
    Mutant("stats-wx-ties", ST, " and np.unique(np.abs(nonzero)).size == n", "",
           "an exact signed-rank p-value despite tied ranks (R: normal)", PAIRED_STATS),
    Mutant("stats-wx-all-zero", ST, "    if n == 0:\n        return 1.0\n    exact", "    exact",
           "every difference zero: SciPy's NaN (or an error) instead of p = 1", PAIRED_STATS),
    Mutant("stats-format-nan", ST, 'return "undefined" if math.isnan(p) else', "return",
           'an undefined p-value printed as "nan"', PAIRED_STATS),
    # --- reference.py: the seed's program (the oracle) -------------------------------------------------
    Mutant("ref-pull-ge", RF, "if result > self.arms[arm]:", "if result >= self.arms[arm]:",
           "the seed's reward test with >=", REFERENCE,
           equivalent="a standard normal draw equals an arm value with probability zero (2**-53 at most per pull); "
           "no seeded run of the tests can tell"),
    Mutant("ref-success-episode", RF, "success = bool(np.argmax(episode_rewards[-1]) == env.best_arm())",
           "success = bool(np.argmax(episode_rewards[0]) == env.best_arm())",
           "the reference's verdict read from the first episode", REFERENCE),
    Mutant("ref-baseline-mean", RF, 'decay = 1 - 1 / steps if baseline == "mean" else baseline[1]',
           'decay = 1 - 1 / (steps + 1) if baseline == "mean" else baseline[1]',
           "the reference's running-mean baseline divides by one reward too many", REFERENCE),
    # --- engines/__init__.py: the registry and backend choice -------------------------------------------
    Mutant("eng-cpu-preference", EN, '"cpu": ("cpu", "torch")}', '"cpu": ("torch", "cpu")}',
           "auto prefers the portable engine over the fused one on CPU", REGISTRY),
    Mutant("eng-max-arms", EN, "if n_arms > MAX_ARMS.get(backend, n_arms):",
           "if n_arms >= MAX_ARMS.get(backend, n_arms + 1):",
           "64 arms refused by the fused engines (off by one)", REGISTRY),
    Mutant("eng-dtype", EN, "    if dtype not in dtypes:\n", "    if False:\n",
           "a backend's dtype support not checked", REGISTRY),
    Mutant("eng-triton-arms", EN, 'MAX_ARMS = {"cpu": 64, "triton": 64}', 'MAX_ARMS = {"cpu": 64, "triton": 128}',
           "the Triton engine's arm limit raised past what it holds in registers", REGISTRY),
    Mutant("eng-warn-float64", EN, "if name != fused and dtype in BACKENDS[fused][2]:", "if name != fused:",
           "float64 (a choice) warned about as if the fused engine had failed", REGISTRY),
    # --- torch_engine.py: the portable engine ------------------------------------------------------------
    Mutant("te-arm-lt", TE, "arm = (cdf[:-1] <= u_arm * total).sum(dim=0)",
           "arm = (cdf[:-1] < u_arm * total).sum(dim=0)",
           "the portable engine's arm draw with < instead of <=", TORCH),
    Mutant("te-slot", TE, "episode if record_episodes else 0]", "episode if record_episodes else -1]",
           "the unrecorded slot written as -1", TORCH,
           equivalent="without record_episodes the tensor has one slot, where 0 and -1 are the same index"),
    Mutant("te-sums-reset", TE, "        sums.zero_()\n", "",
           "per-arm sums not reset between episodes", TORCH),
    Mutant("te-p-best-arm", TE, "e.gather(0, batch.best_arm[None])[0] / e.sum(dim=0)", "e[0] / e.sum(dim=0)",
           "P(best) read from arm 0", TORCH),
    Mutant("te-reward-dropped", TE, "weights = weights + (lr * advantage * inv_t / total) * direction",
           "weights = weights + (lr * inv_t / total) * direction",
           "the seed's step drops the reward (every pull reinforced)", TORCH),
    Mutant("te-stream-restart", TE, "draws = step_uniforms(seed, batch.bandit_ids, t, n_steps,",
           "draws = step_uniforms(seed, batch.bandit_ids, block_start, n_steps,",
           "every episode reuses the first episode's random numbers", TORCH),
    Mutant("te-baseline-order", TE,
           "baseline = optimizers.update_baseline(rule.baseline, baseline, reward, t, decay, decay_complement)\n"
           "                    advantage = reward - baseline",
           "advantage = reward - baseline\n"
           "                    baseline = optimizers.update_baseline(rule.baseline, baseline, reward, t, decay, "
           "decay_complement)",
           "the advantage taken against the baseline before the current reward enters it", TORCH),
    Mutant("te-seed-path", TE, "                if rule.is_seed:", "                if False:",
           "the seed's rule through torch.optim's SGD step (other rounding) instead of its pinned update", TORCH),
    # --- cpu_engine.py: calling the fused kernel ---------------------------------------------------------
    Mutant("ce-last-bandit", CE, "bounds = [(lo, min(lo + per_thread, n_bandits))",
           "bounds = [(lo, min(lo + per_thread, n_bandits - 1))", "the last bandit of a batch never simulated", CPU),
    Mutant("ce-record", CE, "n_episodes, steps_per_episode, int(record_episodes)", "n_episodes, steps_per_episode, 1",
           "record_episodes not passed to the kernel", CPU),
    Mutant("ce-ids-int32", CE, '"bandit_ids": batch.bandit_ids.long().contiguous()',
           '"bandit_ids": batch.bandit_ids.int().contiguous()',
           "bandit ids passed as int32 to an int64 argument", CPU),
    Mutant("ce-on-steps", CE, "self.on_progress(done - self.reported)", "self.on_progress(done)",
           "progress reports the running total as if it were an increment", CPU),
    Mutant("ce-cancel", CE, "                self.cancel[0] = 1\n", "",
           "Ctrl-C (an exception in on_progress) no longer stops the kernel: the call waits for the whole run", CPU),
    Mutant("ce-trace-build", CE, "kernel = load_kernel(batch.rule, trace)", "kernel = load_kernel(batch.rule)",
           "a traced run on the untraced build: record_every ignored, the trace never written", TRACE),
    # --- cpu_build.py, cpu_cache.py: building the fused kernel, loading it from the untrusted cache ------
    Mutant("ce-cache-key", CB, 'parts = [source, " ".join(flags).encode()', 'parts = [" ".join(flags).encode()',
           "the kernel cache key forgets the source: an edited kernel reuses the stale build", CPU),
    Mutant("cc-group-writable", CC, "writable = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)",
           "writable = info.st_mode & stat.S_IWOTH",
           "a cache folder its group can write is trusted: a group member could plant a kernel", tests("kernel_cache")),
    # --- cpu_kernel.c: the fused kernel, every rule's code path ------------------------------------------
    Mutant("ck-arm-lt", CK, "vm past = le(cdf, threshold);", "vm past = lt(cdf, threshold);",
           "the fused kernel's arm draw with cdf < threshold instead of <=", CPU),
    Mutant("ck-reward-le", CK, "vf reward = select_f(lt(reward_draw, q), p->win, p->loss);",
           "vf reward = select_f(le(reward_draw, q), p->win, p->loss);",
           "the fused kernel's reward test u <= q instead of u < q", CPU),
    Mutant("ck-id-high", CK, "hi[l] = (uint32_t)(g >> 32);", "hi[l] = 0;",
           "the fused kernel ignores the high 32 bits of the bandit id", CPU),
    Mutant("ck-m1", CK, "PHILOX_M1 = 0xCD9E8D57u", "PHILOX_M1 = 0xCD9E8D75u", "a typo in the kernel's Philox M1", CPU),
    Mutant("ck-key-schedule", CK, "s->keys[r][1] = (uint32_t)(seed >> 32) + (uint32_t)r * PHILOX_W1;",
           "s->keys[r][1] = (uint32_t)(seed >> 32) + (uint32_t)r * PHILOX_W0;", "both key words bumped by W0", CPU),
    Mutant("ck-poly", CK, "p = p * f + 9.618437357674640e-3f;", "p = p * f + 9.618437357674640e-2f;",
           "a wrong exponent in one coefficient of the exp polynomial", CPU),
    Mutant("ck-exp-round", CK, "__builtin_convertvector(y - 0.5f, vi)", "__builtin_convertvector(y + 0.5f, vi)",
           "exp's range reduction rounds the wrong way (f in [-1.5, -0.5], outside the polynomial's range)", CPU),
    Mutant("ck-exp-flush", CK, "select_f(lt(x, splat(-87.0f)), splat(0.0f), result)",
           "select_f(lt(x, splat(-8.7f)), splat(0.0f), result)", "exp flushes to zero below -8.7 instead of -87", CPU),
    Mutant("ck-compile-error", CK, "select_f(lt(x, splat(-87.0f)), splat(0.0f), result)",
           "select_f(lt(x, splat(-87.0f)), 0.0f, result)",
           "a scalar passed where a vector is expected: the kernel no longer compiles", CPU),
    Mutant("ck-pad-lane", CK, "uint64_t g = (uint64_t)ids[l < used ? l : 0];",
           "uint64_t g = (uint64_t)ids[l < used ? l : used - 1];",
           "padding lanes copy the last used lane's id instead of lane 0's", CPU,
           equivalent="padding lanes are computed but never written out, and lanes never interact"),
    Mutant("ck-rewards-stride", CK, "a->episode_rewards[(g * n_recorded + slot) * K + k]",
           "a->episode_rewards[(g * n_episodes + slot) * K + k]",
           "episode slots strided by n_episodes when not recorded", CPU),
    Mutant("ck-p-best-lane", CK, "e[a->best_arm[g]][l] / total[l]", "e[a->best_arm[lo]][l] / total[l]",
           "P(best) of every lane uses the block's first bandit's best arm", CPU),
    Mutant("ck-word-half", CK, "d.arm[i] = to_uniform(words[2 * i]);", "d.arm[i] = to_uniform(words[i]);",
           "odd steps draw their arm from word 1 (the even step's reward word) instead of word 2", CPU),
    Mutant("ck-momentum-first", CK, "vf damp_factor = t == 0 ? splat(1.0f) : p->damp_factor;",
           "vf damp_factor = p->damp_factor;",
           "the kernel's momentum buffer starts damped, not as a copy of the gradient", CPU),
    Mutant("ck-adam-bias", CK, "r.pow_b1 = r.pow_b2 = (vd){0} + 1.0;", "r.pow_b1 = r.pow_b2 = (vd){0} + 0.0;",
           "the kernel's Adam bias corrections start from beta**t = 0: never applied", CPU),
    Mutant("ck-rmsprop-alpha", CK, "s.avg_sq[k] = s.avg_sq[k] * p->alpha + p->one_minus_alpha * g * g;",
           "s.avg_sq[k] = s.avg_sq[k] * p->one_minus_alpha + p->alpha * g * g;",
           "the kernel's RMSprop square average with alpha and 1 - alpha swapped", CPU),
    Mutant("ck-baseline-mean", CK, "(reward - r->baseline) / (float)(t + 1);",
           "(reward - r->baseline) / (float)(t + 2);",
           "the kernel's running-mean baseline divides by one reward too many", CPU),
    Mutant("ck-gaussian-sd", CK, "vf reward = q + p->sd * reward_draw;", "vf reward = q + reward_draw;",
           "the kernel's Gaussian rewards ignore reward_sd", CPU),
    Mutant("ck-trace-episode-end", CK, "for (int k = 0; k < K; k++) since[k] -= pulls[k];", ";",
           "a trace interval across an episode's end loses the pulls of the episode before", TRACE),
    Mutant("ck-trace-ties", CK, "vm higher = gt(s.sums[k], top);", "vm higher = ge(s.sums[k], top);",
           "the trace's verdict takes the last of tied sums, not the first", TRACE),
    Mutant("ck-trace-first-point", CK, ".until = a->record_every, .point = 0",
           ".until = a->record_every + 1, .point = 0",
           "off by one: every trace point a step late (and the run's last one never written)", TRACE),
    Mutant("ck-trace-regret-episode", CK, "vf term = __builtin_convertvector(n, vf) * gap[k];",
           "vf term = __builtin_convertvector(s.pulls[k], vf) * gap[k];",
           "the trace's regret counts the episode's pulls so far, not the interval's", TRACE),
    Mutant("ck-trace-optimal-episode", CK, "optimal += select_i(eq(gap[k], splat(0.0f)), n, (vi){0});",
           "optimal += select_i(eq(gap[k], splat(0.0f)), s.pulls[k], (vi){0});",
           "the trace's optimal pulls count the episode's so far, not the interval's", TRACE),
    Mutant("ck-trace-reward-reset", CK, "    tr->reward = splat(0.0f);\n", "",
           "the trace's reward adds up over the run instead of starting anew at each point", TRACE),
    Mutant("ck-trace-best-term", CK, "chosen = select_f(eq_i(best, (vi){0} + k), e[k], chosen);",
           "chosen = select_f(eq_i(best, (vi){0} + k), e[k - 1], chosen);",
           "the trace's P(best) is the probability of the arm before the best one", TRACE),
    Mutant("ck-trace-last-p-best", CK, "if (tr.pending) { /* the run's last step ended at a point */",
           "if (0) { /* the run's last step ended at a point */",
           "the P(best) of a point at the run's end (no step after it) is never written", TRACE),
    # --- cpu_kernel.c: bb_mean_field, meanfield.py's loop in C --------------------------------------------
    Mutant("ck-mf-first-copy", CK, "buf[k] = t == 0 ? g : m * buf[k] + f * g;",
           "buf[k] = t == 0 ? f * g : m * buf[k] + f * g;",
           "the C mean field's momentum buffer starts damped, not as a copy of the gradient", MEANFIELD),
    Mutant("ck-mf-step-count", CK, "for (int64_t i = 0; i < steps; i++, t++) {",
           "for (int64_t i = 0; i < steps; i++) {",
           "the C mean field's step counter never advances: the momentum buffer restarts every step", MEANFIELD),
    Mutant("ck-mf-wd", CK, "double g = -it * p[k] * (m_s[k] - pm) + d * w[k];",
           "double g = -it * p[k] * (m_s[k] - pm);", "the C mean field ignores weight decay", MEANFIELD),
    Mutant("ck-mf-nesterov", CK, "g = nesterov[s] ? g + m * buf[k] : buf[k];", "g = buf[k];",
           "the C mean field ignores Nesterov", MEANFIELD),
    Mutant("ck-mf-best", CK, "out[s * n_episodes + e] = p[best[s]];", "out[s * n_episodes + e] = p[best[0]];",
           "the C mean field reads every setting's P(best) at the first setting's best arm", MEANFIELD),
    Mutant("ck-mf-softmax-max", CK, "for (int k = 1; k < K; k++) m = w[k] * inv_t > m ? w[k] * inv_t : m;",
           "for (int k = 1; k < K - 1; k++) m = w[k] * inv_t > m ? w[k] * inv_t : m;",
           "the C softmax's max skips the last arm (exp overflows when it leads by > 709 / inv_t)", MEANFIELD),
    # --- triton_kernel.py: the fused GPU kernel -----------------------------------------------------------
    Mutant("tr-log2e", TK, "LOG2E = _constexpr(1.4426950408889634)", "LOG2E = _constexpr(1.4427)",
           "log2(e) truncated to 1.4427", TRITON),
    Mutant("tr-uniform-shift", TK, "return (word >> 8).to(tl.float32) * 5.9604644775390625e-08",
           "return (word >> 7).to(tl.float32) * 5.9604644775390625e-08",
           "uniforms from 25 bits (values up to 2)", TRITON),
    Mutant("tr-philox-product", TK, "c3 = prev0 * 0xD2511F53", "c3 = prev2 * 0xD2511F53",
           "the low product taken of the wrong word", TRITON),
    Mutant("tr-arm-lt", TK, "below = (cdf <= (u_arm * total)[None, :])", "below = (cdf < (u_arm * total)[None, :])",
           "the Triton kernel's arm draw with < instead of <=", TRITON),
    Mutant("tr-arm-mask", TK, "& (arm_index < N_ARMS - 1)", "& (arm_index < N_ARMS)",
           "the last real arm's cumulative sum counted too", TRITON,
           equivalent="padded arms have weight -inf, so e = exp(-inf) = exp2(-inf) = 0 exactly, and the cumsum over "
           "arms is sequential (numpy's in the interpreter, in-thread when compiled: the PTX test pins no shuffles), "
           "so cdf[N_ARMS - 1] == total > u * total and the comparison the mask removes is always False"),
    Mutant("tr-win-prob-memory", TK, "else tl.load(param + arm)", "else tl.load(param + arm + 1)",
           "K > 16: the next arm's parameter read from memory", TRITON),
    Mutant("tr-tail", TK, "if (steps_per_episode - head) % 2 == 1:", "if steps_per_episode % 2 == 1:",
           "odd horizons: the tail step decided without the head step", TRITON),
    Mutant("tr-first-pair", TK, "first_pair = (t0 + head) // 2", "first_pair = t0 // 2",
           "an episode starting mid-pair reuses that pair", TRITON),
    Mutant("tr-padding", TK, 'weights = _columns(init_weights_ptr, row, live, float("-inf"), N_ARMS, K_PAD)',
           "weights = _columns(init_weights_ptr, row, live, 0.0, N_ARMS, K_PAD)",
           "padded arms start at weight 0, not -inf (they get probability)", TRITON),
    Mutant("tr-slot", TK, "slot = tl.minimum(episode, n_recorded - 1)", "slot = tl.minimum(episode, n_recorded)",
           "unrecorded episodes written one slot past the row", TRITON),
    Mutant("tk-momentum-first", TK, "factor = tl.where((momentum == 0) | (t == 0), 1.0, 1.0 - dampening)",
           "factor = tl.where(momentum == 0, 1.0, 1.0 - dampening)",
           "the Triton kernel's momentum buffer starts damped, not as a copy of the gradient", TRITON),
    Mutant("tk-adam-bias", TK, "powers = tl.full((BLOCK,), 1.0, tl.float64)",
           "powers = tl.full((BLOCK,), 0.0, tl.float64)",
           "the Triton kernel's Adam bias corrections start from beta**t = 0: never applied", TRITON),
    Mutant("tk-rmsprop-alpha", TK, "exp_avg_sq = exp_avg_sq * alpha[None, :] + (1.0 - alpha)[None, :] * grad * grad",
           "exp_avg_sq = exp_avg_sq * (1.0 - alpha)[None, :] + alpha[None, :] * grad * grad",
           "the Triton kernel's RMSprop square average with alpha and 1 - alpha swapped", TRITON),
    Mutant("tk-baseline-mean", TK, "baseline = baseline + (reward - baseline) / (t + 1).to(tl.float32)",
           "baseline = baseline + (reward - baseline) / (t + 2).to(tl.float32)",
           "the Triton kernel's running-mean baseline divides by one reward too many", TRITON),
    Mutant("tk-gaussian-sd", TK, "reward = arm_param + reward_sd * draw", "reward = arm_param + draw",
           "the Triton kernel's Gaussian rewards ignore reward_sd", TRITON),
    Mutant("tk-trace-episode-end", TK, "_store_columns(trace_since_ptr, row, since - pulls, live, N_ARMS, K_PAD)",
           "_store_columns(trace_since_ptr, row, since, live, N_ARMS, K_PAD)",
           "a trace interval across an episode's end counts the episode before's pulls twice", TRACE),
    Mutant("tk-trace-padding", TK, 'sums = tl.where(arm_index < N_ARMS, sums, float("-inf"))', "sums = sums",
           "the trace's verdict lets a padded arm (sum 0) beat real arms whose sums are all below 0", TRACE),
    Mutant("tk-trace-late", TK, "    if t + 1 == next_point:\n", "    if t == next_point:\n",
           "off by one: every trace point a step late (and the run's last one never written)", TRACE),
    Mutant("tk-trace-regret-episode", TK, "tl.store(out + plane, _regret(interval, gap), mask=live)",
           "tl.store(out + plane, _regret(pulls, gap), mask=live)",
           "the Triton kernel's trace regret counts the episode's pulls so far, not the interval's", TRACE),
    # --- triton_engine.py: launching the kernel ------------------------------------------------------------
    Mutant("tr-as-int32", TR, "return word - 2**32 if word >= 2**31 else word",
           "return word - 2**32 if word > 2**31 else word",
           "a seed word of exactly 2**31 passed as an out-of-range int32", TRITON),
    Mutant("tr-key-high", TR, "_as_int32(seed >> 32),", "_as_int32(seed & 0xFFFFFFFF),",
           "the Triton kernel keyed with the seed's low word twice", TRITON),
    # --- triton_aot.py: the kernel compiled for a GPU, and what its code costs --------------------------------
    Mutant("ta-resource-order", TA, 'dict(zip(("regs", "stack", "shared", "local"), map(int, usage.groups())))',
           'dict(zip(("stack", "regs", "shared", "local"), map(int, usage.groups())))',
           "cuobjdump's REG and STACK read into each other's fields", TRITON_AOT),
    # --- study/axes.py: the grid ------------------------------------------------------------------------------
    Mutant("ax-applies-momentum", S_AX, '"momentum": ("optimizer", ("sgd", "rmsprop")),',
           '"momentum": ("optimizer", ("sgd",)),',
           "a momentum axis not crossed with RMSprop settings", AXES),
    Mutant("ax-applies-default", S_AX, "chosen.get(on, DEPENDS_DEFAULT[on])", "chosen.get(on)",
           "without an optimizer axis, momentum (an SGD option) is not crossed with the default SGD", AXES),
    Mutant("sw-axis-unsorted", S_AX, "values = sorted(checked.tolist())", "values = checked.tolist()",
           "float axes kept in the given order, not sorted", AXES),
    Mutant("ax-batch-key-steps", S_AX,
           "return setup.batch.rule, setup.model, setting.n_arms, setting.n_episodes, setting.steps_per_episode",
           "return setup.batch.rule, setup.model, setting.n_arms, setting.n_episodes",
           "settings of different horizons share a batch (all run the first one's steps per episode)", AXES),
    # --- study/setting.py -------------------------------------------------------------------------------------
    Mutant("sw-grid-order", S_SE, '"eps", "alpha", "init_weights", "lr", "temperature",',
           '"eps", "alpha", "init_weights", "temperature", "lr",',
           "grid order: lr innermost instead of temperature", SETTING),
    # --- study/plan.py ----------------------------------------------------------------------------------------
    Mutant("pl-last-block", S_PL, "return lo, min(lo + self.block_bandits, self.cap)",
           "return lo, lo + self.block_bandits",
           "the last block runs past n_bandits (a setting gets more bandits than asked)", PLAN),
    Mutant("pl-next-block", S_PL, "max(n_blocks + 1, self.n_blocks(needed))", "max(n_blocks, self.n_blocks(needed))",
           "a setting short of its precision may get no further block (the study stops early)", PLAN,
           equivalent="the guard never binds: _target returns early unless half_width(successes, n) > precision, "
           "and the Wilson half-width falls as n grows, so bandits_for(successes / n) > n = n_blocks * block "
           "(a float rounding of successes / n * n could tie it at n; never seen)"),
    Mutant("pl-target-rate", S_PL, "needed = bandits_for(successes / n, self.precision, self.cap)",
           "needed = bandits_for(0.5, self.precision, self.cap)",
           "every setting planned for the worst case (rate 0.5), not its own success rate", PLAN),
    # --- study/store.py ---------------------------------------------------------------------------------------
    Mutant("so-commit-once", S_ST, "\"WHERE key = ? AND state = 'planned'\",", '"WHERE key = ?",',
           "a task already done is committed again", STORE),
    Mutant("so-rollback", S_CO, 'self.db.execute("COMMIT" if kind is None else "ROLLBACK")',
           'self.db.execute("COMMIT")',
           "a failed commit's partial writes are kept", STORE),
    Mutant("so-block-order", S_ST, "FROM blocks{where} ORDER BY setting, block",
           "FROM blocks{where} ORDER BY setting, block DESC",
           "blocks read last first: sums added out of order, verdicts concatenated backwards", STORE),
    # --- study/files.py, lock.py, integrity.py, repair.py: the folder as untrusted input (issue 15) ------------
    Mutant("fi-follow-link", S_FI, "    if stat.S_ISLNK(mode):\n", "    if False:\n",
           "a link planted at a name the library writes is followed", FOLDER),
    Mutant("fi-unescaped-uri", S_FI, "uri = Path(os.path.abspath(path)).as_uri()",
           'uri = "file:" + os.path.abspath(path)',
           "the store opened by an unescaped URI: lr%41 reads lrA, run#1 opens a stray file run", FOLDER),
    Mutant("lk-shared", S_LO, "fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)",
           "fcntl.flock(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB)", "two sweeps write one folder at once", FOLDER),
    Mutant("in-array-crc", S_BL, 'if not isinstance(data, bytes) or crc(data) != row[f"{name}_crc"]:',
           "if not isinstance(data, bytes):", "a flipped bit in a stored array read as a number", FOLDER),
    Mutant("in-literal-spec", S_IN, "if _key(v) != _key(DEFAULTS.get(k, ()))", "if True",
           "a rerun restating a default (--optimizer sgd) refused as a different study", FOLDER),
    Mutant("re-lost", S_RP, 'if state == "done" and cells - seen:', "if False:",
           "a task marked done without its blocks read as a smaller study", FOLDER),
    # --- study/tables.py --------------------------------------------------------------------------------------
    Mutant("tb-merge-sum", S_TB, "            acc[k] = acc[k] + block[k]\n", "            acc[k] = block[k]\n",
           "merged statistics keep the last block's, not the sum over blocks", STUDY),
    Mutant("sw-sd-ddof", S_TB, "math.sqrt(max(0.0, squares_p / n - mean_p * mean_p))",
           "math.sqrt(max(0.0, squares_p / n - mean_p * mean_p) * n / (n - 1))",
           "sd_final_p_best with n - 1 instead of n", STUDY),
    Mutant("sw-mean-reward", S_TB, 'float(m["last_rewards"].sum()) / (n * setting.steps_per_episode)',
           'float(m["last_rewards"].sum()) / n', "mean reward per bandit, not per step", STUDY),
    Mutant("sw-curve-step", S_TB, "step = (e + 1) * every", "step = e * every",
           "curves' step column counts steps before the point's interval", STUDY),
    Mutant("tb-curve-episode", S_TB, '"episode": (step - 1) // steps + 1', '"episode": step // steps + 1',
           "a trace point at an episode's last step put in the next episode", STUDY),
    Mutant("tb-final-sums", S_TB, 'total, squares = (float(v) for v in m[f"final_{name}"])',
           'total, squares = (float(v[-1]) for v in (m[f"{name}_sum"], m[f"{name}_sq"]))',
           "results.csv's means from the last curve point, not over the run (reward: the last episode's)", STUDY),
    Mutant("sw-csv-digits", S_TB, 'return format(float(value), ".12g")', 'return format(float(value), ".6g")',
           "computed CSV values written with 6 significant digits", STUDY),
    # --- study/task.py ----------------------------------------------------------------------------------------
    Mutant("sw-locked-threshold", S_TK, "on_best = final_probs.argmax(axis=1) == best",
           "on_best = final_probs.argmax(axis=1) != best", "locked_wrong counts bandits locked on the right arm",
           STUDY),
    Mutant("sw-locked-temperature", S_TK, 'z = out["weights"].double().numpy() * b.inv_temperature.numpy()[:, None]',
           'z = out["weights"].double().numpy()', "locked_wrong computed from softmax(w), not softmax(w / T)", STUDY),
    Mutant("sw-successes-axis", S_TK, '"successes": rows["curve_success"].sum(axis=0, dtype=np.int64)',
           '"successes": rows["curve_success"].sum(axis=1, dtype=np.int64)',
           "successes summed over episodes, not bandits", STUDY),
    Mutant("sw-final-reward", S_TK, '(out["episode_reward"].sum(dim=1) / n_steps)',
           '(out["episode_reward"].sum(dim=1) / job.steps_per_episode)',
           "each bandit's reward per step over the run divided by an episode's steps", STUDY),
    Mutant("sw-curve-rate", S_TK, '        "best": best,\n    }, every\n',
           '        "best": best,\n    }, job.steps_per_episode\n',
           "a trace point's reward and optimal pulls divided by an episode's steps, not the interval's", STUDY),
    Mutant("sw-draw-once", S_TK, "        return lambda ids: table\n",
           "        return lambda ids: dist.draw(model, seed + 1, ids)\n",
           "settings sharing a distribution get other problems than run_batch's for their bandits", STUDY),
    Mutant("sw-common-streams", S_TK, "setup = make_setup(n, torch.cat([ids for _, ids in parts]), **merged)",
           "setup = make_setup(n, torch.arange(n), **merged)",
           "settings of a batch get different random streams (no common random numbers)", STUDY),
    # --- study/executors.py -----------------------------------------------------------------------------------
    Mutant("ex-signature", S_EX, "job.dtype, job.device, job.backend, job.group", "job.dtype, job.device, job.backend",
           "jobs of different groups (rules, K) fused into one engine batch", STUDY),
    Mutant("ex-lost-workers", S_EX, 'lost += not event.get("expected", False)', "lost += 0",
           "a Dask worker killed mid-sweep goes unreported", tests("study_dask")),
    # --- study/calls.py, study/blocks.py ----------------------------------------------------------------------
    Mutant("ca-throughput", S_CA, 'round(record["bandit_steps"] / wall, 1)',
           'round(record["bandit_steps"] / record["engine_s"], 1)',
           "the call's throughput per summed engine-second, not per second of wall time (issue 17)",
           tests("study_dask", "sweeps")),
    Mutant("cl-interval-kind", S_CL, 'kind = "Wilson" if m.kind == "proportion" else "normal"', 'kind = "normal"',
           "meta.json calls the success rate's Wilson interval a normal one", tests("study_metrics")),
    Mutant("bl-cauchy-schwarz", S_BL, "(sums * sums - n * squares).max() > SLACK * n * float(squares.max())", "False",
           "a forged sum of squares below what its sum gives read as a number", FOLDER),
    # --- study/sweep.py ---------------------------------------------------------------------------------------
    Mutant("sw-max-bandits", S_SW, '    elif max_bandits is not None:\n        raise ValueError',
           '    elif False:\n        raise ValueError', "max_bandits without a precision target silently ignored",
           STUDY),
    # --- study/result.py, study/__init__.py ------------------------------------------------------------------
    Mutant("sr-summary-rate", S_RE, "{row['success_rate']:>7.4f}  {row['ci_low']",
           "{row['mean_final_p_best']:>7.4f}  {row['ci_low']",
           "the sweep's summary prints P(best) in the success column", STUDY),
    Mutant("si-exports", S_INIT, "from .tables import Study, load_curves, load_rows, load_verdicts",
           "from .tables import Study, load_rows as load_curves, load_rows, load_verdicts",
           "study.load_curves exported as load_rows (a copy-paste in the export list)", STUDY),
    # --- study/derived.py -------------------------------------------------------------------------------------
    Mutant("de-eta-power", S_DE, 'setting.temperature ** (2 if optimizer == "sgd" else 1)', "setting.temperature ** 2",
           "eta = lr / T² for Adam and RMSprop too (their step scales with lr / T)", STUDY),
    Mutant("de-mean-field-dampening", S_DE, 'dampening=column("dampening", 0.0),', "dampening=0.0,",
           "a study's mean field ignores the settings' dampening", STUDY),
    # --- study/problems.py ------------------------------------------------------------------------------------
    Mutant("prb-gaps-sign", S_PR, 'signed = gaps if model == "threshold" else -gaps', "signed = gaps",
           "gap problems of Bernoulli / Gaussian arms make the named best arm the worst", PROBLEMS),
    # --- study/compare.py -------------------------------------------------------------------------------------
    Mutant("cm-only-b", S_CM, "only_b, neither = int(np.sum(~va & vb))", "only_b, neither = int(np.sum(va & ~vb))",
           "only_b counted as only_a (copy-paste)", COMPARE),
    Mutant("cm-holm", S_CM, 'adjusted = holm([r["p_value"] for r in raw])', 'adjusted = [r["p_value"] for r in raw]',
           "several pairs compared without Holm's correction", COMPARE),
    Mutant("cm-paired-blocks", S_CM, "vb = np.concatenate([blocks_b[b] for b in common])",
           "vb = np.concatenate(list(blocks_b.values()))[: va.shape[0]]",
           "bandits paired by position in B's committed blocks, not by id (issue 15: a partial study)", COMPARE),
    Mutant("cm-same-rtol", S_CM, "rel_tol=1e-6, abs_tol=0.0", "rel_tol=1e-9, abs_tol=0.0",
           "a selector value typed with 7 significant digits no longer finds its grid point", COMPARE),
    # --- study/threshold.py -----------------------------------------------------------------------------------
    Mutant("th-interpolation", S_TH, "share = 0.5 if y1 == y0 else (target - y0) / (y1 - y0)",
           "share = 0.5 if y1 == y0 else (target - y1) / (y0 - y1)",
           "the crossing interpolated from the wrong end of the bracket", THRESHOLD),
    Mutant("th-increasing", S_TH,
           'increasing = points[bracket[1]]["success_rate"] >= points[bracket[0]]["success_rate"]',
           'increasing = points[bracket[1]]["success_rate"] <= points[bracket[0]]["success_rate"]',
           "a rising success curve reported as falling", THRESHOLD),
    Mutant("th-no-figure", S_TH, "            plot_threshold(found)\n", "            pass\n",
           "threshold.png never drawn", THRESHOLD),
    # --- figures/threshold.py: the threshold search drawn --------------------------------------------------------
    Mutant("fth-zoom-points", F_TH, 'low / ZOOM**2 <= p["value"] <= high * ZOOM**2', 'low <= p["value"] <= high',
           "the zoomed panel keeps only the points inside the interval: the curve stops short of its edges",
           THRESHOLD_FIGURE),
    Mutant("fth-crossing-line", F_TH, "ax.axvline(found.estimate,", "ax.axvline(found.target,",
           "the crossing drawn at the target's value (a success rate), not at the estimate on the axis",
           THRESHOLD_FIGURE),
    Mutant("fth-zoom-xlim", F_TH, "ax.set_xlim(low / ZOOM, high * ZOOM)", "ax.set_xlim(low * ZOOM, high * ZOOM)",
           "the zoomed panel's left edge inside the interval: the lower end of the crossing's interval cut off",
           THRESHOLD_FIGURE),
    # --- figures/*: axis choice, notes, log detection, what is drawn -------------------------------------------
    Mutant("fc-log-two", F_CO, "        return spread >= 10\n", "        return spread > 10\n",
           "two values exactly ten times apart read on a linear axis", FIGURES),
    Mutant("fl-x-most", F_LA, "x = max(swept, key=lambda a: (len(table.present(a)), -PREFERENCE.index(a)))",
           "x = min(swept, key=lambda a: (len(table.present(a)), -PREFERENCE.index(a)))",
           "x is the swept axis with the fewest values", FIGURES),
    Mutant("fig-picks", F_LA, "round(i * (len(known) - 1) / (most - 1))", "round(i * len(known) / (most - 1))",
           "thinned values picked past the end of the axis", FIGURES),
    Mutant("fl-no-x-note", F_LA, "    if dropped:\n        notes.append(", "    if False:\n        notes.append(",
           "settings without a place on x (an axis that does not apply) dropped without a note", FIGURES),
    Mutant("fig-sort-key", F_LA, "lines[line] = sorted(mine, key=self.x.position)",
           'lines[line] = sorted(mine, key=lambda r: r["setting"])',
           "a line's points joined in grid order, not in x order", FIGURES),
    Mutant("fw-fixed", F_WO, 'lines.append(table.about() + (f"; fixed: {fixed}" if fixed else ""))',
           "lines.append(table.about())", "the title no longer says what the study held fixed", FIGURES),
    Mutant("fig-about-seed", F_TA, "seed {self.spec.get('seed', '?')}", "seed {self.spec.get('n_bandits', '?')}",
           "the figures' subtitle shows n_bandits as the seed", FIGURES),
    Mutant("fig-uniform-line", F_SU, "ax.axhline(1 / k,", "ax.axhline(1 / len(ks),",
           "the chance level drawn at 1 / (number of K in the panel), not 1/K", FIGURES),
    Mutant("fcv-steps-x", F_CU, 'x = "step" if "steps_per_episode" in line_axes or every else "episode"',
           'x = "step" if every else "episode"',
           "learning curves of several horizons drawn against episodes, not steps done", FIGURES),
    Mutant("fm-y-column", F_SU, "y, (low, high) = m.column, m.ci", 'y, (low, high) = "success_rate", m.ci',
           "plot --y draws the success rate whatever the metric asked for", FIGURES),
    Mutant("fm-log-y", F_SU, "max(known) / min(known) >= LOG_SPREAD", "max(known) / min(known) >= 1e12",
           "regret spanning 100x drawn on a linear axis", FIGURES),
    Mutant("fd-stack", F_DI, "        areas.add(xs, floor, top, colour)\n        floor = top\n",
           "        areas.add(xs, floor, top, colour)\n",
           "the three fractions drawn from 0, not stacked", FIGURES),
    Mutant("fh-min-values", F_HE, "long = [a for a in table.swept() if len(table.present(a)) >= MIN_VALUES]",
           "long = [a for a in table.swept() if len(table.present(a)) > MIN_VALUES]",
           "no heat map for two axes of exactly five values", FIGURES),
    Mutant("fcn-bottom-labels", F_CA, "return i + self.cols >= self.n", "return i + self.cols > self.n",
           "the bottom row of panels loses its x tick labels and label", FIGURES),
    Mutant("fig-xscale", F_MA, '(ax.set_xscale if which == "x" else ax.set_yscale)("log")',
           '(ax.set_xscale if which == "x" else ax.set_yscale)("linear")', "log axes drawn linear", FIGURES),
    Mutant("fig-band", F_MA,
           "ax.add_collection(PolyCollection(self.polygons, facecolors=self.colours, **style), autolim=True)",
           "pass", "the 95% bands not drawn", FIGURES),
    Mutant("fi-heatmap", F_INIT, "grid = heatmap.choose_axes(table, layout)", "grid = None",
           "plot_sweep never draws the heat map", FIGURES),
    # --- cli/*: every option passed on ----------------------------------------------------------------------
    Mutant("cli-exit-status", C_INIT, 'print(f"{prefix}: error: {err}", file=sys.stderr)\n            return 2',
           'print(f"{prefix}: error: {err}", file=sys.stderr)\n            return 1',
           "bad input exits 1 instead of argparse's 2", CLI),
    Mutant("cm-main-exit", C_MAIN, "    sys.exit(main())", "    main()",
           "python -m batched_bandit.cli always exits 0", CLI),
    Mutant("cli-geomspace", C_AR, "(np.geomspace if log else np.linspace)", "(np.linspace if log else np.geomspace)",
           "--log ranges linear and plain ranges geometric", CLI),
    Mutant("cli-num-zero", C_AR, "if num < 1:", "if num < 0:", "a range with num = 0 accepted (an empty axis)", CLI),
    Mutant("cli-repeats", C_AR, "if len(set(rounded)) < len(rounded):", "if False:",
           "an integer range that rounds to repeats is not refused", CLI),
    Mutant("cli-range-round", C_AR, "            values = _round_range(values, start, stop, log)\n", "",
           "ranges keep numpy's 0.12499999999999999 (a table's 0.125 names nothing)", SELECTOR),
    Mutant("cli-range-ends", C_AR, "    rounded[0] = start\n", "",
           "a range's first end rounded to 12 digits instead of kept as typed", SELECTOR),
    Mutant("cli-range-zero", C_AR, "rounded = [round(v, places) + 0.0 for v in values]",
           "rounded = [float(f'{v:.12g}') for v in values]",
           "a linear range rounded per value: its zero stays 5.6e-17", SELECTOR),
    Mutant("cli-compare-typed", C_CM, "numbers = [Typed(x) for x in text.split(\",\")]",
           "numbers = [float(x) for x in text.split(\",\")]",
           "compare's values lose the digits typed (0.10 taken as 0.1, one digit)", SELECTOR),
    Mutant("sel-equal-first", S_SEL, "    if equal:\n        return equal\n", "",
           "0.1 ambiguous beside 0.12: an equal value no longer wins over one that rounds to it", SELECTOR),
    Mutant("sel-digits", S_SEL, "return digits is not None and float(f\"{value:.{digits}g}\") == number",
           "return digits is not None and float(f\"{value:.{digits + 1}g}\") == number",
           "a value typed as a table shows it (0.03162) no longer names its grid point", SELECTOR),
    Mutant("sel-ambiguous", S_SEL, "if len(near) > 1:", "if len(near) > 2:",
           "two values at the digits typed: the first silently taken", SELECTOR),
    Mutant("sel-sorted-as-text", S_SEL, "ordered = sorted(values, key=_order)", "ordered = sorted(values, key=str)",
           "a study's values listed as text (0.1, 0.03, 1)", SELECTOR),
    Mutant("sel-listed-digits", S_SEL, "for digits in range(SHOWN_DIGITS, 18):", "for digits in (SHOWN_DIGITS,):",
           "values listed with 6 digits although two then read alike", SELECTOR),
    Mutant("cli-no-record", C_RUN, "record_episodes=args.record_episodes,", "record_episodes=True,",
           "--no-record-episodes ignored", CLI),
    Mutant("cli-chunk-size", C_RUN, "chunk_size=args.chunk_size,", "chunk_size=None,",
           "--chunk-size ignored (memory not bounded as asked)", CLI),
    Mutant("cli-run-seed", C_RUN, "steps_per_episode=args.steps_per_episode,\n        seed=args.seed,",
           "steps_per_episode=args.steps_per_episode,\n        seed=0,", "run --seed ignored", CLI),
    Mutant("cli-run-dtype", C_RUN, "dtype=DTYPES[args.dtype],\n        record_episodes",
           "dtype=torch.float32,\n        record_episodes",
           "run --dtype ignored", CLI),
    *[Mutant(f"cli-rule-{name.replace('_', '-')}", C_RUN, RULE_NAMES, dropped_rule_option(name),
             f"run --{name.replace('_', '-')} ignored (not passed to run_batch)", CLI)
      for name in ("reward_sd", "momentum", "centered")],
    Mutant("cli-log-lr", C_SW, 'text = text if text.endswith(":log") or ":" not in text else f"{text}:log"',
           'text = text if text.endswith(":log") or ":" not in text else text',
           "--log accepted but never applied (--lr 0.01:1:3 stays linear)", CLI),
    Mutant("cli-log-episodes", C_SW, 'if name in args.log or flag.lstrip("-") in args.log:', "if name in args.log:",
           "--log episodes / --log steps (the flags' spelling) ignored", CLI),
    Mutant("cli-sweep-reward-values", C_SW, 'axes["reward_values"] = args.reward_values', "pass",
           "sweep --reward-values ignored", CLI),
    Mutant("cli-sweep-block", C_SW, "block_bandits=args.block_bandits,", "block_bandits=None,",
           "sweep --block-bandits ignored", CLI),
    Mutant("cli-sweep-precision", C_SW, "precision=args.precision,\n", "precision=None,\n",
           "sweep --precision ignored", CLI),
    Mutant("cli-plot-lines", C_PL, "lines=args.lines,", "lines=None,", "plot --lines ignored", CLI),
    Mutant("cli-compare-number", C_CM, "return numbers[0] if len(numbers) == 1 else tuple(numbers)",
           "return tuple(numbers)",
           "compare's AXIS=0.1 read as a one-number vector", CLI),
    Mutant("cli-threshold-lr", C_TH, 'names = ("temperature", "lr", "momentum",', 'names = ("temperature", "momentum",',
           "threshold --lr ignored", CLI),
]
# fmt: on
