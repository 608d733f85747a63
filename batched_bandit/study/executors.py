"""Executors: where tasks run. They know jobs and results, nothing of the plan or the store.

``run(jobs, on_result, on_steps)`` runs every job and calls ``on_result(job, result)`` in the
calling thread as each finishes (in any order: the store and the tables do not depend on it), and
``on_steps(n)`` with bandit-steps done; it returns None, or what went wrong on the way and was
survived (``{"workers_lost": n, "tasks_rerun": m}``, calls.py).

- ``InProcess``: this process, today's speed: consecutive jobs of one group run as one engine
  batch (up to FUSE_ELEMENTS per-arm sums), so a sweep is still a batch axis.
- ``Dask``: a ``distributed.Client`` (a LocalCluster, a running scheduler, dask-jobqueue on SLURM
  or PBS). One future per job; a job ships a few hundred bytes and returns numpy arrays. A worker
  that dies mid-task is survived: the scheduler reruns its tasks elsewhere, with identical results;
  the scheduler's own event log says which workers left and which of our tasks they held.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import uuid
from collections.abc import Callable

from .task import Job, run_job, run_jobs

FUSE_ELEMENTS = 2**26  # bandits x (episodes x arms + the trace) of one in-process engine batch (int32 sums: 256 MiB)
INSTALL_HINT = "pip install 'batched_bandit[dask]'"


class InProcess:
    """Run jobs here, consecutive jobs of one group fused into one engine batch."""

    def __init__(self, fuse_elements: int = FUSE_ELEMENTS):
        self.fuse_elements = fuse_elements

    def describe(self) -> dict:
        return {"executor": "in-process"}

    def run(self, jobs: list[Job], on_result: Callable, on_steps: Callable[[int], None] | None = None) -> None:
        for batch in self.batches(jobs):
            for job, result in zip(batch, run_jobs(batch, on_progress=on_steps)):
                on_result(job, result)

    def batches(self, jobs: list[Job]):
        """Runs of consecutive jobs with one group signature, at most fuse_elements each (>= 1 job)."""
        batch: list[Job] = []
        size = 0
        for job in jobs:
            elements = job.elements
            if batch and (_signature(job) != _signature(batch[0]) or size + elements > self.fuse_elements):
                yield batch
                batch, size = [], 0
            batch.append(job)
            size += elements
        if batch:
            yield batch


def _signature(job: Job) -> tuple:
    return (job.n_episodes, job.steps_per_episode, job.seed, job.dtype, job.device, job.backend, job.group,
            job.record_every)  # fmt: skip


class Dask:
    """Run jobs on a Dask cluster through ``client`` (a ``distributed.Client``)."""

    def __init__(self, client):
        self.client = client

    def describe(self) -> dict:
        workers = self.client.scheduler_info().get("workers", {})
        return {
            "executor": "dask",
            "scheduler": self.client.scheduler.address,
            "workers": len(workers),
            "worker_threads": sum(w.get("nthreads", 0) for w in workers.values()),
        }

    def run(self, jobs: list[Job], on_result: Callable, on_steps: Callable[[int], None] | None = None) -> dict:
        """Run the jobs; returns the workers lost meanwhile and the tasks run again because of it."""
        from distributed import as_completed

        token = uuid.uuid4().hex[:8]  # a fresh key per call: a rerun must not reuse a finished future
        since = self._last_event()
        futures = {
            self.client.submit(run_job, job, key=f"batched_bandit-{job.key}-{token}", pure=False): job for job in jobs
        }
        try:
            for future in as_completed(futures):
                job = futures[future]
                on_result(job, future.result())
                future.release()
                if on_steps is not None:
                    on_steps(job.bandit_steps)
        finally:
            self.client.cancel([f for f in futures if not f.done()])
        return self._incidents(since, {f.key for f in futures})

    def _last_event(self) -> float:
        """The time of the scheduler's latest event (its own clock), or -inf."""
        events = self.client.get_events("all")
        return events[-1][0] if events else -math.inf

    def _incidents(self, since: float, keys: set) -> dict:
        """Workers removed unexpectedly after ``since`` (the scheduler's "remove-worker" events), and
        which of ``keys`` they were running, held queued or held the results of (run again)."""
        lost, rerun = 0, set()
        for at, event in self.client.get_events("all"):
            if at <= since or not isinstance(event, dict) or event.get("action") != "remove-worker":
                continue
            lost += not event.get("expected", False)
            for name in ("processing-tasks", "lost-computed-tasks"):
                rerun |= keys & set(event.get(name, ()))
        return {"workers_lost": lost, "tasks_rerun": len(rerun)}


def dask_client(scheduler: str | None = None, workers: int | None = None):
    """A Client of a running scheduler (``scheduler`` address) or of a new LocalCluster of
    ``workers`` processes with one thread each (the fused CPU engine then runs one thread per
    worker), whose workers do not hear Ctrl-C (this process stops them). ValueError with the
    install hint when dask.distributed is missing."""
    try:
        import distributed
    except ImportError:
        raise ValueError(f"Dask executors need dask.distributed, which is not installed: {INSTALL_HINT}") from None
    if scheduler is not None:
        return distributed.Client(scheduler)
    cluster = None
    try:
        with _workers_deaf_to_ctrl_c(), _ctrl_c_held():
            # Workers log only CRITICAL: a task's error reaches this process through its future, and the
            # heartbeats that fail while a Ctrl-C closes the cluster are not the user's business.
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.CRITICAL,
            )
        return distributed.Client(cluster)
    except BaseException:  # Ctrl-C or SIGTERM during the start, delivered once the cluster is whole: stop it
        if cluster is not None:
            cluster.close()
        raise


@contextlib.contextmanager
def _ctrl_c_held():
    """SIGINT and SIGTERM blocked in this thread (and the threads it starts) and delivered when the
    block ends: a cluster is not left half started, which Dask cannot close without tracebacks."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _workers_deaf_to_ctrl_c():
    """Worker processes started meanwhile ignore SIGINT, so that Ctrl-C in a terminal (sent to every
    process of the job) reaches only this process, which stops them: no worker prints a traceback.
    They are forked from a fork server started with SIGINT ignored (a disposition that forks inherit,
    unlike a signal mask, which a spawned Python resets); this process ignores it only while it starts
    that server (milliseconds). Workers restarted later, outside this block, are spawned as usual."""
    import multiprocessing
    import multiprocessing.forkserver

    import dask

    if (
        "forkserver" not in multiprocessing.get_all_start_methods()
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        yield
