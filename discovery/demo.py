"""The bundled demo sample: real public feedback (see ``data/demo/SOURCES.md``) loaded into a fresh DB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from painpoints.connectors.base import ColumnMap
from painpoints.discovery.ingest import IngestCounts, ingest_paths
from painpoints.discovery.settings import Settings


def demo_dir() -> Path:
    """``data/demo`` of a source checkout, else the copy packed into the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "data" / "demo", here / "_demo"):
        if (candidate / "manifest.json").is_file():
            return candidate
    raise FileNotFoundError("demo data (data/demo/manifest.json) not found")


def load_demo(settings: Settings) -> Iterator[tuple[str, IngestCounts]]:
    """Recreate ``settings.db`` and ingest every file of the manifest through the same entry as
    ``painpoints ingest``; yields ``(file name, counts)`` per file."""
    db = Path(settings.db)
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    folder = demo_dir()
    for entry in json.loads((folder / "manifest.json").read_text())["files"]:
        yield (
            entry["file"],
            ingest_paths(
                settings,
                [folder / entry["file"]],
                entry["source"],
                entry["kind"],
                ColumnMap(**entry.get("columns", {})),
            ),
        )
