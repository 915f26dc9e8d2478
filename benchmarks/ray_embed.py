"""Embedding throughput on Ray (issue 18): the embed step on a local Ray cluster of two one-CPU worker
nodes with 1 and 2 workers, against the local engine with 1 and 2 threads, in the same run.

Texts: ``--items`` distinct real texts (CLINC150 utterances and clothing reviews, as
``benchmarks.nightly_cost`` builds them), stored as segments of a DuckDB file with no vectors. Each
measurement fills the embedding cache of a fresh copy of that file end to end — the cache lookup,
encoding, and the commit of every chunk (``embed_cache.embed_missing`` locally,
``ray_engine.embed_missing`` on Ray) — after one warm-up round, so model loading (once per process, or
per Ray worker) is not counted. Rounds alternate the four set-ups (``--repeats``); texts/s are medians.

Ratios: Ray 2 workers over Ray 1 worker (target ≥ 1.7) and Ray's overhead at equal cores, 1 − Ray k
workers / local k threads (target ≤ 15%). The head node has no CPUs, so the driver never embeds.

Run: ``python -m benchmarks.ray_embed [--items=8192] [--repeats=3] [--write]`` (~10 min on 2 cores).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import emit, header, options
from benchmarks.nightly_cost import items
from painpoints.connectors.base import FeedbackRecord
from painpoints.discovery import pipeline, ray_engine, segmentstore, store
from painpoints.discovery.embed import Embedder
from painpoints.discovery.embed_cache import embed_missing
from painpoints.discovery.ingest import ingest_items
from painpoints.discovery.settings import load_settings

OUT = Path(__file__).resolve().parent / "ray_embed.json"


def build(path: Path, n: int) -> int:
    """A store with ``n`` items, segmented, no vectors; returns the distinct texts to embed."""
    settings = load_settings(db=path)
    with store.connect(path) as con:
        records = [FeedbackRecord("bench", "review", r["text"], external_id=r["id"]) for r in items(n)]
        ingest_items(con, records, keep_original=False)
        pipeline.prepare_segments(con, settings)
        return len(segmentstore.texts_to_embed(con, Embedder().key))


def timed(base: Path, work: Path, run: Any) -> float:
    shutil.copyfile(base, work)
    with store.connect(work) as con:
        start = time.perf_counter()
        run(con)
        return time.perf_counter() - start


def main(argv: list[str]) -> dict[str, Any]:
    import ray
    from ray.cluster_utils import Cluster

    opts = options(argv)
    n, repeats = int(opts.get("items", 8192)), int(opts.get("repeats", 3))
    report: dict[str, Any] = header("benchmarks.ray_embed", argv)
    tmp = Path(tempfile.mkdtemp(prefix="pp-ray-embed-"))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1, object_store_memory=200 * 1024**2)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, namespace="painpoints", log_to_driver=False)
        base = tmp / "base.duckdb"
        texts = build(base, n)
        local = {k: Embedder(progress=False, threads=k).fit() for k in (1, 2)}
        setups = {
            "local_1_thread": lambda con: embed_missing(con, local[1]),
            "local_2_threads": lambda con: embed_missing(con, local[2]),
            "ray_1_worker": lambda con: ray_engine.embed_missing(con, local[1], ray_engine.RayEngine(workers=1)),
            "ray_2_workers": lambda con: ray_engine.embed_missing(con, local[1], ray_engine.RayEngine(workers=2)),
        }
        seconds: dict[str, list[float]] = {name: [] for name in setups}
        for round_ in range(repeats + 1):  # round 0 warms up: models loaded in this process and the workers
            for name, run in setups.items():
                took = timed(base, tmp / f"{name}.duckdb", run)
                if round_:
                    seconds[name].append(took)
                print(f"round {round_} {name}: {took:.1f} s", file=sys.stderr)
        rate = {name: texts / statistics.median(s) for name, s in seconds.items()}
        report.update(
            texts=texts,
            repeats=repeats,
            seconds=seconds,
            texts_per_second={k: round(v, 1) for k, v in rate.items()},
            ray_2_over_1=round(rate["ray_2_workers"] / rate["ray_1_worker"], 3),
            ray_overhead_1=round(1 - rate["ray_1_worker"] / rate["local_1_thread"], 3),
            ray_overhead_2=round(1 - rate["ray_2_workers"] / rate["local_2_threads"], 3),
            shard_size=ray_engine.ENCODE_CHUNK,
        )
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
