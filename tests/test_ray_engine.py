"""The Ray engine on a real local Ray cluster (a head with no CPUs, so the driver does no embedding,
and two worker nodes of one CPU each, all on 127.0.0.1): the CLI run on Ray stores the vectors and
themes of the local run; a worker SIGKILLed mid-shard, a node removed mid-run and a driver killed after
some commits all end with every vector stored exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import ray
from ray.cluster_utils import Cluster

from painpoints.discovery import segmentstore, store
from painpoints.discovery.embed import Embedder
from painpoints.discovery.ray_engine import EngineError, RayEngine, embed_missing, shards
from painpoints.discovery.settings import embedding_key

pytestmark = pytest.mark.slow
KEY = embedding_key("all-MiniLM-L6-v2", "int8")
NODE = {"num_cpus": 1, "object_store_memory": 100 * 1024**2}
SHARD = 96  # small shards: several per node, so faults land mid-run


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "object_store_memory": 100 * 1024**2, "include_dashboard": False},
    )
    nodes = [c.add_node(**NODE) for _ in range(2)]
    c.wait_for_nodes()
    ray.init(address=c.address, namespace="painpoints", log_to_driver=False)
    yield c, nodes
    ray.shutdown()
    c.shutdown()


SEGMENT_VECTORS = "FROM embeddings WHERE model = ? AND content_hash IN (SELECT content_hash FROM segments)"


def golden_vectors(db: Path) -> dict[str, np.ndarray]:
    """The local run's segment vectors, then removed from the cache so the next run must embed them."""
    local = stored(db)
    with store.connect(db) as con:
        con.execute(f"DELETE {SEGMENT_VECTORS}", [KEY])
    return local


def stored(db: Path) -> dict[str, np.ndarray]:
    """The segment vectors in the cache."""
    with store.connect(db, read_only=True) as con:
        rows = con.execute(f"SELECT content_hash, vector {SEGMENT_VECTORS}", [KEY]).fetchall()
    return {h: np.asarray(v, np.float32) for h, v in rows}


def assert_each_once(db: Path, expected: dict[str, np.ndarray]) -> None:
    """Every segment text has one vector, the one a local encoder gives with the same shards."""
    with store.connect(db, read_only=True) as con:
        dupes = con.execute("SELECT count(*) - count(DISTINCT content_hash) FROM embeddings WHERE model = ?", [KEY])
        assert dupes.fetchone()[0] == 0
    got = stored(db)
    assert set(got) == set(expected)
    assert max(float(np.abs(got[h] - v).max()) for h, v in expected.items()) < 1e-4


