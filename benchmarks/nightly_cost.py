"""Nightly cost (issue 22): a full run vs a +1% rerun vs a no-change rerun, as cron runs them.

Data: ~40k real items from public sets in ``../shared/data`` (CLINC150 utterances, all splits, and
women's clothing reviews), 99% ingested first, 1% added for the rerun. Every run is a cold
``painpoints run`` process with no ``PREFECT_API_URL`` (so it starts Prefect's temporary API itself),
timed end to end. Per step: seconds, peak resident memory of the run's process, how many vectors it read,
bytes the database grew by (after a checkpoint), log rows the run
wrote to ``assignments``. The +1% and no-change reruns are repeated on fresh copies of the database
after the full run (``--repeats``, medians). Write time: ``runstore.finish_run`` of a +1% run, timed
in this process on a copy (the part of a run that grew with the whole history before delta writes).

The reruns are then repeated once more with a Prefect API already running (``PREFECT_API_URL`` set, as
under ``painpoints serve`` or a Prefect server/Cloud work pool): what a scheduled nightly run costs
when it does not start a temporary API of its own.

Past its own ~45k texts (``--items=1000000``), the items are built as ``benchmarks.scale`` builds them
(every distinct text of seven sets, then joined pairs) and shuffled, so the 1% added is a sample like
the rest; the report goes to ``nightly_cost_1m.json`` (``nightly_cost_<size>.json``), not over the 40k
one. Every step records the 1-minute load average at its start and end and the largest seen while it
ran (sampled every 15 s), and the run's own account from ``runs`` (mode, time inside the flow, discover
stages). ``--api=0`` skips the reruns with a running API; ``--logs=DIR`` keeps each command's output;
``--dir=DIR`` puts the working files (databases, CSVs) there instead of the system temporary folder.

Run: ``python -m benchmarks.nightly_cost [--items=40000] [--repeats=3] [--api=0] [--logs=DIR] [--dir=DIR] [--write]``
(~10 min on 2 cores at 40k; at 1M the full run alone is ~60 min, as in ``benchmarks.scale``).
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import emit, header, options
from benchmarks.datasets import DATA

OUT = Path(__file__).resolve().parent / "nightly_cost.json"


def items(n: int, seed: int = 0) -> list[dict[str, str]]:
    """``n`` real texts: CLINC150 utterances (in scope) and clothing reviews, shuffled."""
    clinc = json.loads((DATA / "clinc150" / "data_full.json").read_text())
    rows = [t for split in ("train", "val", "test") for t, y in clinc[split]]
    with (DATA / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv").open(newline="") as fh:
        rows += [r["Review Text"].strip() for r in csv.DictReader(fh) if (r.get("Review Text") or "").strip()]
    rng = random.Random(seed)
    rng.shuffle(rows)
    if len(rows) < n:
        return _built(n, seed)
    return [{"id": f"i{i}", "text": t} for i, t in enumerate(rows[:n])]


def _built(n: int, seed: int) -> list[dict[str, str]]:
    """``n`` distinct items as ``benchmarks.scale.build`` writes them, shuffled (its real texts come first)."""
    from benchmarks.scale import build

    with tempfile.TemporaryDirectory(prefix="pp-nightly-items-") as tmp:
        path = Path(tmp) / "items.jsonl"
        build(n, path)
        with path.open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
    random.Random(seed).shuffle(rows)
    return rows


def out_path(n: int) -> Path:
    """``nightly_cost.json`` for the default 40k; other sizes beside it (``nightly_cost_1m.json``)."""
    if n == 40_000:
        return OUT
    label = f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)
    return OUT.with_name(f"nightly_cost_{label}.json")


class Load:
    """The 1-minute load average at the start and end of a step, and the largest sampled while it ran."""

    def __init__(self) -> None:
        self.start = self.peak = os.getloadavg()[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(15):
            self.peak = max(self.peak, os.getloadavg()[0])

    def done(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        end = os.getloadavg()[0]
        return {"start": round(self.start, 2), "end": round(end, 2), "peak": round(max(self.peak, end), 2)}


def _csv(rows: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "text"])
        w.writeheader()
        w.writerows(rows)
    return path


API_URL: str | None = None  # set: the runs use this running Prefect API (as under `painpoints serve`)
LOGS: Path | None = None  # set: each command's stdout and stderr are kept there


def cli(*args: str) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if API_URL is not None:
        env["PREFECT_API_URL"] = API_URL
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "painpoints.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = PeakRSS(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    LAST_PEAK_RSS_MB[0] = peak.done()
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if LOGS is not None:
        log = LOGS / f"{len(list(LOGS.glob('*.log'))):02d}-{args[0]}.log"
        log.write_text(f"$ painpoints {' '.join(args)}\n{seconds:.1f} s\n{done.stdout}\n{done.stderr}")
    if done.returncode != 0:
        raise SystemExit(f"painpoints {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds


LAST_PEAK_RSS_MB = [0.0]  # the last command's peak resident memory (its process, not its children)


class PeakRSS:
    """The largest resident set size of one process, sampled every 0.2 s until ``done()``. The run's
    own process only: Prefect's temporary API server is a child that any run starts alike."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc, self.peak, self.stop = psutil.Process(pid), 0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except Exception:  # noqa: BLE001  (the process ended)
                return
            self.stop.wait(0.2)

    def done(self) -> float:
        self.stop.set()
        self.thread.join()
        return round(self.peak / 2**20, 1)


