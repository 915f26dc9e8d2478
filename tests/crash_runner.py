"""Run the real ``painpoints`` CLI and SIGKILL it at a chosen point (test-only fault injection).

Usage: ``python tests/crash_runner.py POINT painpoints-args...`` with POINT one of
ingest | embed | cluster | write. The process kills itself with SIGKILL — no cleanup, no atexit, the
same as ``kill -9`` or a power cut at that instant.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    from painpoints.discovery import cluster, embed, ingest, ingeststore, runstore, segmentstore

    if point == "ingest":  # mid-ingest: first chunk inserted inside the open transaction
        ingest.CHUNK = 10
        original = ingeststore.insert_feedback

        def insert_then_die(con, rows):
            original(con, rows)
            die()

        ingeststore.insert_feedback = insert_then_die
    elif point == "embed":  # mid-embedding: first chunk of vectors committed, the rest not computed
        embed.ENCODE_CHUNK = 50
        original_e = segmentstore.insert_embeddings
        calls = {"n": 0}

        def insert_then_maybe_die(con, model, hashes, vectors):
            written = original_e(con, model, hashes, vectors)
            calls["n"] += 1
            if calls["n"] == 2:
                die()
            return written

        segmentstore.insert_embeddings = insert_then_maybe_die
    elif point == "cluster":  # mid-clustering: inside HDBSCAN
        cluster.ThemeClusterer._hdbscan = lambda self, Z: die()
    elif point == "write":  # mid-write: snapshots and assignments inserted, COMMIT not reached
        original_tx, original_finish = runstore.transaction, runstore.finish_run
        state = {"finishing": False}

        @contextmanager
        def tx(con):
            with original_tx(con) as c:
                yield c
                if state["finishing"]:
                    die()

        def finish(*args, **kwargs):
            state["finishing"] = True
            return original_finish(*args, **kwargs)

        runstore.transaction, runstore.finish_run = tx, finish  # finish_run's own transaction
    else:
        raise SystemExit(f"unknown crash point {point}")


if __name__ == "__main__":
    arm(sys.argv[1])
    from painpoints.cli import main

    main(sys.argv[2:])