@pytest.fixture(scope="module")
def sharded(golden, embedder, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """The golden segments' vectors as a local encoder computes them in SHARD-sized chunks (int8
    quantizes per batch, so these, not the run's 2,048-text chunks, are what the fault tests store)."""
    db = golden.copy_to(tmp_path_factory.mktemp("sharded"))
    golden_vectors(db)
    with store.connect(db, read_only=True) as con:
        todo = segmentstore.texts_to_embed(con, KEY)
    out: dict[str, np.ndarray] = {}
    for part in shards(todo, SHARD):
        out.update(zip([h for h, _ in part], embedder.encode([t for _, t in part]), strict=True))
    return out


def feedback_themes(db: Path) -> list[tuple]:
    with store.connect(db, read_only=True) as con:
        return con.execute("SELECT feedback_id, theme_id, theme_label FROM feedback_themes ORDER BY ALL").fetchall()


def test_cli_run_on_ray_stores_the_local_vectors_and_themes(cluster, golden_db: Path, tmp_path: Path) -> None:
    c, _ = cluster
    local_themes = feedback_themes(golden_db)
    local = golden_vectors(golden_db)
    env = {
        **os.environ,
        "PAINPOINTS_ENGINE": "ray",
        "PAINPOINTS_RAY_ADDRESS": c.address,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "painpoints.cli", "run", "--full", "--db", str(golden_db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_each_once(golden_db, local)
    assert feedback_themes(golden_db) == local_themes
    with store.connect(golden_db, read_only=True) as con:
        stats = con.execute(
            "SELECT stats->>'engine', (stats->>'engine_workers')::INT, (stats->>'new_embeddings')::INT "
            "FROM runs WHERE status = 'success' ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert stats == ("ray", stats[1], len(local)) and stats[1] >= 1


def raylet_pid(node) -> int:
    return node.all_processes["raylet"][0].process.pid


def busy_workers(raylets: list[int]) -> list[psutil.Process]:
    """Worker processes under these raylets busy with a shard: Ray titles a worker ``ray::_embed_shard``
    while it runs one, and its parent is the node's raylet (so no other Ray on this host is touched)."""
    return [
        p
        for p in psutil.process_iter(["cmdline", "ppid"])
        if p.info["ppid"] in raylets and any("ray::_embed_shard" in a for a in p.info["cmdline"] or [])
    ]


def running_shard(nodes: list, timeout: float = 20) -> psutil.Process:
    """A worker process of one of ``nodes`` busy with a shard."""
    raylets = [raylet_pid(n) for n in nodes]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if busy := busy_workers(raylets):
            return busy[0]
        time.sleep(0.01)
    raise AssertionError("no worker was running a shard")


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_worker_killed_mid_shard_is_retried_and_counted_once(cluster, golden_db: Path, sharded) -> None:
    _, nodes = cluster
    local = golden_vectors(golden_db)
    killed: list[int] = []

    def kill_one(shard: int, texts: int) -> None:
        if not killed:
            victim = running_shard(nodes)
            killed.append(victim.pid)
            victim.send_signal(signal.SIGKILL)

    with store.connect(golden_db) as con:
        report = embed_missing(con, Embedder(progress=False), RayEngine(shard_size=SHARD), on_commit=kill_one)
    assert killed and report.embedded == len(local) and report.engine == "ray"
    assert gone(killed[0])  # the shard it ran was done again by another process
    assert_each_once(golden_db, sharded)


def test_driver_killed_after_some_commits_rerun_embeds_only_missing_shards(cluster, golden_db: Path, sharded) -> None:
    c, _ = cluster
    local = golden_vectors(golden_db)
    driver = textwrap.dedent(f"""
        import ray
        from painpoints.discovery import store
        from painpoints.discovery.embed import Embedder
        from painpoints.discovery.ray_engine import RayEngine, embed_missing
        con = store.connect({str(golden_db)!r})
        embed_missing(con, Embedder(progress=False), RayEngine({c.address!r}, shard_size={SHARD}),
                      on_commit=lambda shard, texts: print("committed", shard, texts, flush=True))
        print("finished", flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", driver], stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    for _ in range(2):
        line = proc.stdout.readline()
        assert line.startswith("committed"), line
    os.killpg(proc.pid, signal.SIGKILL)  # the driver dies between shards (or in the middle of one)
    proc.wait()
    before = stored(golden_db)
    assert 2 * SHARD <= len(before) < len(local)
    # the first run's shards were committed whole or not at all, so the rerun cuts the rest alike
    cut = shards(sorted(local), SHARD)
    assert all(set(s) <= set(before) or not set(s) & set(before) for s in cut)
    sizes: list[int] = []
    with store.connect(golden_db) as con:
        report = embed_missing(
            con, Embedder(progress=False), RayEngine(shard_size=SHARD), on_commit=lambda s, n: sizes.append(n)
        )
    assert report.embedded == sum(sizes) == len(local) - len(before)  # only the missing shards
    assert all(np.array_equal(stored(golden_db)[h], v) for h, v in before.items())  # committed ones kept
    assert_each_once(golden_db, sharded)


def test_node_removed_mid_run_its_shards_rerun_on_the_other(cluster, golden_db: Path, sharded) -> None:
    c, nodes = cluster
    local = golden_vectors(golden_db)
    committed, finished = threading.Event(), threading.Event()
    removed: list[int] = []

    def remove_busy_node() -> None:
        """After the first commit, the first node seen running a shard goes, without notice. It runs
        beside the driver: waiting inside on_commit would hold back the shard that node needs."""
        committed.wait()
        by_raylet = {raylet_pid(n): k for k, n in enumerate(nodes)}
        while not finished.is_set():
            busy = busy_workers(list(by_raylet))
            if busy:
                removed.append(by_raylet[busy[0].info["ppid"]])
                c.remove_node(nodes[removed[0]], allow_graceful=False)
                return
            time.sleep(0.005)

    watcher = threading.Thread(target=remove_busy_node, daemon=True)
    watcher.start()
    try:
        with store.connect(golden_db) as con:
            report = embed_missing(
                con, Embedder(progress=False), RayEngine(shard_size=SHARD), on_commit=lambda s, n: committed.set()
            )
    finally:
        finished.set()
        committed.set()
        watcher.join()
        if removed:
            nodes[removed[0]] = c.add_node(**NODE)
            c.wait_for_nodes()
    assert removed, "no node was seen running a shard after the first commit"
    assert report.embedded == len(local)
    assert_each_once(golden_db, sharded)


def test_gpu_workers_need_the_fp32_model(golden_db: Path) -> None:
    with store.connect(golden_db) as con, pytest.raises(EngineError, match="fp32"):
        embed_missing(con, Embedder(progress=False), RayEngine(worker_gpus=1))


def test_scoring_rules_run_as_ray_tasks_with_the_local_results(cluster, golden_db: Path, embedder, monkeypatch) -> None:
    """With engine = "ray" the per-text rules of sentiment and typing (VADER, the cue regexes) run as
    Ray tasks on the worker nodes: same assignments, sentiment and types as the local run, and
    runs.stats says where they ran. (A run maps them only past textpool.MIN_ROWS texts: lowered here.)"""
    from painpoints.discovery import textpool
    from painpoints.discovery.pipeline import discover
    from painpoints.discovery.records import assignment_rows
    from painpoints.discovery.sentiment import SentimentModel
    from painpoints.discovery.settings import load_settings

    c, _ = cluster
    monkeypatch.setattr(textpool, "MIN_ROWS", 1)
    monkeypatch.setattr(textpool, "CHUNK_ROWS", 64)

    def run(**engine: str):
        settings = load_settings(db=golden_db, text_workers=1, **engine)
        with store.connect(golden_db, read_only=True) as con:
            return discover(con, settings, embedder, SentimentModel(), run_id="r", full=True)

    local, on_ray = run(), run(engine="ray", ray_address=c.address)
    same = ("segment_id", "theme_id", "sentiment", "sentiment_score", "feedback_type")
    assert [tuple(getattr(a, f) for f in same) for a in assignment_rows(on_ray.assignments)] == [
        tuple(getattr(a, f) for f in same) for a in assignment_rows(local.assignments)
    ]
    assert local.stats.scoring_engine == "local" and local.stats.scoring_workers is None
    assert on_ray.stats.scoring_engine == "ray" and on_ray.stats.scoring_workers >= 1
