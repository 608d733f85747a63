"""How much memory a run needs, estimated before any work, against what the machine has free."""

from __future__ import annotations

import torch

CHUNK_TENSORS = 24  # (K, chunk) tensors an engine holds at once, at most (the portable engine's step)


TRACE_BYTES = 4 + 8 + 8 + 8 + 1  # a trace point per bandit: P(best), regret, reward, optimal pulls, verdict


def run_bytes(
    n_bandits: int, n_arms: int, n_episodes: int, record_episodes: bool, dtype: torch.dtype, n_points: int = 0
) -> int:
    """The outputs of ``run_batch`` on the CPU: per-arm sums (B, E, K), P(best), regret, reward and
    optimal pulls per episode, ``n_points`` trace points, weights and final policy (B, K), verdicts (B,)."""
    item = torch.finfo(dtype).bits // 8
    n_recorded = n_episodes if record_episodes else 1
    # + the setup's per-bandit numbers (about 16 float64) and the verdict
    per_episode = 4 + 8 + 8 + 8
    per_bandit = n_recorded * n_arms * max(item, 4) + n_episodes * per_episode + 2 * n_arms * item + 16 * 8 + 1
    return n_bandits * (per_bandit + n_points * TRACE_BYTES)


def chunk_bytes(
    chunk: int, n_arms: int, n_episodes: int, record_episodes: bool, dtype: torch.dtype, n_points: int = 0
) -> int:
    """One chunk in flight: the engine's outputs (twice: on the device and copied) and working set."""
    item = torch.finfo(dtype).bits // 8
    outputs = run_bytes(chunk, n_arms, n_episodes, record_episodes, dtype, n_points)
    return 2 * outputs + chunk * (CHUNK_TENSORS * n_arms * item + 64 * 2 * 4 * 2)


def available_bytes(device: torch.device) -> int | None:
    """Free memory of the machine (Linux: MemAvailable) or of a CUDA device; None if unknown."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(
    n_bandits: int,
    n_arms: int,
    n_episodes: int,
    record_episodes: bool,
    chunk: int,
    dtype,
    device: torch.device,
    n_points: int = 0,
) -> None:
    """ValueError, before any work, when the run cannot fit in the memory that is free."""
    chunk = min(chunk, n_bandits)
    on_cpu = run_bytes(n_bandits, n_arms, n_episodes, record_episodes, dtype, n_points)
    working = chunk_bytes(chunk, n_arms, n_episodes, record_episodes, dtype, n_points)
    needs = {torch.device("cpu"): on_cpu + (working if device.type == "cpu" else working // 2)}
    if device.type == "cuda":
        needs[device] = working
    for where, need in needs.items():
        free = available_bytes(where)
        if free is not None and need > free:
            lean = run_bytes(n_bandits, n_arms, n_episodes, False, dtype)
            hint = (
                f"record_episodes=False keeps only the last episode (about {lean / 1e9:.3g} GB of results); "
                if record_episodes
                else ""
            )
            raise ValueError(
                f"this run needs about {need / 1e9:.3g} GB of {where.type} memory and {free / 1e9:.3g} GB are free: "
                f"{hint}use fewer bandits or a smaller chunk_size, or sweep(), which keeps only per-setting statistics"
            )
