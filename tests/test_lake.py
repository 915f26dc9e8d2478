"""A DuckLake store with the real extensions (installed from their PyPI wheels) and, for ``s3://`` data,
moto's S3 server on 127.0.0.1: ingest, run and query through the same CLI and views as a DuckDB file;
reruns are idempotent without primary keys; two writer processes and a reader share a SQLite catalog."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from painpoints.cli import main
from painpoints.discovery import lake, store

DATA = Path(__file__).resolve().parent / "data"
FILES = [("complaints.csv", "cfpb", "ticket"), ("reviews.jsonl", "play", "review")]


def q(db: str, sql: str) -> list[tuple]:
    with store.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def ingest(db: str, name: str, source: str, kind: str) -> str:
    result = CliRunner().invoke(main, ["ingest", str(DATA / name), "--source", source, "--kind", kind, "--db", db])
    assert result.exit_code == 0, result.output
    return result.output


def test_schema_files_lose_only_their_keys_on_a_lake() -> None:
    ddl = "CREATE TABLE t (a VARCHAR PRIMARY KEY, b INT NOT NULL, c INT UNIQUE, PRIMARY KEY (a, b));"
    assert lake.lake_ddl(ddl) == "CREATE TABLE t (a VARCHAR NOT NULL, b INT NOT NULL, c INT);"
    assert lake.is_lake("ducklake:sqlite:/x/meta.sqlite") and not lake.is_lake("/x/painpoints.duckdb")
    assert lake.catalog_file("ducklake:sqlite:/x/meta.sqlite") == Path("/x/meta.sqlite")
    assert lake.catalog_file("ducklake:postgres:dbname=pp host=db") is None


def test_every_migration_keeps_its_columns_and_loses_only_its_keys_on_a_lake() -> None:
    plain, lakeish = duckdb.connect(), duckdb.connect()
    for _, _, ddl in store.migrations():
        plain.execute(ddl)
        lakeish.execute(lake.lake_ddl(ddl))
    columns = "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns ORDER BY ALL"
    assert lakeish.execute(columns).fetchall() == plain.execute(columns).fetchall()
    kinds = "SELECT DISTINCT constraint_type FROM duckdb_constraints() ORDER BY 1"
    assert "PRIMARY KEY" in {k for (k,) in plain.execute(kinds).fetchall()}
    assert {k for (k,) in lakeish.execute(kinds).fetchall()} == {"NOT NULL"}


def test_each_lake_connection_is_its_own_instance_and_its_cursors_see_the_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reopening a path DuckDB caches per process can spin forever while an old instance lingers
    (seen in the two-writers test); a lake connection is an uncached in-memory instance with the lake
    attached, so a second one opens beside the first, even with another memory limit (which a cached
    instance refuses), and a cursor of it resolves the lake's tables."""
    monkeypatch.setenv("PAINPOINTS_LAKE_DATA_PATH", str(tmp_path / "files") + "/")
    db = f"ducklake:sqlite:{tmp_path / 'meta.sqlite'}"
    with store.connect(db) as first, store.connect(db, memory_limit="512MB") as second:
        assert store.scalar(first, "SELECT current_database()") == lake.ALIAS
        second.execute("CREATE TABLE probe AS SELECT 1 AS x")
        with lake.cursor(first) as cur:
            assert cur.execute("SELECT count(*) FROM probe").fetchall() == [(1,)]
    with store.connect(db, read_only=True) as reader:
        assert store.scalar(reader, "SELECT x FROM probe") == 1


def test_a_lake_connection_spills_under_tmpdir_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-memory DuckDB spills to ``.tmp`` in the working directory unless told otherwise; the lake's
    spills go to a directory of their own under TMPDIR, which is gone once the connection closes."""
    scratch, work = tmp_path / "scratch", tmp_path / "work"
    scratch.mkdir(), work.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    monkeypatch.chdir(work)
    monkeypatch.setenv("PAINPOINTS_LAKE_DATA_PATH", str(tmp_path / "files") + "/")
    with store.connect(f"ducklake:sqlite:{tmp_path / 'meta.sqlite'}", memory_limit="32MB") as con:
        spill = Path(store.scalar(con, "SELECT current_setting('temp_directory')"))
        assert spill.parent == scratch
        con.execute("CREATE TEMP TABLE big AS SELECT i, md5(i::VARCHAR) AS h FROM range(3000000) r(i)")
        assert any(spill.iterdir()), "~150 MB held under a 32 MB limit should have spilled"
    assert not spill.exists()
    assert list(work.iterdir()) == []


@pytest.mark.slow
def test_ingest_run_and_query_a_local_lake(prefect_harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAINPOINTS_LAKE_DATA_PATH", str(tmp_path / "files") + "/")
    db = f"ducklake:{tmp_path / 'meta.ducklake'}"
    for name, source, kind in FILES:
        ingest(db, name, source, kind)
    stored = q(db, "SELECT count(*) FROM feedback")[0][0]
    assert stored >= 150
    ingest(db, *FILES[0])  # the same file again: nothing new, nothing doubled
    assert q(db, "SELECT count(*) FROM feedback")[0][0] == stored
    result = CliRunner().invoke(main, ["run", "--db", db])
    assert result.exit_code == 0, result.output
    rows = q(db, "SELECT rank, label, items FROM pain_points ORDER BY rank")
    assert rows and rows[0][0] == 1
    segmented = q(db, "SELECT count(DISTINCT feedback_id) FROM segments")[0][0]
    assert q(db, "SELECT count(DISTINCT feedback_id) FROM feedback_themes")[0][0] == segmented > 150
    dupes = "SELECT count(*) - count(DISTINCT (content_hash, model)) FROM embeddings"
    assert q(db, dupes)[0][0] == 0
    rerun = CliRunner().invoke(main, ["run", "--db", db, "--full"])  # a second run: every table keyed as before
    assert rerun.exit_code == 0, rerun.output
    assert q(db, dupes)[0][0] == 0
    assert q(db, "SELECT count(*) - count(DISTINCT segment_id) FROM current_assignments")[0][0] == 0
    assert list((tmp_path / "files").rglob("*.parquet"))  # the data is Parquet in the data path
    query = CliRunner().invoke(main, ["query", "SELECT count(*) AS n FROM praise", "--db", db])
    assert query.exit_code == 0, query.output
    report = CliRunner().invoke(main, ["report", "--db", db, "--out", str(tmp_path / "report.html")])
    assert report.exit_code == 0, report.output
    assert rows[0][1].split()[0] in (tmp_path / "report.html").read_text()  # the top pain point is in it
    with store.connect(db, read_only=True) as con, pytest.raises(duckdb.Error):
        con.execute("COPY (SELECT 1) TO '/tmp/painpoints-reader-escape.csv'")  # readers stay shut in


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    """moto's S3 on 127.0.0.1 with a bucket; the standard AWS variables point at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="lake")
    yield client
    server.stop()


