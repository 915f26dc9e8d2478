"""The bundled demo sample: real public feedback (see ``data/demo/SOURCES.md``) loaded into a fresh DB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from connectors.files import ColumnMap
from discovery.ingest import ingest_paths


def demo_dir() -> Path:
    """``data/demo`` of a source checkout, else the copy packed into the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "data" / "demo", here / "_demo"):
        if (candidate / "manifest.json").is_file():
            return candidate
    raise FileNotFoundError("demo data (data/demo/manifest.json) not found")


def load_demo(db: Path) -> Iterator[str]:
    """Recreate ``db`` and ingest every file of the manifest; yields one summary line per file."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    folder = demo_dir()
    for entry in json.loads((folder / "manifest.json").read_text())["files"]:
        counts = ingest_paths(db, [folder / entry["file"]], entry["source"], entry["kind"],
                              ColumnMap(**entry.get("columns", {})))
        yield (f"{entry['file']}: read {counts.read}, stored {counts.stored}, "
               f"duplicates {counts.duplicates}, rejected {counts.rejected}")
