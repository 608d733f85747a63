"""The Triton kernel compiled ahead of time for an NVIDIA GPU, without one, and what its code costs.

``triton.compile`` with a ``GPUTarget`` runs the whole toolchain (Triton -> LLVM -> PTX -> ptxas
-> cubin) on any machine; triton's wheel bundles ptxas and cuobjdump. From the result ``inspect``
reads registers and local memory (``cuobjdump -res-usage``), spills, shuffles, barriers and
shared memory (SASS, PTX, metadata) and the instructions of the inner loop (one Philox call, two
steps). Used by tests/test_triton_engine.py (in a fresh process: a test session runs the
interpreter, which cannot compile) and benchmarks/triton_sass.py. Not imported by the engine.
"""

from __future__ import annotations

import functools
import re
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from ..state import Rule
from .triton_engine import COMPILED_WARPS, constants, launch_config, policy_constants
from .triton_kernel import bandit_kernel
from .triton_policies import policy_kernel

# one rule of each kind, for the compile checks (tests/test_triton_engine.py) and benchmarks/triton_sass.py
RULES = {
    "sgd (the seed)": Rule(),
    "sgd momentum nesterov weight_decay": Rule(momentum=True, nesterov=True, weight_decay=True),
    "mean baseline": Rule(baseline="mean"),
    "ema baseline": Rule(baseline="ema"),
    "adam": Rule(optimizer="adam"),
    "rmsprop": Rule(optimizer="rmsprop"),
    "rmsprop centered momentum": Rule(optimizer="rmsprop", centered=True, momentum=True),
    "gaussian rewards": Rule(rewards="gaussian"),
}

# bandit_kernel's runtime arguments and their types, in order (the constexprs come from constants())
ARGUMENT_TYPES = {
    "arm_param_ptr": "*fp32", "arm_gap_ptr": "*fp32", "init_weights_ptr": "*fp32", "best_arm_ptr": "*i64",
    "per_bandit_ptr": "*fp32", "bandit_ids_ptr": "*i64", "weights_ptr": "*fp32", "episode_rewards_ptr": "*fp32",
    "episode_p_best_ptr": "*fp32", "episode_regret_ptr": "*fp32", "episode_reward_ptr": "*fp32",
    "episode_optimal_ptr": "*i32", "trace_ptr": "*fp32", "trace_since_ptr": "*i32", "n_bandits": "i32",
    "key_lo": "i32", "key_hi": "i32", "n_episodes": "i32", "steps_per_episode": "i32", "n_recorded": "i32",
    "record_every": "i32", "n_points": "i32",
}  # fmt: skip


@functools.cache
def compile_kernel(rule: Rule, n_arms: int, capability: int = 90, trace: bool = False):
    """bandit_kernel for ``rule`` and ``n_arms`` arms (``trace``: the kernel that traces every
    record_every steps), compiled for sm_``capability`` as the engine launches it (one bandit per thread)."""
    names = bandit_kernel.arg_names
    block, warps = launch_config(2**20, triton.next_power_of_2(n_arms), interpreted=False)
    values = constants(rule, n_arms, block, trace)
    if list(ARGUMENT_TYPES) + list(values) != names:
        raise RuntimeError(f"ARGUMENT_TYPES and constants() do not match the kernel's arguments {names}")
    signature = {**ARGUMENT_TYPES, **dict.fromkeys(values, "constexpr")}
    constexprs = {(names.index(k),): v for k, v in values.items()}
    source = ASTSource(bandit_kernel, signature, constexprs=constexprs)
    return triton.compile(source, target=GPUTarget("cuda", capability, 32), options={"num_warps": warps})


