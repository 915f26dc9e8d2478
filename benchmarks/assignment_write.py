"""Peak memory of a run's assignment write (issue 18) at several store sizes: does it grow with the store?

For each size N, a store holding a first run's state of N segments gets a second run's N assignment
rows (1% of the segments gone, 1% new, the rest as before), their segment ids and content hashes in
scratch files as a full run past ``vectors_in_memory`` keeps them. Each way of writing runs in a process
of its own on a copy of the store, RSS sampled every 50 ms, at a connection limit of 1 GB, the write's
transaction (its COMMIT included) under ``runstore.WRITE_MEMORY`` as ``finish_run`` runs it (since 2026-12-05):

- ``one_chunk``: ``runstore.write_assignments`` with ``WRITE_CHUNK`` above N: each statement joins
  every row with the whole state (the write before 2026-12-05, but for its temporary table of the
  changed rows);
- ``chunked``: ``runstore.write_assignments`` as shipped (``WRITE_CHUNK`` rows at a time);
- ``first``: the first run's write of N rows into an empty state, as shipped.

``growth`` is each way's rise over what the process held before it, at the largest size against the
smallest: 1.0 is flat.

Run: ``python -m benchmarks.assignment_write [--rows=1000000,10000000] [--chunk=ROWS] [--write]`` (~15 min).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from benchmarks.common import emit, header, options

OUT = Path(__file__).resolve().parent / "assignment_write.json"
LIMIT = "1GB"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _spilled(n: int, start: int, value) -> object:
    """A column of ``value(i)`` for i in [start, start + n), written to a scratch file block by block."""
    from painpoints.discovery.columns import ArrowColumn
    from painpoints.discovery.scratch import RowFile

    file = RowFile.writer(pa.string())
    for s in range(start, start + n, RowFile.ROWS_PER_BATCH):
        file.append(pa.array([value(i) for i in range(s, min(start + n, s + RowFile.ROWS_PER_BATCH))]))
    file.close()
    return ArrowColumn.of_file(file)


def rows(n: int, start: int):
    """N assignment rows for segments start..start+N: a theme, tone and type each, ids and hashes spilled."""
    from painpoints.discovery.assigned import Assignments
    from painpoints.discovery.columns import as_dictionary

    columns = {
        "segment_id": _spilled(n, start, lambda i: f"item-{i:09d}#{i % 3}"),
        "theme_id": as_dictionary([f"T{(i * 7919) % 160:03d}" for i in range(start, start + n)], n),
        "how": as_dictionary(["assigned"] * n, n),
        "content_hash": _spilled(n, start, lambda i: hashlib.sha256(str(i).encode()).hexdigest()[:44]),
        "sentiment": as_dictionary(["negative"] * n, n),
        "sentiment_score": pa.array(np.full(n, -0.5)),
        "llm_sentiment": as_dictionary(None, n),
        "feedback_type": as_dictionary(["problem"] * n, n),
    }
    return Assignments(pa.schema([(k, v.type) for k, v in columns.items()]), columns)


def child(way: str, db: str, n: int, chunk: int | None = None) -> dict:
    """One write in this process: its time and the peak RSS over what the process held before it."""
    from painpoints.discovery import runstore, store
    from painpoints.discovery.store import transaction

    assigned = rows(n, 0) if way == "first" else rows(n, n // 100)
    if way == "one_chunk":
        runstore.WRITE_CHUNK = n + 1
    elif chunk:
        runstore.WRITE_CHUNK = chunk
    before, peak, done = _rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    t0 = time.perf_counter()
    with store.connect(db, memory_limit=LIMIT) as con:
        with store.memory_at_most(con, runstore.WRITE_MEMORY), transaction(con):  # as finish_run: COMMIT too
            runstore.write_assignments(con, "r1" if way == "first" else "r2", assigned)
        state = con.execute("SELECT count(*) FROM current_assignments").fetchone()[0]
        logged = con.execute("SELECT count(*) FROM assignments WHERE run_id = 'r2'").fetchone()[0]
    seconds = time.perf_counter() - t0
    done.set()
    peak[0] = max(peak[0], _rss_mb())
    return {
        "seconds": round(seconds, 1),
        "held_before_mb": round(before),
        "peak_mb": round(peak[0]),
        "rise_mb": round(peak[0] - before),
        "current_rows": state,
        "logged_rows": logged,
    }


def _run_child(way: str, db: Path, n: int, chunk: int | None) -> dict:
    call = f"child({way!r}, {str(db)!r}, {n}, {chunk})"
    code = f"import json; from benchmarks.assignment_write import child; print(json.dumps({call}))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


WAYS = ("first", "one_chunk", "chunked")


def writes(n: int, chunk: int | None) -> dict:
    """Each way's write at N rows, on copies of one first run's store (``chunk``: ``WRITE_CHUNK``
    but in ``one_chunk``, None as shipped)."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.duckdb"
        out["first"] = _run_child("first", base, n, chunk)
        for way in WAYS[1:]:
            copy = Path(tmp) / f"{way}.duckdb"
            shutil.copy(base, copy)
            if Path(f"{base}.wal").exists():
                shutil.copy(f"{base}.wal", f"{copy}.wal")
            out[way] = _run_child(way, copy, n, chunk)
            copy.unlink()
    return out


def main(argv: list[str]) -> dict:
    opts = options(argv)
    sizes = [int(n) for n in opts.get("rows", "1000000,10000000").split(",")]
    report: dict = {**header("benchmarks.assignment_write", argv), "connection_limit": LIMIT, "sizes": {}}
    for n in sizes:
        report["sizes"][str(n)] = writes(n, int(opts["chunk"]) if "chunk" in opts else None)
    small, large = report["sizes"][str(min(sizes))], report["sizes"][str(max(sizes))]
    report["growth"] = {way: round(large[way]["rise_mb"] / max(small[way]["rise_mb"], 1), 2) for way in WAYS}
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