def ingest(path: Path, db: Path) -> float:
    return cli(
        "ingest", str(path), "--source", "mixed", "--kind", "review", "--text", "text", "--id", "id", "--db", str(db)
    )


def size(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("CHECKPOINT")
    con.close()
    return db.stat().st_size


def log_rows(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM assignments").fetchall()[0][0]
    finally:
        con.close()


def last_run(db: Path) -> dict[str, Any]:
    """The newest row of ``runs``: status, mode, seconds inside the flow (start to finish), discover stages,
    and the Prefect flow run (whose task runs time prepare, embed, discover and write)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        status, flow, stats, flow_run = con.execute(
            "SELECT status, epoch(finished_at - started_at), stats, flow_run_id FROM runs"
            " ORDER BY started_at DESC LIMIT 1"
        ).fetchall()[0]
    finally:
        con.close()
    stats = json.loads(stats or "{}")
    return {
        "status": status,
        "mode": stats.get("mode"),
        "flow_seconds": None if flow is None else round(flow, 1),
        "new_embeddings": stats.get("new_embeddings"),
        "discover_stage_seconds": stats.get("seconds"),
        "vectors_read": stats.get("vectors_read"),
        "segments": stats.get("segments"),
        "flow_run_id": flow_run,
    }


def step(db: Path, *args: str) -> dict[str, Any]:
    before, rows = size(db), log_rows(db)
    load = Load()
    seconds = cli("run", "--db", str(db), *args)
    return {
        "seconds": round(seconds, 1),
        "bytes_added": size(db) - before,
        "log_rows": log_rows(db) - rows,
        "load_1min": load.done(),
        "peak_rss_mb": LAST_PEAK_RSS_MB[0],
        "run": last_run(db),
    }


def write_seconds(db: Path) -> float:
    """finish_run of a +1% run, in this process, on ``db`` (which already holds the +1% items)."""
    from painpoints.discovery import runstore, store
    from painpoints.discovery.embed import Embedder
    from painpoints.discovery.embed_cache import embed_missing
    from painpoints.discovery.pipeline import discover, prepare_segments
    from painpoints.discovery.sentiment import SentimentModel
    from painpoints.discovery.settings import load_settings

    settings = load_settings(db=db)
    embedder = Embedder(progress=False).fit()
    with store.connect(db, memory_limit=settings.db_memory_limit) as con:  # as the flow's connections
        prepare_segments(con, settings)
        embed_missing(con, embedder)
        run_id = runstore.start_run(con, {})
        result = discover(con, settings, embedder, SentimentModel(), run_id=run_id)
        t0 = time.perf_counter()
        runstore.finish_run(con, run_id, result)
        return time.perf_counter() - t0


def reruns(db0: Path, extra: Path, repeats: int, label: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``repeats`` times on a fresh copy of ``db0``: add ``extra``, run (+1%), run again (no change)."""
    inc, noop = [], []
    for r in range(repeats):
        db = db0.with_name(f"copy{r}.duckdb")
        shutil.copy(db0, db)
        ingest(extra, db)
        inc.append(step(db))
        noop.append(step(db))
        print(f"{label} {r}: +1% {inc[-1]}, no change {noop[-1]}", file=sys.stderr, flush=True)
        db.unlink()
    return inc, noop


def main(argv: list[str]) -> dict[str, Any]:
    global API_URL, LOGS
    opts = options(argv)
    n, repeats = int(opts.get("items", 40_000)), int(opts.get("repeats", 3))
    api = opts.get("api", "1") != "0"
    if "logs" in opts:
        LOGS = Path(opts["logs"])
        LOGS.mkdir(parents=True, exist_ok=True)
    rows = items(n)
    cut = n - n // 100
    with tempfile.TemporaryDirectory(prefix="pp-nightly-", dir=opts.get("dir")) as tmp:
        work = Path(tmp)
        base, extra = _csv(rows[:cut], work / "base.csv"), _csv(rows[cut:], work / "extra.csv")
        del rows
        db0 = work / "base.duckdb"
        load = Load()
        ingest_seconds = round(ingest(base, db0), 1)
        ingest_load = load.done()
        print(f"ingest: {ingest_seconds} s, load {ingest_load}", file=sys.stderr, flush=True)
        full = step(db0)
        print(f"full: {full}", file=sys.stderr, flush=True)
        inc, noop = reruns(db0, extra, repeats, "cold")
        if api:
            from prefect.server.api.server import SubprocessASGIServer

            server = SubprocessASGIServer()
            server.start()
            API_URL = server.api_url
            try:
                api_inc, api_noop = reruns(db0, extra, repeats, "with a running API")
            finally:
                server.stop()
                API_URL = None
        writes = []
        db = work / "write.duckdb"
        shutil.copy(db0, db)
        ingest(extra, db)
        load = Load()
        writes.append(write_seconds(db))
        write_load = load.done()
        print(f"write: {writes[0]:.2f} s, load {write_load}", file=sys.stderr, flush=True)

    def med(xs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(x[key] for x in xs)

    report = {
        **header("benchmarks.nightly_cost", argv),
        "items": n,
        "new_items": n - cut,
        "method": "cold `painpoints run` processes, no PREFECT_API_URL; +1% and no-change medians over repeats",
        "nice": os.nice(0),
        "ingest_base": {"seconds": ingest_seconds, "load_1min": ingest_load},
        "full": full,
        "plus_1pct": {
            "median_seconds": med(inc, "seconds"),
            "median_bytes_added": med(inc, "bytes_added"),
            "median_log_rows": med(inc, "log_rows"),
            "runs": inc,
        },
        "no_change": {
            "median_seconds": med(noop, "seconds"),
            "median_bytes_added": med(noop, "bytes_added"),
            "runs": noop,
        },
        "ratio_plus_1pct_to_full": round(med(inc, "seconds") / full["seconds"], 3),
        "ratio_no_change_to_full": round(med(noop, "seconds") / full["seconds"], 3),
        "write_seconds_plus_1pct": round(writes[0], 2),
        "write_load_1min": write_load,
        "with_running_api": {
            "plus_1pct": {"median_seconds": med(api_inc, "seconds"), "runs": api_inc},
            "no_change": {"median_seconds": med(api_noop, "seconds"), "runs": api_noop},
            "ratio_plus_1pct_to_full": round(med(api_inc, "seconds") / full["seconds"], 3),
        }
        if api
        else "skipped (--api=0)",
        "peak_load_1min": max(
            [ingest_load["peak"], write_load["peak"]]
            + [s["load_1min"]["peak"] for s in [full, *inc, *noop, *((*api_inc, *api_noop) if api else ())]]
        ),
        "targets": {"ratio_plus_1pct": 0.10, "ratio_no_change": 0.10, "no_change_bytes": 500_000},
    }
    return emit(report, out_path(n), "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