# policy_kernel's runtime arguments (triton_policies.py: the other policies), in order
POLICY_ARGUMENT_TYPES = {
    "arm_param_ptr": "*fp32", "arm_gap_ptr": "*fp32", "best_arm_ptr": "*i64", "per_bandit_ptr": "*fp32",
    "bandit_ids_ptr": "*i64", "weights_ptr": "*fp32", "episode_rewards_ptr": "*fp32", "episode_p_best_ptr": "*fp32",
    "episode_regret_ptr": "*fp32", "episode_reward_ptr": "*fp32", "episode_optimal_ptr": "*i32",
    "final_probs_ptr": "*fp32", "n_bandits": "i32", "key_lo": "i32", "key_hi": "i32", "n_episodes": "i32",
    "steps_per_episode": "i32", "n_recorded": "i32",
}  # fmt: skip


@functools.cache
def compile_policy_kernel(rule: Rule, n_arms: int, capability: int = 90):
    """policy_kernel (every policy but the gradient) for ``rule`` and ``n_arms`` arms, compiled for
    sm_``capability`` as the engine launches it."""
    names = policy_kernel.arg_names
    block, warps = launch_config(2**20, triton.next_power_of_2(n_arms), interpreted=False)
    values = policy_constants(rule, n_arms, block)
    if list(POLICY_ARGUMENT_TYPES) + list(values) != names:
        raise RuntimeError(f"POLICY_ARGUMENT_TYPES and policy_constants() do not match the kernel's arguments {names}")
    signature = {**POLICY_ARGUMENT_TYPES, **dict.fromkeys(values, "constexpr")}
    constexprs = {(names.index(k),): v for k, v in values.items()}
    source = ASTSource(policy_kernel, signature, constexprs=constexprs)
    return triton.compile(source, target=GPUTarget("cuda", capability, 32), options={"num_warps": warps})


def inspect_policy(policy: str, rewards: str, n_arms: int, capability: int = 90) -> dict:
    """Registers, local memory and spill instructions of policy_kernel compiled for ``policy``."""
    compiled = compile_policy_kernel(Rule(policy=policy, rewards=rewards), n_arms, capability)
    sass = compiled.asm["sass"]
    return dict(**resource_usage(compiled.asm["cubin"]), spill_instructions=len(re.findall(r"\b(?:LDL|STL)\b", sass)))


def cuobjdump(cubin: bytes, option: str) -> str:
    """``cuobjdump <option>`` of a cubin (triton's wheel bundles cuobjdump)."""
    from triton import knobs

    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        return subprocess.check_output([knobs.nvidia.cuobjdump.path, option, f.name], text=True)


def resource_usage(cubin: bytes) -> dict[str, int]:
    """``cuobjdump -res-usage`` of the kernel: REG, STACK, SHARED, LOCAL (bytes but REG)."""
    text = cuobjdump(cubin, "-res-usage")
    usage = re.search(r"REG:(\d+) STACK:(\d+) SHARED:(\d+) LOCAL:(\d+)", text)
    if usage is None:
        raise RuntimeError(f"cuobjdump -res-usage printed no resource usage: {text.strip()[:200]!r}")
    return dict(zip(("regs", "stack", "shared", "local"), map(int, usage.groups())))


def sass_listing(cubin: bytes) -> str:
    """The kernel's SASS as triton.tools.disasm lists it (one instruction a line, "LBBn:" before each
    branch target, branches naming their label), from ``cuobjdump -sass``: triton's own listing
    (``asm["sass"]``) stops at 64 KiB of code (it reads four hex digits of offset), which the tracing
    kernel passes at K = 16."""
    found = re.findall(r"/\*([0-9a-f]{4,})\*/\s+([^;]*?)\s*;", cuobjdump(cubin, "-sass"))
    branch = re.compile(r"(BRA(?:\.U)? )0x([0-9a-f]+)")
    targets = sorted({int(m.group(2), 16) for _, asm in found if (m := branch.search(asm))})
    labels = {offset: f"LBB{i}" for i, offset in enumerate(targets)}
    lines = []
    for offset, asm in found:
        if int(offset, 16) in labels:
            lines.append(labels[int(offset, 16)] + ":")
        lines.append(branch.sub(lambda m: m.group(1) + labels[int(m.group(2), 16)], asm) + ";")
    return "\n".join(lines)


