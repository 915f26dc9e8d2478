"""What every benchmark entry point shares: ``--key=value`` options and the JSON report it prints
and, with ``--write``, saves next to the benchmark."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def options(argv: list[str]) -> dict[str, str]:
    """``--items=20000 --write`` → ``{"items": "20000", "write": "1"}``."""
    return dict(a.lstrip("-").split("=", 1) if "=" in a else (a.lstrip("-"), "1") for a in argv)


def header(module: str, argv: list[str]) -> dict[str, Any]:
    """Date, machine and the exact command, at the top of every report."""
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "command": f"python -m {module} " + " ".join(argv)}


def emit(report: dict[str, Any], out: Path, write: bool) -> dict[str, Any]:
    print(json.dumps(report, indent=1))
    if write:
        out.write_text(json.dumps(report, indent=1) + "\n")
    return report
