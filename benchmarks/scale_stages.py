"""Scale, stage by stage: build a stand-in store once, then time a full discovery run on copies of it,
with each discover stage's peak RSS.

``benchmarks.scale`` measures a whole run end to end in one child process; at 10M items that is ~53 min
of ingest, prepare and embed (``HashedWords``) before discovery starts, and its peaks are per step
(ingest, prepare, embed, discover, write). This one keeps the store, so a change to discovery is
measured again in the time discovery takes, and it samples RSS every 0.2 s to say which discover
stage (``pipeline._timed``: load, cluster, sentiment, feedback_type, carve, rank, name, areas) peaks.

Run:
    python -m benchmarks.scale_stages build N DIR        # items (benchmarks.scale's build) → DIR/s.duckdb
    python -m benchmarks.scale_stages discover DIR [--vectors-in-memory=100000] [--text-workers=0]
        [--in-place] [--write] [--keep-result=FILE]   # a full run on a copy of DIR/s.duckdb (removed after) or on it
    python -m benchmarks.scale_stages write DIR FILE [--write]   # write a kept result into DIR/s.duckdb
    python -m benchmarks.scale_stages nightly DIR [--percent=1] [--in-place] [--write]   # +1% items, incremental

Each command runs in this process: start it on its own (``discover`` reports ``ru_maxrss`` and the
sampled peaks of this process only). ``--keep-result=FILE`` pickles the run id and the discovery result
instead of writing it (use it with ``--in-place``); ``write`` writes it then, and can be timed or debugged
alone on copies of the store: at 10M a run takes ~36 min and its write about a minute. ``--write`` merges
the report into ``benchmarks/scale_stages.json`` under its segment count (``write``'s under the key
``"write"`` of that entry). The copy needs the store's size again on disk, and a full run past
``vectors_in_memory`` writes ~1.7 KB a segment of scratch files under ``TMPDIR``.

``nightly`` is the nightly path on a store holding a written full run (``discover --in-place`` first):
``--percent`` more items (the lines ``benchmarks.scale.build`` makes past the store's own, as ``scale
--rerun`` adds; kept in ``DIR/more-P.jsonl``) ingested, prepared and embedded, then an incremental
discover and its write, each stage timed with its peak; ``passes`` counts its one-pass reads of the
embedding cache. Its report is saved under the key ``"nightly N"`` (N the segments after the increment).
"""

from __future__ import annotations

import json
import pickle
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import header, options

OUT = Path(__file__).resolve().parent / "scale_stages.json"


