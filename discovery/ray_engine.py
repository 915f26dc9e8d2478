"""The Ray engine (``engine = "ray"``): the embed step as shards on a Ray cluster, stored exactly once.

Why shards, and why these: the texts the cache lacks, in content-hash order, cut every
``ENCODE_CHUNK`` texts — the very chunks a local run encodes, so a Ray run stores the same vectors
(int8 activations are quantized per batch: other chunks would give slightly different ones). Removing
whole committed shards from that sorted list leaves the others' boundaries where they were, so a rerun
after a crash cuts the missing shards exactly as before.

How faults are absorbed, each by the layer that owns it:

* a worker process killed mid-shard, or a node that leaves: Ray retries the task elsewhere
  (``max_retries``; only system failures — an error in our code fails the run at once);
* the driver (the Prefect task) dies: every finished shard was committed in its own transaction as it
  arrived; the rerun asks the cache what is missing and embeds only those shards;
* two drivers embedding the same texts at once (two runs started together): each inserts a vector
  only where ``(content_hash, model)`` has none, so each text is stored once;
* a task the cluster cannot place (too few CPUs/GPUs on any node, its node gone): the run fails after
  ``STALL_SECONDS`` without a finished shard, with the reason, instead of waiting forever.

The model loads once per worker process (``_worker_embedder``'s cache; Ray reuses the process for
the next shard, GPU workers too: ``max_calls=0``), with forward-pass threads = the CPUs the task was
given, on a GPU when asked. ``ray_workers`` shards are in flight at once, each a few hundred KB of
texts out and vectors back; Prefect sees an ``EmbedReport``, never arrays. ``ray`` is imported here
only: a local run never pays for it (pip extra ``[ray]``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import duckdb
import numpy as np

from painpoints.discovery import segmentstore, store
from painpoints.discovery.embed import ENCODE_CHUNK, Embedder
from painpoints.discovery.records import EmbedReport

log = logging.getLogger(__name__)
RETRIES = 5  # Ray re-runs of a shard whose worker or node died (not of errors in our code)
STALL_SECONDS = 600  # no shard finished for this long: the cluster cannot run them (a shard takes ~20 s/CPU)


class EngineError(RuntimeError):
    """The Ray engine cannot run as configured (ray not installed, GPUs with int8, no cluster)."""


@dataclass(frozen=True)
class RayEngine:
    """Where and how wide the embed step runs on Ray.

    Parameters
    ----------
    address : the cluster (``auto``, ``host:6379``, ``ray://host:10001``); None = Ray's own default
        (``RAY_ADDRESS``, else a Ray instance on this machine).
    workers : shards in flight at once; 0 = as many as the cluster's CPUs (and GPUs) allow.
    worker_cpus : CPUs per shard task, also its forward-pass threads.
    worker_gpus : GPUs per shard task (0 = CPU only; the int8 path is CPU-only, so GPUs need fp32).
    shard_size : texts per shard = per commit (``ENCODE_CHUNK`` keeps vectors equal to a local run's).
    """

    address: str | None = None
    workers: int = 0
    worker_cpus: int = 1
    worker_gpus: float = 0.0
    shard_size: int = ENCODE_CHUNK

    @classmethod
    def from_settings(cls, settings: Any) -> RayEngine:
        return cls(settings.ray_address, settings.ray_workers, settings.ray_worker_cpus, settings.ray_worker_gpus)


@dataclass(frozen=True)
class WorkerModel:
    """What a worker needs to load the run's embedder (small and picklable, sent with every shard)."""

    model: str
    precision: str
    batch_size: int

    @classmethod
    def of(cls, embedder: Embedder) -> WorkerModel:
        return cls(embedder.model, embedder.precision, embedder.batch_size)


def shards(todo: Iterable[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    """``(content hash, text)`` pairs (hash order) cut into consecutive shards of ``size``, as they
    are read: the driver holds only the shards in flight, never every text of a 10M-item backlog."""
    rows = iter(todo)
    while shard := list(islice(rows, size)):
        yield shard


def connect(address: str | None) -> Any:
    """Join the cluster once per process (later calls reuse the connection); returns the ``ray`` module."""
    try:
        import ray
    except ImportError as err:
        raise EngineError("engine = 'ray' needs Ray: pip install 'painpoints[ray]'") from err
    if not ray.is_initialized():
        try:
            ray.init(address=address, namespace="painpoints", log_to_driver=False, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise EngineError(f"cannot join the Ray cluster at {address or 'RAY_ADDRESS/local'}: {err}") from err
    return ray


def embed_missing(
    con: duckdb.DuckDBPyConnection,
    embedder: Embedder,
    engine: RayEngine,
    on_commit: Callable[[int, int], None] | None = None,
) -> EmbedReport:
    """Embed every segment text the cache lacks for ``embedder.key`` on the Ray cluster, committing
    each shard as it returns; ``on_commit(shard, texts)`` is called after each commit (progress,
    tests). Returns how many texts were embedded and by how many workers on how many nodes. Raises
    ``EngineError`` when no shard finishes for ``STALL_SECONDS`` (tasks the cluster cannot place)."""
    if engine.worker_gpus and embedder.precision != "fp32":
        raise EngineError("GPU workers run the fp32 model: set embed_precision = 'fp32' with ray_worker_gpus")
    total, todo = segmentstore.stream_texts_to_embed(con, embedder.key)
    if not total:
        return EmbedReport(0, "ray", 0, 0)
    ray = connect(engine.address)
    width = engine.workers or _capacity(ray.nodes(), engine)
    task = ray.remote(  # max_calls=0: a GPU worker too keeps its process, and so its loaded model
        num_cpus=engine.worker_cpus,
        num_gpus=engine.worker_gpus,
        max_retries=RETRIES,
        retry_exceptions=False,
        max_calls=0,
    )(_embed_shard)
    model = WorkerModel.of(embedder)
    queue = enumerate(shards(todo, engine.shard_size))  # read as shards are sent
    pending: dict[Any, tuple[int, list[str]]] = {}  # Ray ObjectRef → (shard, its content hashes)
    checkpoints = store.Checkpoints(con)
    seen: set[tuple[str, int]] = set()
    log.info("embedding %d texts as %d shards on Ray, %d at a time", total, -(-total // engine.shard_size), width)

    def top_up() -> bool:  # width in flight: ray_workers is a real limit; False once every shard is sent
        while len(pending) < width:
            nxt = next(queue, None)
            if nxt is None:
                return False
            i, shard = nxt
            ref = task.remote(model, [t for _, t in shard], engine.worker_cpus, engine.worker_gpus)
            pending[ref] = (i, [h for h, _ in shard])
        return True

    more = True
    try:
        while more or pending:
            more = top_up() and more
            if not pending:
                break
            top_up()
            done, _ = ray.wait(list(pending), num_returns=1, timeout=STALL_SECONDS)
            if not done:
                raise EngineError(
                    f"no shard finished in {STALL_SECONDS} s on the Ray cluster: it cannot place tasks of "
                    f"{engine.worker_cpus} CPU / {engine.worker_gpus} GPU, or lost the nodes that could"
                )
            for ref in done:
                i, hashes = pending.pop(ref)
                more = more and top_up()  # the freed worker starts its next shard while this one is committed
                node, pid, vectors = ray.get(ref)
                checkpoints.wrote(
                    store.atomic(
                        con, functools.partial(segmentstore.insert_embeddings, con, embedder.key, hashes, vectors)
                    )
                )
                seen.add((node, pid))
                log.info("committed shard %d (%d texts) from %s/%d", i, len(hashes), node[:8], pid)
                if on_commit is not None:
                    on_commit(i, len(hashes))
    finally:
        for ref in pending:  # a failed run leaves no shard running on the cluster
            ray.cancel(ref)
    checkpoints.now()
    return EmbedReport(total, "ray", len(seen), len({n for n, _ in seen}))


def _capacity(nodes: list[dict[str, Any]], engine: RayEngine) -> int:
    """Shard tasks the cluster's live nodes can run at once, each needing ``worker_cpus`` CPUs (and
    ``worker_gpus`` GPUs) on one node. With none, fail now instead of waiting for a node that may
    never come; an autoscaling cluster that starts empty needs ``ray_workers`` set."""
    fit = 0
    for node in nodes:
        if not node.get("Alive"):
            continue
        res = node.get("Resources", {})
        n = int(res.get("CPU", 0) // engine.worker_cpus)
        if engine.worker_gpus:
            n = min(n, int(res.get("GPU", 0) // engine.worker_gpus))
        fit += n
    if fit < 1:
        raise EngineError(
            f"no node of the Ray cluster has room for one embedding task ({engine.worker_cpus} CPU, "
            f"{engine.worker_gpus} GPU); set ray_workers to wait for an autoscaler to add one"
        )
    return fit


@functools.cache
def _worker_embedder(model: WorkerModel, threads: int, device: str) -> Embedder:
    """The worker process's embedder, loaded on its first shard and kept for the next ones."""
    embedder = Embedder(model.model, model.batch_size, False, model.precision, threads=threads, device=device)
    return embedder.fit()


def _embed_shard(model: WorkerModel, texts: list[str], cpus: int, gpus: float) -> tuple[str, int, np.ndarray]:
    """Runs on a Ray worker: one shard's vectors, with the node and process that computed them."""
    import os

    import ray

    embedder = _worker_embedder(model, cpus, "cuda" if gpus else "cpu")
    vectors = np.asarray(embedder.encode(texts), np.float32)
    return ray.get_runtime_context().get_node_id(), os.getpid(), vectors


class RayTextMap:
    """The per-text rules of a run's scoring stages (VADER, the feedback-type cues: pure Python, most of
    a big run's sentiment and typing time) as Ray tasks, one per ``textpool`` chunk of 4,096 texts: a
    ``textpool.Mapper``. The driver sends texts and gets plain tuples or strings back, a block at a time
    (``map_texts`` is called per 65,536-row block), and keeps the vector maths, one matrix product a
    block. Tasks are retried like embedding shards when a worker or node dies; the rules are
    deterministic, so a retried chunk gives the same answer. ``workers_used`` are the (node, pid) pairs
    that ran a chunk, for ``runs.stats``."""

    def __init__(self, engine: RayEngine) -> None:
        self.ray = connect(engine.address)
        self.task = self.ray.remote(num_cpus=engine.worker_cpus, max_retries=RETRIES, retry_exceptions=False)(
            _apply_text_rule
        )
        self.workers_used: set[tuple[str, int]] = set()

    def map(self, fn: Callable[[list[str]], list[Any]], chunks: list[list[str]]) -> Iterator[list[Any]]:
        done = self.ray.get([self.task.remote(fn, chunk) for chunk in chunks])
        self.workers_used.update((node, pid) for node, pid, _ in done)
        return iter([out for _, _, out in done])


def _apply_text_rule(fn: Callable[[list[str]], list[Any]], texts: list[str]) -> tuple[str, int, list[Any]]:
    """Runs on a Ray worker: ``fn`` (a module-level function, pickled by reference) over one chunk."""
    import os

    import ray

    return ray.get_runtime_context().get_node_id(), os.getpid(), fn(texts)
