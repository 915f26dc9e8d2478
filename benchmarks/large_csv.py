"""Peak memory of ``painpoints ingest`` on a large CSV (default 2 GB): the file must be streamed, not
loaded whole.

Builds the CSV in a temporary directory from the bundled complaint and review texts (rows cycled with
a running id and a varying suffix, so no two rows are duplicates), then runs the real CLI in a child
process and reads the child's peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss``) and wall time. The
file size is chosen with ``--gb`` (default 2); a 0.2 GB run is the same measurement in a minute.

Run: ``python -m benchmarks.large_csv [--gb=2] [--write]``; ``--write`` saves ``benchmarks/large_csv.json``.
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import emit, header, options

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "large_csv.json"


def seed_texts() -> list[str]:
    texts = []
    with (ROOT / "data" / "demo" / "complaints.csv").open(newline="", encoding="utf-8") as fh:
        texts += [r["Consumer complaint narrative"] for r in csv.DictReader(fh)]
    for line in (ROOT / "data" / "demo" / "app_reviews.jsonl").open(encoding="utf-8"):
        texts.append(json.loads(line)["text"])
    return [t for t in texts if t]


def build(path: Path, size: int) -> int:
    texts = seed_texts()
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "created_at", "rating", "review", "app_version"])
        while fh.tell() < size:
            for t in texts:
                rows += 1
                writer.writerow(
                    [
                        f"r{rows}",
                        f"2026-{1 + rows % 12:02d}-{1 + rows % 28:02d}",
                        1 + rows % 5,
                        f"{t} (case {rows})",
                        f"5.{rows % 40}",
                    ]
                )
            fh.flush()
    return rows


def main(argv: list[str]) -> dict:
    opts = options(argv)
    gb = float(opts.get("gb", 2))
    work = Path(tempfile.mkdtemp(prefix="pp-large-", dir=opts.get("dir")))
    try:
        csv_path, db = work / "large.csv", work / "large.duckdb"
        t0 = time.perf_counter()
        rows = build(csv_path, int(gb * 1024**3))
        build_s = time.perf_counter() - t0
        size = csv_path.stat().st_size
        print(f"built {size / 1024**3:.2f} GB, {rows:,} rows in {build_s:.0f} s", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "painpoints.cli",
                "ingest",
                str(csv_path),
                "--source",
                "big",
                "--kind",
                "review",
                "--db",
                str(db),
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-2000:])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        report = {
            **header("benchmarks.large_csv", argv),
            "csv_gb": round(size / 1024**3, 2),
            "rows": rows,
            "ingest_seconds": round(seconds, 1),
            "rows_per_second": round(rows / seconds),
            "peak_rss_mb": round(peak_mb),
            "db_gb": round(db.stat().st_size / 1024**3, 2),
            "cli_output": proc.stdout.strip().splitlines()[:3],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