def build_store(n: int, folder: Path) -> dict:
    """``n`` items (``benchmarks.scale.build``) ingested, prepared and embedded with ``HashedWords``."""
    from benchmarks.scale import HashedWords, build
    from painpoints.discovery import store
    from painpoints.discovery.embed_cache import embed_missing
    from painpoints.discovery.ingest import ingest_paths
    from painpoints.discovery.pipeline import prepare_segments
    from painpoints.discovery.settings import load_settings

    folder.mkdir(parents=True, exist_ok=True)
    items, db = folder / "items.jsonl", folder / "s.duckdb"
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    pairs = build(n, items)
    seconds["build"] = time.perf_counter() - t0
    settings = load_settings(db=db)
    t0 = time.perf_counter()
    ingest_paths(settings, [items], "scale", "review")
    seconds["ingest"] = time.perf_counter() - t0
    with store.connect(db, memory_limit=settings.db_memory_limit) as con:
        t0 = time.perf_counter()
        segments = prepare_segments(con, settings)
        seconds["prepare"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        embedded = embed_missing(con, HashedWords(settings.embed_key))
        seconds["embed"] = time.perf_counter() - t0
    return {
        "items": n,
        "joined_pairs": pairs,
        "segments": segments,
        "embedded": embedded,
        "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "peak_rss_mb": _maxrss(),
    }


def _maxrss() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


class StagePeaks:
    """Peak RSS per stage, sampled every ``every`` seconds by a daemon thread; ``stage`` is what runs now."""

    def __init__(self, every: float = 0.2) -> None:
        self.stage: str = "start"
        self.peaks: dict[str, float] = {}
        threading.Thread(target=self._sample, args=(every,), daemon=True).start()

    def _sample(self, every: float) -> None:
        while True:
            stage, rss = self.stage, _rss_mb()
            self.peaks[stage] = max(self.peaks.get(stage, 0.0), rss)
            time.sleep(every)

    def timing(self, original: Callable[[dict[str, float], str], ContextManager[None]]) -> Callable[..., Any]:
        """``pipeline._timed`` wrapped so each discover stage names the samples taken while it runs."""

        @contextmanager
        def timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
            self.stage = stage
            with original(seconds, stage):
                yield
            self.stage = f"after {stage}"
            # as it goes, so a run stopped part-way (a 10M discover takes most of an hour) still says something
            peak = self.peaks.get(stage, 0.0)
            print(f"{stage}: {seconds.get(stage)} s, peak {peak:.0f} MB", file=sys.stderr, flush=True)

        return timed


def extra_items(folder: Path | str, percent: float) -> Path:
    """The items a +``percent``% nightly run adds to the store built in ``folder``: the lines
    ``benchmarks.scale.build`` writes past the store's own (distinct from them, as ``scale --rerun``'s)."""
    from benchmarks.scale import build

    folder = Path(folder)
    with (folder / "items.jsonl").open(encoding="utf-8") as f:
        n = sum(1 for _ in f)
    out = folder / f"more-{percent:g}.jsonl"
    if not out.exists():
        everything = folder / "all-items.tmp"
        build(n + round(n * percent / 100), everything)  # its first n lines are the store's
        with everything.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
            dst.writelines(line for i, line in enumerate(src) if i >= n)
        everything.unlink()
    return out


def discover_on_copy(
    folder: Path,
    vectors_in_memory: int,
    text_workers: int | None,
    in_place: bool = False,
    keep_result: Path | None = None,
    more: Path | None = None,
) -> dict:
    """A full discovery run and its write on a copy of ``folder/s.duckdb`` (the copy is removed after), or
    with ``in_place`` on the store itself (no copy of a 20 GB store; each run adds its result to it).
    With ``more`` (``extra_items``), the nightly path instead: those items ingested, prepared and embedded,
    then an incremental run (the store must hold a written run)."""
    from benchmarks.scale import HashedWords
    from painpoints.discovery import lazy_vectors, pipeline, runstore, store
    from painpoints.discovery.embed_cache import embed_missing
    from painpoints.discovery.ingest import ingest_paths
    from painpoints.discovery.sentiment import SentimentModel
    from painpoints.discovery.settings import load_settings

    source = folder / "s.duckdb"
    db = source if in_place else folder / "run.duckdb"
    if not in_place:
        shutil.copy(source, db)
        if Path(f"{source}.wal").exists():
            shutil.copy(f"{source}.wal", f"{db}.wal")
    peaks = StagePeaks()
    overrides: dict[str, Any] = {"vectors_in_memory": vectors_in_memory}
    if text_workers is not None:
        overrides["text_workers"] = text_workers
    settings = load_settings(db=db, **overrides)
    original = pipeline._timed
    pipeline._timed = peaks.timing(original)
    steps: dict[str, float] = {}
    passes: list[int] = []
    gather = lazy_vectors.StoredVectors.gather

    def counted(self: Any, rows: Any) -> None:
        before = self.passes
        gather(self, rows)
        passes.append(self.passes - before)

    lazy_vectors.StoredVectors.gather = counted  # type: ignore[method-assign]
    try:
        embedder = HashedWords(settings.embed_key)
        if more is not None:
            peaks.stage, t0 = "ingest", time.perf_counter()
            ingest_paths(settings, [more], "scale", "review")
            steps["ingest"] = round(time.perf_counter() - t0, 1)
        # each step on a connection of its own, as the flow's tasks (_begin, prepare, embed, discover): a
        # connection that wrote checkpoints when it closes, and that checkpoint lands in the step that wrote
        peaks.stage = "start run"
        with store.connect(db, memory_limit=settings.db_memory_limit) as con:
            run_id = runstore.start_run(con, {"benchmark": "scale_stages"})
        if more is not None:
            for stage, step in (
                ("prepare", lambda con: pipeline.prepare_segments(con, settings)),
                ("embed", lambda con: embed_missing(con, embedder)),
            ):
                peaks.stage, t0 = stage, time.perf_counter()
                with store.connect(db, memory_limit=settings.db_memory_limit) as con:
                    step(con)
                steps[stage] = round(time.perf_counter() - t0, 1)
        with store.connect(db, memory_limit=settings.db_memory_limit) as con:
            t0 = time.perf_counter()
            result = pipeline.discover(con, settings, embedder, SentimentModel(), run_id=run_id, full=more is None)
            discover_s = time.perf_counter() - t0
        print(f"discover {discover_s:.0f} s", result.stats.seconds, dict(peaks.peaks), file=sys.stderr, flush=True)
        write_s = None
        if keep_result is not None:  # written later by ``write``
            with keep_result.open("wb") as f:
                pickle.dump((run_id, result), f, protocol=5)
        else:
            peaks.stage, t0 = "write", time.perf_counter()
            with store.connect(db, memory_limit=settings.db_memory_limit) as con:  # as the flow's write task does
                runstore.finish_run(con, run_id, result)
            write_s = round(time.perf_counter() - t0, 1)
    finally:
        pipeline._timed = original
        lazy_vectors.StoredVectors.gather = gather  # type: ignore[method-assign]
        if not in_place:
            db.unlink(missing_ok=True)
            Path(f"{db}.wal").unlink(missing_ok=True)
    s = result.stats
    nightly = {"new_items_file": more.name, "step_seconds": steps, "passes": sum(passes)} if more else {}
    return {
        "segments": s.segments,
        "mode": s.mode,
        **nightly,
        "vectors_in_memory": vectors_in_memory,
        "text_workers": settings.text_workers,
        "discover_seconds": round(discover_s, 1),
        "write_seconds": write_s,
        "stage_seconds": s.seconds,
        "stage_peak_rss_mb": {k: round(v) for k, v in peaks.peaks.items()},
        "peak_rss_mb": _maxrss(),
        "themes": s.themes,
        "unassigned_share": round(s.unassigned_share, 4),
        "vectors_read": s.vectors_read,
    }


def write_kept(folder: Path, kept: Path) -> dict:
    """``runstore.finish_run`` of a result ``discover --in-place --keep-result`` kept, on a fresh
    connection as the flow's write task does; its time and peak RSS. The run must still be unwritten."""
    from painpoints.discovery import runstore, store
    from painpoints.discovery.settings import load_settings

    with kept.open("rb") as f:
        run_id, result = pickle.load(f)
    settings = load_settings(db=folder / "s.duckdb")
    loaded_mb, t0 = _maxrss(), time.perf_counter()
    with store.connect(folder / "s.duckdb", memory_limit=settings.db_memory_limit) as con:
        runstore.finish_run(con, run_id, result)
    return {
        "segments": result.stats.segments,
        "write_seconds": round(time.perf_counter() - t0, 1),
        "loaded_rss_mb": loaded_mb,
        "peak_rss_mb": _maxrss(),
    }


def main(argv: list[str]) -> dict:
    if len(argv) < 2 or argv[0] not in ("build", "discover", "write", "nightly"):
        raise SystemExit(__doc__)
    opts = options(argv)
    if argv[0] == "build":
        report = build_store(int(argv[1]), Path(argv[2]))
    elif argv[0] == "write":
        report = write_kept(Path(argv[1]), Path(argv[2]))
    else:
        workers, percent = opts.get("text-workers"), float(opts.get("percent", 1))
        more = None
        if argv[0] == "nightly":  # made in a process of its own: building them holds every text (ru_maxrss)
            code = f"from benchmarks.scale_stages import extra_items; print(extra_items({argv[1]!r}, {percent}))"
            made = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
            more = Path(made.stdout.strip().splitlines()[-1])
        report = discover_on_copy(
            Path(argv[1]),
            int(opts.get("vectors-in-memory", 100_000)),
            None if workers is None else int(workers),
            in_place="in-place" in opts,
            keep_result=Path(opts["keep-result"]) if "keep-result" in opts else None,
            more=more,
        )
    entry = {**header("benchmarks.scale_stages", argv), **report}
    print(json.dumps(entry, indent=1))
    if argv[0] != "build" and "write" in opts:  # a kept result's write goes beside its discover entry
        saved = json.loads(OUT.read_text()) if OUT.exists() else {}
        key = f"nightly {report['segments']}" if argv[0] == "nightly" else str(report["segments"])
        saved[key] = {**saved.get(key, {}), "write": entry} if argv[0] == "write" else entry
        OUT.write_text(json.dumps(saved, indent=1) + "\n")
    return entry


if __name__ == "__main__":
    main(sys.argv[1:])