def _inner_loop_lines(sass: str) -> tuple[list[str], int, int]:
    """The listing's lines, and where the innermost loop that computes exp (MUFU.EX2) starts and
    ends: after a branch target, through the backward branch to it (0, 0: none)."""
    lines = [line.split("\t", 1)[-1].strip() for line in sass.splitlines()]
    labels = {line[:-1]: i for i, line in enumerate(lines) if re.fullmatch(r"LBB\d+:", line)}
    best = (0, 0)
    for i, line in enumerate(lines):
        target = re.search(r"BRA (LBB\d+)", line)
        if target and labels.get(target.group(1), i) < i:
            start = labels[target.group(1)] + 1
            if any("MUFU.EX2" in x for x in lines[start : i + 1]) and (best == (0, 0) or i - start < best[1] - best[0]):
                best = (start, i + 1)
    return lines, *best


def inner_loop(sass: str) -> list[str]:
    """The instructions of the innermost loop that computes exp (MUFU.EX2): from a branch target to
    the backward branch that closes it, in Triton's SASS listing (one instruction a line, labels)."""
    lines, start, end = _inner_loop_lines(sass)
    return [x for x in lines[start:end] if x and not x.endswith(":")]


def between_points(sass: str) -> list[str]:
    """The inner loop's instructions on its path between trace points: without the code that a
    forward branch skips where that code stores (a trace point's; the loop stores nothing else).
    The whole inner loop when the kernel does not trace."""
    lines, start, end = _inner_loop_lines(sass)
    labels = {line[:-1]: i for i, line in enumerate(lines) if re.fullmatch(r"LBB\d+:", line)}
    skipped: set[int] = set()
    for i in range(start, end):
        target = re.search(r"BRA (LBB\d+)", lines[i])
        if target and i < labels[target.group(1)] <= end:
            jumped = range(i + 1, labels[target.group(1)])
            if any(re.search(r"\bSTG\b", lines[j]) for j in jumped):
                skipped.update(jumped)
    return [x for j, x in enumerate(lines[start:end], start) if j not in skipped and x and not x.endswith(":")]


def inspect(rule: Rule, n_arms: int, capability: int = 90, trace: bool = False) -> dict:
    """What the compiled kernel costs: registers, local memory, spill and cross-thread instructions
    (all of them 0 but regs when each bandit stays in one thread's registers) and, per bandit-step,
    the SASS instructions and MUFU (special-function) operations of the inner loop (``trace``: the
    tracing kernel, whose loop also holds the trace points' code, taken every record_every steps)."""
    compiled = compile_kernel(rule, n_arms, capability, trace)
    sass, ptx = sass_listing(compiled.asm["cubin"]), compiled.asm["ptx"]
    loop, path = inner_loop(sass), between_points(sass)
    return dict(
        **resource_usage(compiled.asm["cubin"]),
        spill_instructions=len(re.findall(r"\b(?:LDL|STL)\b", sass)),
        ptx_local=ptx.count(".local"),
        shuffles=len(re.findall(r"\bSHFL\b", sass)) + ptx.count("shfl.sync"),
        barriers=len(re.findall(r"\bBAR\b", sass)) + ptx.count("bar.sync"),
        shared_bytes=compiled.metadata.shared,
        warps=COMPILED_WARPS,
        instructions_per_step=len(path) / 2,
        mufu_per_step=sum("MUFU" in x for x in path) / 2,
        loop_instructions=len(loop),  # with a trace point's code (twice: after either step), if traced
        ex2_in_ptx=ptx.count("ex2.approx"),
    )


def _inspect_case(case: tuple) -> dict:
    rule, n_arms, capability, *trace = case
    return inspect(RULES[rule], n_arms, capability, *trace)


def inspect_many(cases: list[tuple]) -> list[dict]:
    """``inspect`` of (name in RULES, n_arms, capability[, trace]) cases, compiled in parallel, one process a core."""
    with ProcessPoolExecutor() as pool:
        return list(pool.map(_inspect_case, cases))
