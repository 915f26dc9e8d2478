"""The issue's own set-up, literally: a cluster started with ``ray start --head`` (the ``ray`` command,
on 127.0.0.1) and ``PAINPOINTS_ENGINE=ray PAINPOINTS_RAY_ADDRESS=<head> painpoints run`` against it.
Runs after ``test_ray_engine`` (its cluster is gone by then) and stops only the head it started
(``--block`` in its own process group), never other Ray processes on the machine."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from painpoints.discovery import store

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def head():
    """``ray start --head --block`` on 127.0.0.1 with 2 CPUs; yields its address once it answers."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    ray_cli = Path(sys.executable).with_name("ray")
    proc = subprocess.Popen(
        [
            str(ray_cli),
            "start",
            "--head",
            "--block",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError as err:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        f"ray start --head did not come up: {proc.stderr.read() if proc.stderr else ''}"
                    ) from err
                time.sleep(0.5)
        yield address
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # --block: ray start stops the head's processes on SIGTERM
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def test_painpoints_run_against_a_ray_start_head(head: str, golden_db: Path, tmp_path: Path) -> None:
    with store.connect(golden_db) as con:  # the run must embed: drop the segments' vectors
        con.execute("DELETE FROM embeddings WHERE content_hash IN (SELECT content_hash FROM segments)")
    env = {
        **os.environ,
        "PAINPOINTS_ENGINE": "ray",
        "PAINPOINTS_RAY_ADDRESS": head,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "painpoints.cli", "run", "--db", str(golden_db), "--full"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with store.connect(golden_db, read_only=True) as con:
        stats = json.loads(con.execute("SELECT stats FROM latest_run").fetchall()[0][0])
        pains = con.execute("SELECT count(*) FROM pain_points").fetchall()[0][0]
    assert stats["engine"] == "ray" and stats["engine_workers"] >= 1 and stats["new_embeddings"] > 0
    assert pains > 0
