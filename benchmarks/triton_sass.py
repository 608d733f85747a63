"""The Triton kernel's cost per bandit-step for each kind of rule, compiled for a GPU without one.

    python benchmarks/triton_sass.py                 # K = 4 and 16, sm_90 (H100), spills on sm_80 too
    python benchmarks/triton_sass.py --arms 2 4 8 16 32 64
    python benchmarks/triton_sass.py --traced        # also the kernel that traces (record_every)

For each rule of ``triton_aot.RULES`` and K, compiles the kernel for sm_90 as the engine launches
it and prints a Markdown table: registers per thread, SASS instructions and MUFU (special-function
unit: ex2, rcp, sqrt, lg2) operations per bandit-step in the inner loop (one Philox call, two
steps), spills (local-memory loads and stores, sm_90 and sm_80), warps an SM can hold at that
register count, and the H100 rates those counts allow. Traced, the instructions a step are those
on the loop's path between trace points (a point's own code runs every record_every steps).
The rates are estimates, not measurements: an H100 SXM issues ~132 SMs x 4 warp-instructions x 32
threads x 1.75 GHz = 3.0e13 thread-instructions/s and 132 x 16 x 1.75 GHz = 3.7e12 MUFU ops/s; a
kernel reaches neither bound exactly (latency at low occupancy, the episode-end work, memory), so
read them as ceilings.
"""

from __future__ import annotations

import argparse
import time

from batched_bandit.engines import triton_aot

ISSUE_PER_S = 132 * 4 * 32 * 1.75e9  # H100 SXM thread-instructions/s
MUFU_PER_S = 132 * 16 * 1.75e9  # H100 SXM MUFU results/s
THREADS_PER_PROGRAM = 32 * triton_aot.COMPILED_WARPS


def warps_per_sm(regs: int) -> int:
    """Warps an SM holds at ``regs`` registers per thread (64K registers, allocated 8 at a time; 64 warps at most)."""
    per_program = THREADS_PER_PROGRAM * -(-regs // 8) * 8
    return min(64, 65536 // per_program * triton_aot.COMPILED_WARPS)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--traced", action="store_true", help="also the tracing kernel (record_every)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    kinds = (False, True) if args.traced else (False,)
    cases = [(rule, k, cc, traced) for rule in triton_aot.RULES for k in args.arms for traced in kinds
             for cc in (90, 80)]  # fmt: skip
    reports = dict(zip(cases, triton_aot.inspect_many(cases)))
    print(f"# compiled {len(cases)} kernels in {time.perf_counter() - start:.0f} s (triton_aot, no GPU)\n")
    print("| rule | K | traced | registers | SASS instr / step | MUFU / step | spills sm_90, sm_80 | warps / SM "
          "| est. H100 bandit-steps/s (issue, MUFU bound) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for rule in triton_aot.RULES:
        for k in args.arms:
            for traced in kinds:
                r, r80 = reports[(rule, k, 90, traced)], reports[(rule, k, 80, traced)]
                spills = [x["spill_instructions"] + x["stack"] + x["local"] for x in (r, r80)]
                issue, mufu = ISSUE_PER_S / r["instructions_per_step"], MUFU_PER_S / r["mufu_per_step"]
                print(f"| {rule} | {k} | {'yes' if traced else 'no'} | {r['regs']} | {r['instructions_per_step']:g} "
                      f"| {r['mufu_per_step']:g} | {'none' if not any(spills) else spills} | {warps_per_sm(r['regs'])} "
                      f"| {min(issue, mufu):.1e} ({issue:.1e}, {mufu:.1e}) |")  # fmt: skip


if __name__ == "__main__":
    main()
