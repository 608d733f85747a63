"""A sweep call's record (meta.json's ``calls``): what ran where, its timings and its incidents.

The timings mean the same for every executor:

- ``total_s``: the call's elapsed (wall-clock) time, from sweep's start to its end;
- ``engine_s``: the sum over the tasks this call committed of their time in the engine, whichever
  worker ran them (with several workers it exceeds ``total_s``); ``setup_s`` and ``reduce_s``:
  the same sums for building the tasks' batches (random problems drawn) and reducing their outputs
  to statistics;
- ``bandit_steps_per_s``: the call's throughput, ``bandit_steps`` / ``total_s``;
  ``bandit_steps_per_engine_s``: the engines' own speed, ``bandit_steps`` / ``engine_s``;
- ``sweep_layer_s`` (in process only, where the engine runs inside the call's time): ``total_s``
  - ``engine_s``, what the study layer costs around the engine.

On a Dask cluster, ``workers_lost`` counts the workers that left unexpectedly during the call and
``tasks_rerun`` the tasks the scheduler had to run again because of it (those running or queued on
a lost worker, and those whose results it held); the results do not depend on them.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import torch

from ..provenance import cpu_name

TIMES = ("engine_s", "setup_s", "reduce_s")  # summed over the tasks committed
INCIDENTS = ("workers_lost", "tasks_rerun")


def new_record(command: list[str], executor, device: str, backends, tasks_done: int) -> dict:
    """A call's record at its start."""
    describe = getattr(executor, "describe", None)
    return {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "device": device,
        "backends": backends,
        "cpu": cpu_name(),
        "cpu_threads": torch.get_num_threads(),
        **(describe() if callable(describe) else {"executor": repr(executor)}),
        "tasks_already_done": tasks_done,
        "tasks_committed": 0, "bandit_steps": 0, **dict.fromkeys(TIMES, 0.0), "finished": False,
    }  # fmt: skip


def committed(record: dict, bandit_steps: int, result: dict) -> None:
    """Count a task this call committed: its bandit-steps and its times."""
    record["tasks_committed"] += 1
    record["bandit_steps"] += bandit_steps
    for name in TIMES:
        record[name] += float(result.get(name) or 0.0)


def incidents(record: dict, found) -> None:
    """Add what an executor's run reported: None (nothing to report: in process), or
    {"workers_lost": n, "tasks_rerun": m}, counted in the record even when 0."""
    if isinstance(found, dict):
        for name in INCIDENTS:
            record[name] = record.get(name, 0) + int(found.get(name) or 0)


def finish(record: dict, wall: float, in_process: bool) -> None:
    """The call's timings, once it ends (module docstring: what each means)."""
    record["total_s"] = round(wall, 6)
    for name in TIMES:
        record[name] = round(record[name], 6)
    if in_process:
        record["sweep_layer_s"] = round(wall - record["engine_s"], 6)
    if wall > 0:
        record["bandit_steps_per_s"] = round(record["bandit_steps"] / wall, 1)
    if record["engine_s"] > 0:
        record["bandit_steps_per_engine_s"] = round(record["bandit_steps"] / record["engine_s"], 1)


def report(record: dict) -> None:
    """One line (a warning) when workers were lost or tasks run again."""
    lost, rerun = (record.get(name, 0) for name in INCIDENTS)
    if lost or rerun:
        warnings.warn(
            f"{lost} Dask worker{'s' if lost != 1 else ''} lost during this sweep, {rerun} "
            f"task{'s' if rerun != 1 else ''} run again elsewhere (the results do not depend on it; meta.json "
            "counts them)",
            stacklevel=3,
        )
