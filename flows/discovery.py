"""The discovery flow: prepare → embed → discover (cluster, sentiment, name, rank) → write.

Runs in Prefect's ephemeral mode when no ``PREFECT_API_URL`` is set. A failure in any task marks the
run ``failed`` in ``runs`` and leaves the last successful snapshot (what the views show) untouched.
"""

from __future__ import annotations

from functools import lru_cache

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from discovery import pipeline, runstore, store
from discovery.embed import Embedder, embed_missing
from discovery.llm import LLMLabeler
from discovery.sentiment import SentimentModel
from discovery.settings import Settings, llm_configured, load_settings


@lru_cache(maxsize=2)
def _embedder(model: str, batch_size: int, precision: str) -> Embedder:
    """One loaded model per process: loading costs seconds, flows in one process share it."""
    return Embedder(model=model, batch_size=batch_size, precision=precision).fit()


def warm_up(db: str) -> None:
    """Load what a run needs before the flow starts (see ``flows.local_api``): the embedder (kept by
    ``_embedder``'s cache) and UMAP/HDBSCAN, whose imports take ≈1.5 s. Errors are left for the flow,
    which records a failed run."""
    try:
        import hdbscan  # noqa: F401
        import umap  # noqa: F401

        settings = load_settings(db=db)
        _embedder(settings.embed_model, settings.embed_batch_size, settings.embed_precision)
    except Exception:  # noqa: BLE001  (the flow meets the same error and records the run as failed)
        pass


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A run's connection: DuckDB's memory bounded by ``db_memory_limit``, the rest spills to disk."""
    return store.connect(settings.db, lock_wait=settings.lock_wait, memory_limit=settings.db_memory_limit)


@task(cache_policy=NONE)
def prepare(settings: Settings) -> int:
    con = _connect(settings)
    try:
        n = pipeline.prepare_segments(con, settings)
    finally:
        con.close()
    get_run_logger().info("prepared %d new segments", n)
    return n


@task(cache_policy=NONE)
def embed(settings: Settings) -> int:
    con = _connect(settings)
    try:
        n = embed_missing(con, _embedder(settings.embed_model, settings.embed_batch_size, settings.embed_precision))
    finally:
        con.close()
    get_run_logger().info("embedded %d new texts", n)
    return n


@task(cache_policy=NONE)
def discover(settings: Settings, llm: bool, full: bool, run_id: str) -> pipeline.DiscoveryResult:
    labeler = LLMLabeler(model=settings.llm_model, concurrency=settings.llm_concurrency,
                         token_budget=settings.llm_token_budget, timeout=settings.llm_timeout,
                         max_retries=settings.llm_max_retries) if llm else None
    con = _connect(settings)
    try:
        result = pipeline.discover(con, settings, _embedder(settings.embed_model, settings.embed_batch_size, settings.embed_precision),
                                   SentimentModel(), llm=labeler, full=full, run_id=run_id)
    finally:
        con.close()
    s = result.stats
    get_run_logger().info("%s run (%s): %d segments, %d themes (%d new), %s on the same theme as last run",
                          s["mode"], s["mode_reason"], s["segments"], s["themes"], s["themes_new"],
                          "n/a" if s["same_theme_share"] is None else f"{s['same_theme_share']:.1%}")
    if llm:
        get_run_logger().info("LLM: %d requests, %d cached, %d themes kept offline names, %d tokens",
                              s["llm_requests"], s["llm_cache_hits"], s["llm_themes_offline"],
                              s["llm_tokens_in"] + s["llm_tokens_out"])
    return result


@task(cache_policy=NONE)
def write(settings: Settings, run_id: str, result: pipeline.DiscoveryResult, counts: dict[str, int]) -> None:
    con = _connect(settings)
    try:
        runstore.finish_run(con, run_id, result.themes, result.assignments, {**result.stats, **counts},
                         result.llm_calls, theme_state=result.theme_state, events=result.events,
                         applied_curation=result.applied_curation)
    finally:
        con.close()


@flow(name="painpoints-discover", log_prints=False)
def discover_flow(db: str, min_theme_size: int | None = None, llm: bool | None = None,
                   full: bool = False) -> str:
    """Discover themes in what is stored in ``db`` (within ``window_days``); returns the run id.
    ``llm`` None: name new themes with an LLM when an endpoint is configured (OPENAI_API_KEY /
    OPENAI_BASE_URL). ``full``: recluster everything instead of an incremental run."""
    settings = load_settings(db=db, min_theme_size=min_theme_size)
    use_llm = llm_configured() if llm is None else llm
    run_id = _begin(settings, {"min_theme_size": min_theme_size, "llm": use_llm, "full": full,
                               "llm_model": settings.llm_model if use_llm else None})
    try:
        counts = {"new_segments": prepare(settings), "new_embeddings": embed(settings)}
        write(settings, run_id, discover(settings, use_llm, full, run_id), counts)
    except BaseException as err:
        _fail(settings, run_id, f"{type(err).__name__}: {err}")
        raise
    return run_id


def _begin(settings: Settings, params: dict) -> str:
    from prefect.runtime import flow_run

    con = _connect(settings)
    try:
        return runstore.start_run(con, {**params, "embed_model": settings.embed_key}, flow_run.id)
    finally:
        con.close()


def _fail(settings: Settings, run_id: str, error: str) -> None:
    con = _connect(settings)
    try:
        runstore.fail_run(con, run_id, error)
    finally:
        con.close()
