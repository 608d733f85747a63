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
    "episode_optimal_ptr": "*i32", "n_bandits": "i32", "key_lo": "i32", "key_hi": "i32", "n_episodes": "i32",
    "steps_per_episode": "i32", "n_recorded": "i32",
}  # fmt: skip


@functools.cache
def compile_kernel(rule: Rule, n_arms: int, capability: int = 90):
    """bandit_kernel for ``rule`` and ``n_arms`` arms, compiled for sm_``capability`` as the engine
    launches it (one bandit per thread)."""
    names = bandit_kernel.arg_names
    block, warps = launch_config(2**20, triton.next_power_of_2(n_arms), interpreted=False)
    values = constants(rule, n_arms, block)
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


def resource_usage(cubin: bytes) -> dict[str, int]:
    """``cuobjdump -res-usage`` of the kernel: REG, STACK, SHARED, LOCAL (bytes but REG)."""
    from triton import knobs

    with tempfile.NamedTemporaryFile(suffix=".cubin") as f:
        f.write(cubin)
        f.flush()
        text = subprocess.check_output([knobs.nvidia.cuobjdump.path, "-res-usage", f.name], text=True)
    usage = re.search(r"REG:(\d+) STACK:(\d+) SHARED:(\d+) LOCAL:(\d+)", text)
    return dict(zip(("regs", "stack", "shared", "local"), map(int, usage.groups())))


def inner_loop(sass: str) -> list[str]:
    """The instructions of the innermost loop that computes exp (MUFU.EX2): from a branch target to
    the backward branch that closes it, in Triton's SASS listing (one instruction a line, labels)."""
    lines = [line.split("\t", 1)[-1].strip() for line in sass.splitlines()]
    labels = {line[:-1]: i for i, line in enumerate(lines) if re.fullmatch(r"LBB\d+:", line)}
    best: list[str] = []
    for i, line in enumerate(lines):
        target = re.search(r"BRA (LBB\d+)", line)
        if target and labels.get(target.group(1), i) < i:
            body = [x for x in lines[labels[target.group(1)] + 1 : i + 1] if x and not x.endswith(":")]
            if any("MUFU.EX2" in x for x in body) and (not best or len(body) < len(best)):
                best = body
    return best


def inspect(rule: Rule, n_arms: int, capability: int = 90) -> dict:
    """What the compiled kernel costs: registers, local memory, spill and cross-thread instructions
    (all of them 0 but regs when each bandit stays in one thread's registers) and, per bandit-step,
    the SASS instructions and MUFU (special-function) operations of the inner loop."""
    compiled = compile_kernel(rule, n_arms, capability)
    sass, ptx = compiled.asm["sass"], compiled.asm["ptx"]
    loop = inner_loop(sass)
    return dict(
        **resource_usage(compiled.asm["cubin"]),
        spill_instructions=len(re.findall(r"\b(?:LDL|STL)\b", sass)),
        ptx_local=ptx.count(".local"),
        shuffles=len(re.findall(r"\bSHFL\b", sass)) + ptx.count("shfl.sync"),
        barriers=len(re.findall(r"\bBAR\b", sass)) + ptx.count("bar.sync"),
        shared_bytes=compiled.metadata.shared,
        warps=COMPILED_WARPS,
        instructions_per_step=len(loop) / 2,
        mufu_per_step=sum("MUFU" in x for x in loop) / 2,
        ex2_in_ptx=ptx.count("ex2.approx"),
    )


def _inspect_case(case: tuple[str, int, int]) -> dict:
    rule, n_arms, capability = case
    return inspect(RULES[rule], n_arms, capability)


def inspect_many(cases: list[tuple[str, int, int]]) -> list[dict]:
    """``inspect`` of (name in RULES, n_arms, capability) cases, compiled in parallel, one process a core."""
    with ProcessPoolExecutor() as pool:
        return list(pool.map(_inspect_case, cases))
