"""What a big store costs a small file ingest: the dedupe against the items already stored.

File ingest skips an item whose id or content is already stored for its source, so it reads that
source's keys first (``ingeststore.existing_keys``). This measures how much memory and time that adds
as the store grows: ``painpoints ingest`` (the real CLI, a cold process each time, peak RSS from
``benchmarks.common.measured``) of files of ``--rows`` items (default 100,000)

* into an **empty** store — the baseline, measured in the same run;
* into a store of ``--items`` items of the same source (default 10,000,000), a file of **new** items
  (every row stored);
* into that store, a file of items it **already holds** (every row a duplicate; another path each
  time, so the whole-file check does not skip it).

Each case runs ``--repeat`` times (default 3; new files each time) and reports medians and the
ratio to the baseline. The big store is written directly in SQL (ids and hashes computed as ingest
computes them, checked on a sample), ~1 GB on disk for 10M items.

Run: ``python -m benchmarks.ingest_dedupe [--items=10000000] [--rows=100000] [--repeat=3] [--dir=PATH]
[--write]``; ``--write`` saves ``benchmarks/ingest_dedupe.json``. About 10 minutes at 10M items.
"""

from __future__ import annotations

import csv
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import emit, header, measured, options

OUT = Path(__file__).resolve().parent / "ingest_dedupe.json"
SOURCE = "big"
TEXT = "item {i}: the app logs me out whenever i switch to the settings page"  # lower case, single spaces
TEXT_SQL = "'item ' || i || ': the app logs me out whenever i switch to the settings page'"


def build_store(db: Path, items: int) -> float:
    """A store holding ``items`` reviews of ``SOURCE`` (ids ``r1``…), as ingest would have stored them."""
    from painpoints.discovery import store
    from painpoints.discovery.ingest import feedback_id
    from painpoints.discovery.normalize import content_hash

    t0 = time.perf_counter()
    con = store.connect(db)
    try:
        con.execute(
            f"""INSERT INTO feedback (feedback_id, source, kind, external_id, text, content_hash)
            SELECT left(sha1('{SOURCE}' || chr(31) || 'r' || i), 20), '{SOURCE}', 'review', 'r' || i,
                   {TEXT_SQL}, sha1({TEXT_SQL})
            FROM range(1, {items} + 1) t(i)"""
        )
        for i in sorted({1, items} if items else set()):  # the SQL spells the keys as ingest does
            got = con.execute(
                "SELECT feedback_id, content_hash FROM feedback WHERE external_id = ?", [f"r{i}"]
            ).fetchone()
            assert got == (feedback_id(SOURCE, f"r{i}"), content_hash(TEXT.format(i=i))), got
    finally:
        con.close()
    return time.perf_counter() - t0


def write_file(path: Path, first: int, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "text"])
        out.writerows([f"r{i}", TEXT.format(i=i)] for i in range(first, first + rows))
    return path


def ingest(db: Path, path: Path) -> list[str]:
    return [sys.executable, "-m", "painpoints.cli", "ingest", str(path), "--source", SOURCE, "--db", str(db)]


def case(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "seconds_median": round(statistics.median(r["seconds"] for r in runs), 2),
        "peak_rss_mb_median": round(statistics.median(r["peak_rss_mb"] for r in runs)),
        "runs": [{k: round(v, 2) for k, v in r.items()} for r in runs],
    }


def main(argv: list[str]) -> dict[str, Any]:
    opts = options(argv)
    items, rows, repeat = int(opts.get("items", 10_000_000)), int(opts.get("rows", 100_000)), int(opts.get("repeat", 3))
    work = Path(tempfile.mkdtemp(prefix="pp-dedupe-", dir=opts.get("dir")))
    try:
        empty, big = work / "empty.duckdb", work / "big.duckdb"
        build_seconds = build_store(big, items)
        build_store(empty, 0)
        print(f"store of {items:,} items built in {build_seconds:.0f} s", flush=True)
        new = [write_file(work / f"new-{k}.csv", items + 1 + k * rows, rows) for k in range(repeat)]
        old = [shutil.copy(write_file(work / "old.csv", 1, rows), work / f"old-{k}.csv") for k in range(repeat)]
        cases = {
            "empty_store_new_items": case([measured([ingest(empty, f)]) for f in new]),
            "big_store_new_items": case([measured([ingest(big, f)]) for f in new]),
            "big_store_stored_items": case([measured([ingest(big, Path(f))]) for f in old]),
        }
        from painpoints.discovery import store

        con = store.connect(big)
        try:
            stored = con.execute("SELECT count(*) FROM feedback").fetchone()[0]  # type: ignore[index]
        finally:
            con.close()
        assert stored == items + repeat * rows, f"{stored} stored: duplicates slipped through or items were lost"
        base = cases["empty_store_new_items"]
        for name in ("big_store_new_items", "big_store_stored_items"):
            c = cases[name]
            c["seconds_ratio_to_empty"] = round(c["seconds_median"] / base["seconds_median"], 2)
            c["peak_rss_ratio_to_empty"] = round(c["peak_rss_mb_median"] / base["peak_rss_mb_median"], 2)
        report = {
            **header("benchmarks.ingest_dedupe", argv),
            "stored_items": items,
            "file_rows": rows,
            "repeat": repeat,
            "store_build_seconds": round(build_seconds, 1),
            **cases,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