@pytest.mark.slow
def test_a_lake_on_s3_with_a_sqlite_catalog(
    prefect_harness, s3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINPOINTS_LAKE_DATA_PATH", "s3://lake/painpoints/")
    db = f"ducklake:sqlite:{tmp_path / 'meta.sqlite'}"
    ingest(db, *FILES[0])
    result = CliRunner().invoke(main, ["run", "--db", db])
    assert result.exit_code == 0, result.output
    assert q(db, "SELECT count(*) FROM pain_points")[0][0] > 0
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake").get("Contents", [])]
    assert any(k.startswith("painpoints/") and k.endswith(".parquet") for k in keys)
    assert "testing" not in (tmp_path / "meta.sqlite").read_bytes().decode("latin-1")  # no secret in the catalog


@pytest.mark.slow
def test_two_writers_and_a_reader_share_a_sqlite_catalog(tmp_path: Path) -> None:
    """A run and an ingest commit in two processes while this one reads ``pain_points`` in a loop:
    no reader error, and every item of both files is stored once."""
    db = f"ducklake:sqlite:{tmp_path / 'meta.sqlite'}"
    env = {
        **os.environ,
        "PAINPOINTS_LAKE_DATA_PATH": str(tmp_path / "files") + "/",
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": "",
    }
    cli = [sys.executable, "-m", "painpoints.cli"]
    first = subprocess.run(
        [*cli, "ingest", str(DATA / "complaints.csv"), "--source", "cfpb", "--kind", "ticket", "--db", db],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    subprocess.run([*cli, "run", "--db", db], env=env, capture_output=True, text=True, timeout=600, check=True)
    base = q(db, "SELECT count(*) FROM feedback")[0][0]
    writers = [
        subprocess.Popen(
            [*cli, "run", "--full", "--db", db], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ),
        subprocess.Popen(
            [*cli, "ingest", str(DATA / "reviews.jsonl"), "--source", "play", "--kind", "review", "--db", db],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    ]
    reads = 0
    while any(w.poll() is None for w in writers):
        assert q(db, "SELECT count(*) FROM pain_points")[0][0] > 0  # a committed snapshot, never an error
        reads += 1
        time.sleep(0.2)
    outs = [w.communicate() for w in writers]
    assert [w.returncode for w in writers] == [0, 0], outs
    assert reads > 3
    alone = tmp_path / "alone.duckdb"  # what the reviews file stores into an empty DuckDB file
    ingest(str(alone), "reviews.jsonl", "play", "review")
    assert q(db, "SELECT count(*) FROM feedback")[0][0] == base + q(str(alone), "SELECT count(*) FROM feedback")[0][0]
    assert q(db, "SELECT count(*) - count(DISTINCT feedback_id) FROM feedback")[0][0] == 0
    assert q(db, "SELECT count(*) FROM runs WHERE status = 'success'")[0][0] == 2


@pytest.mark.slow
def test_the_same_file_from_two_processes_at_once_is_stored_once(tmp_path: Path) -> None:
    """Both check "not stored yet" in their own snapshot; the write token makes the later commit
    conflict and run again on the newer one, so nothing lands twice."""
    db = f"ducklake:sqlite:{tmp_path / 'meta.sqlite'}"
    env = {**os.environ, "PAINPOINTS_LAKE_DATA_PATH": str(tmp_path / "files") + "/"}
    cmd = [sys.executable, "-m", "painpoints.cli", "ingest", str(DATA / "reviews.jsonl"), "--source", "play"]
    subprocess.run(
        [*cmd[:3], "ingest", str(DATA / "complaints.csv"), "--source", "cfpb", "--kind", "ticket", "--db", db],
        env=env,
        check=True,
        capture_output=True,
    )  # creates the lake before the race
    both = [
        subprocess.Popen([*cmd, "--kind", "review", "--db", db], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0], outs
    alone = tmp_path / "alone.duckdb"
    ingest(str(alone), "reviews.jsonl", "play", "review")
    ingest(str(alone), "complaints.csv", "cfpb", "ticket")
    assert q(db, "SELECT count(*) FROM feedback")[0][0] == q(str(alone), "SELECT count(*) FROM feedback")[0][0]
    assert q(db, "SELECT count(*) - count(DISTINCT feedback_id) FROM feedback")[0][0] == 0
