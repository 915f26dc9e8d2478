"""The discovery flow: prepare → embed → discover (cluster, sentiment, name, rank) → write.

prepare and embed write segments and the embedding cache; discover only reads; write stores the run
(snapshot, assignments, theme state, LLM calls, the vectors discover computed) in one transaction.
Each task opens its own connection (``with _connect(settings) as con``) and calls one library function.

Runs in Prefect's ephemeral mode when no ``PREFECT_API_URL`` is set. A failure in any task marks the
run ``failed`` in ``runs`` and leaves the last successful snapshot (what the views show) untouched.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from painpoints.discovery import pipeline, runstore, store
from painpoints.discovery.embed import Embedder
from painpoints.discovery.embed_cache import embed_missing
from painpoints.discovery.llm import LLMLabeler
from painpoints.discovery.records import DiscoveryResult, EmbedReport, RunStats
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import Settings, load_settings, run_params
from painpoints.discovery.store import utc_now


@lru_cache(maxsize=2)
def _embedder(model: str, batch_size: int, precision: str) -> Embedder:
    """One loaded model per process: loading costs seconds, flows in one process share it."""
    return Embedder(model=model, batch_size=batch_size, precision=precision).fit()


def _run_embedder(settings: Settings) -> Embedder:
    return _embedder(settings.embed_model, settings.embed_batch_size, settings.embed_precision)


def warm_up(db: str) -> None:
    """Load what a run needs before the flow starts (see ``flows.local_api``): the embedder (kept by
    ``_embedder``'s cache) and UMAP/HDBSCAN, whose imports take ≈1.5 s. Errors are left for the flow,
    which records a failed run."""
    try:
        import hdbscan  # noqa: F401
        import umap  # noqa: F401

        _run_embedder(load_settings(db=db))
    except Exception:  # noqa: BLE001  (the flow meets the same error and records the run as failed)
        pass


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A run's connection: DuckDB's memory bounded by ``db_memory_limit``, the rest spills to disk.
    Use it as ``with _connect(settings) as con:``: the connection closes when the block ends."""
    return store.connect(settings.db, lock_wait=settings.lock_wait, memory_limit=settings.db_memory_limit)


def _llm_labeler(settings: Settings) -> LLMLabeler:
    return LLMLabeler(
        model=settings.llm_model,
        concurrency=settings.llm_concurrency,
        token_budget=settings.llm_token_budget,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
    )


@task(cache_policy=NONE)
def prepare(settings: Settings) -> int:
    with _connect(settings) as con:
        n = store.retry_conflicts(lambda: pipeline.prepare_segments(con, settings))
    get_run_logger().info("prepared %d new segments", n)
    return n


@task(cache_policy=NONE)
def embed(settings: Settings) -> EmbedReport:
    """Fill the embedding cache here, or on the Ray cluster when ``engine = "ray"`` (shards
    committed as they return, ``discovery.ray_engine``); returns counts, never vectors."""
    with _connect(settings) as con:
        if settings.engine == "ray":
            from painpoints.discovery import ray_engine

            engine = ray_engine.RayEngine.from_settings(settings)
            report = ray_engine.embed_missing(con, _run_embedder(settings), engine)
        else:
            report = EmbedReport(embed_missing(con, _run_embedder(settings)))
    where = f" on Ray ({report.workers} workers, {report.nodes} nodes)" if report.engine == "ray" else ""
    get_run_logger().info("embedded %d new texts%s", report.embedded, where)
    return report


@task(cache_policy=NONE)
def discover(settings: Settings, llm: bool, full: bool, run_id: str) -> DiscoveryResult:
    with _connect(settings) as con:
        result = pipeline.discover(
            con,
            settings,
            _run_embedder(settings),
            SentimentModel(),
            llm=_llm_labeler(settings) if llm else None,
            full=full,
            run_id=run_id,
        )
    _log_run(result.stats)
    return result


def _log_run(s: RunStats) -> None:
    share = "n/a" if s.same_theme_share is None else f"{s.same_theme_share:.1%}"
    get_run_logger().info(
        "%s run (%s): %d segments, %d themes (%d new), %s on the same theme as last run",
        s.mode,
        s.mode_reason,
        s.segments,
        s.themes,
        s.themes_new,
        share,
    )
    if s.llm is not None:
        get_run_logger().info(
            "LLM: %d requests, %d cached, %d themes kept offline names, %d tokens",
            s.llm.requests,
            s.llm.cache_hits,
            s.llm.themes_offline,
            s.llm.tokens_in + s.llm.tokens_out,
        )


@task(cache_policy=NONE)
def write(settings: Settings, run_id: str, result: DiscoveryResult, new_segments: int, embedded: EmbedReport) -> None:
    """The run's only write: snapshot, assignments, theme state, events, LLM calls and the vectors
    discovery computed, in one transaction (``runstore.finish_run``)."""
    with _connect(settings) as con:
        store.retry_conflicts(lambda: runstore.finish_run(con, run_id, result.with_counts(new_segments, embedded)))


def _run_name() -> str:
    """Flow-run names a PM can read in the Prefect UI: which database, which mode, when."""
    from prefect.runtime import flow_run

    p = flow_run.parameters
    mode = "full" if p.get("full") else "auto"
    return f"discover {Path(str(p.get('db', ''))).stem} {mode} {utc_now():%Y-%m-%d %H:%M}"


def _publish(settings: Settings, run_id: str) -> None:
    """The run's top pain points as a Markdown artifact on the flow run (Prefect UI), one key per
    database so the artifact keeps its history run after run."""
    from prefect.artifacts import create_markdown_artifact

    with store.connect(settings.db, read_only=True, lock_wait=settings.lock_wait) as con:
        columns, rows = store.query(con, store.sql("top_pain_points"), [10])
        reason = runstore.skipped_reason(con, run_id)
    head = f"**painpoints** run `{run_id}` on `{settings.db}`" + (f" — skipped: {reason}" if reason else "")
    table = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    report = f"Report: `painpoints report --db {settings.db}`"
    key = "painpoints-" + re.sub(r"[^a-z0-9]+", "-", settings.db.stem.lower()).strip("-")
    create_markdown_artifact("\n\n".join([head, "\n".join(table), report]), key=key, description="top pain points")


def _cell(value: object) -> str:
    text = f"{value:.3g}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:80]


@flow(name="painpoints-discover", log_prints=False, flow_run_name=_run_name)
def discover_flow(db: str, min_theme_size: int | None = None, llm: bool | None = None, full: bool = False) -> str:
    """Discover themes in what is stored in ``db`` (within ``window_days``); returns the run id.
    ``llm`` None: name new themes with an LLM when an endpoint is configured (OPENAI_API_KEY /
    OPENAI_BASE_URL). ``full``: recluster everything instead of an incremental run."""
    settings = load_settings(db=db, min_theme_size=min_theme_size)
    params = run_params(settings, min_theme_size, llm, full)
    with _connect(settings) as con:
        fingerprint = runstore.run_fingerprint(con, settings.fingerprint(), params)
        skipped = store.atomic(con, lambda: runstore.skip_if_unchanged(con, params, fingerprint))
    if skipped is not None:  # nothing changed since the last successful run: recorded, nothing redone
        get_run_logger().info("nothing changed since the last successful run: run %s skipped", skipped)
        _publish(settings, skipped)
        return skipped
    use_llm = bool(params["llm"])
    run_id = _begin(settings, {**params, "fingerprint": fingerprint})
    try:
        new_segments, embedded = prepare(settings), embed(settings)
        # quote: Prefect would walk the result's every assignment twice looking for futures (2.5 s
        # of a 40k-segment +1% run); the result is plain data, handed to write as it is
        result = quote(discover(settings, use_llm, full, run_id))  # Prefect unwraps it before write runs
        write(settings, run_id, result, new_segments, embedded)  # type: ignore[call-overload]
    except BaseException as err:
        _fail(settings, run_id, f"{type(err).__name__}: {err}")
        raise
    _publish(settings, run_id)
    return run_id


def _begin(settings: Settings, params: dict) -> str:
    from prefect.runtime import flow_run

    with _connect(settings) as con:
        return store.atomic(con, lambda: runstore.start_run(con, params, flow_run.id))


def _fail(settings: Settings, run_id: str, error: str) -> None:
    with _connect(settings) as con:
        store.atomic(con, lambda: runstore.fail_run(con, run_id, error))
