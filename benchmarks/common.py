"""What every benchmark entry point shares: ``--key=value`` options and the JSON report it prints
and, with ``--write``, saves next to the benchmark."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def options(argv: list[str]) -> dict[str, str]:
    """``--items=20000 --write`` → ``{"items": "20000", "write": "1"}``."""
    return dict(a.lstrip("-").split("=", 1) if "=" in a else (a.lstrip("-"), "1") for a in argv)


def header(module: str, argv: list[str]) -> dict[str, Any]:
    """Date, machine and the exact command, at the top of every report."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "command": f"python -m {module} " + " ".join(argv),
    }


def ran(d: dict[str, Any]) -> str:
    """How a saved result was produced, for RESULTS.md: its command and date."""
    return f"`{d['command'].strip()}`, {str(d['date'])[:10]}"


def emit(report: dict[str, Any], out: Path, write: bool) -> dict[str, Any]:
    print(json.dumps(report, indent=1))
    if write:
        out.write_text(json.dumps(report, indent=1) + "\n")
    return report


_WRAPPER = """import json, resource, subprocess, sys, time
t0 = time.perf_counter()
for command in json.loads(sys.argv[1]):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measured(commands: list[list[str]], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``commands`` one after another, each a cold process, inside a wrapper process; return
    their total wall time and the largest peak RSS among them (``RUSAGE_CHILDREN`` of the wrapper,
    so earlier measurements in this process do not leak in)."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, json.dumps(commands)], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{commands} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def per_class(truth: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of each of ``labels`` (a label never predicted scores 0)."""
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, n = precision_recall_fscore_support(truth, pred, labels=list(labels), zero_division=0)
    return {
        c: {
            "precision": round(float(p[i]), 3),
            "recall": round(float(r[i]), 3),
            "f1": round(float(f[i]), 3),
            "n": int(n[i]),
        }
        for i, c in enumerate(labels)
    }
