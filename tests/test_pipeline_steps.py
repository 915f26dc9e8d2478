"""Each discovery step on tiny vectors with the stand-in components of ``discovery.components``:
no model, no UMAP, no Prefect, no LLM. The last tests run ``discover`` over a real (temporary)
store and check that it writes nothing, and that ``finish_run`` writes what it found."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from painpoints.discovery import pipeline, runstore, scoring, store
from painpoints.discovery.assemble import RunInfo, assemble
from painpoints.discovery.components import (
    AxisClusterer,
    CueTyper,
    EchoLLM,
    FirstTextLabeler,
    HashEncoder,
    SignSentiment,
)
from painpoints.discovery.embed_cache import CachingEncoder, embed_missing
from painpoints.discovery.feedback_type import RULES_VERSION, FeedbackTypeModel
from painpoints.discovery.instants import Instants
from painpoints.discovery.naming import fixed_labels, name_with_llm
from painpoints.discovery.records import EmbedReport, KnownTheme, LLMStats, RunStats, Scores, assignment_rows
from painpoints.discovery.runinput import RunInput
from painpoints.discovery.runstore import ThemeState
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import load_settings
from painpoints.discovery.themes import Curation
from painpoints.discovery.vectors import centroids

DIM = 8
NOW = datetime(2026, 11, 20)


def axis_blobs(sizes: list[int], dim: int = DIM, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors near the first ``len(sizes)`` axes, ``sizes[k]`` of them near axis k."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(sizes)), sizes)
    X = np.eye(dim, dtype=np.float32)[y] + 0.05 * rng.standard_normal((len(y), dim)).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True), y


def run_input(X: np.ndarray, words: list[str] | None = None, created: list[datetime | None] | None = None) -> RunInput:
    n = len(X)
    texts = [
        f"{(words or ['item'])[int(np.argmax(x)) % len(words or ['item'])]} problem number {i}" for i, x in enumerate(X)
    ]
    return RunInput(
        segment_id=[f"s{i:03d}" for i in range(n)],
        feedback_id=[f"f{i:03d}" for i in range(n)],
        source=["app"] * n,
        created_at=created or [NOW - timedelta(days=i % 20) for i in range(n)],
        text=texts,
        vectors=X,
        content_hash=[f"h{i}" for i in range(n)],
    )


def empty_state() -> ThemeState:
    return ThemeState(known={}, previous={}, run_id=None, stats=None, last_full=None, curation=Curation())


def settings(tmp_path: Path, **over: object):
    return load_settings(db=tmp_path / "t.duckdb", embed_model=f"hash-{DIM}", embed_precision="fp32", **over)


def make(mcs: int | None, leftovers: bool = False, min_items: int | None = None) -> AxisClusterer:
    return AxisClusterer(mcs)


# ------------------------------------------------------------------------------------ choose mode
def test_choose_mode_cases(tmp_path: Path) -> None:
    s = settings(tmp_path, full_every_days=7)
    X, _ = axis_blobs([5, 5])
    data = run_input(X)
    known = {"T001": KnownTheme("T001", "a", "offline", "active", X[0])}
    seen = {sid: ("T001", h) for sid, h in zip(data.segment_id, data.content_hash, strict=True)}
    state = ThemeState(known, seen, "r1", RunStats(embed_model=s.embed_key), NOW - timedelta(days=1), Curation())
    assert pipeline.choose_mode(state, data, s, full=True) == ("full", "requested")
    assert pipeline.choose_mode(empty_state(), data, s, full=False) == ("full", "no previous themes")
    assert (
        pipeline.choose_mode(replace(state, stats=RunStats(embed_model="other")), data, s, False, NOW)[1]
        == "embedding model changed"
    )
    assert pipeline.choose_mode(state, data, s, False, NOW) == ("incremental", "0 new or changed segments")
    half_new = replace(state, previous=dict(list(seen.items())[:5]))
    assert pipeline.choose_mode(half_new, data, s, False, NOW) == (
        "full",
        "50% of segments are new (> incremental_max_new)",
    )
    assert pipeline.choose_mode(state, data, s, False, NOW + timedelta(days=7))[1].startswith("last full run 8 days")


# --------------------------------------------------------------------------------------- identify
def test_identify_numbers_themes_by_size_with_stable_ids(tmp_path: Path) -> None:
    X, y = axis_blobs([4, 9, 6])
    found = pipeline.identify(run_input(X), empty_state(), "full", settings(tmp_path), make)
    assert found.order == ["T001", "T002", "T003"]  # AxisClusterer numbers by size: axis 1, 2, 0
    assert list(found.labels) == [2] * 4 + [0] * 9 + [1] * 6
    # unit-length centroids, each on its theme's axis (AxisClusterer blobs sit on axes 1, 2, 0)
    np.testing.assert_allclose(np.linalg.norm(found.centroids, axis=1), 1.0, rtol=1e-5)
    assert [int(np.argmax(c)) for c in found.centroids] == [1, 2, 0]
    assert found.identity.min_cluster_size == 2 and set(found.identity.how) == {"cluster"}


def test_identify_incremental_keeps_last_runs_assignment(tmp_path: Path) -> None:
    X, y = axis_blobs([6, 6])
    data = run_input(X)
    known = {
        t: KnownTheme(t, t, "offline", "active", centroids(X, y, 2)[k], radius=0.5)
        for k, t in enumerate(["T001", "T002"])
    }
    previous = {sid: (["T001", "T002"][c], h) for sid, h, c in zip(data.segment_id, data.content_hash, y, strict=True)}
    state = ThemeState(known, previous, "r1", RunStats(min_theme_size=3), NOW, Curation())
    found = pipeline.identify(data, state, "incremental", settings(tmp_path), make)
    assert set(found.identity.how) == {"kept"} and found.identity.theme_of == [["T001", "T002"][c] for c in y]


# ------------------------------------------------------------------------------------------ score
def test_score_sentiment_uses_run_vectors_or_the_classifiers_own_embedder(tmp_path: Path) -> None:
    X, _ = axis_blobs([3, 3])
    X[:, 0] = [-0.5] * 3 + [0.5] * 3  # SignSentiment reads the first coordinate
    data = run_input(X)
    s = settings(tmp_path)
    scores = scoring.score_sentiment(data, SignSentiment(), s, lambda model: pytest.fail("not needed"))
    assert scores.sentiment == ["negative"] * 3 + ["positive"] * 3

    class OtherModel(SignSentiment):
        def fit(self) -> OtherModel:
            self.model_name_ = "other-model"
            return self

    asked: list[str] = []
    encoder = CachingEncoder(HashEncoder(dim=4), lambda key, hashes: {})
    scores = scoring.score_sentiment(data, OtherModel(), s, lambda model: asked.append(model) or encoder)
    assert asked == ["other-model"] and len(encoder.computed_) == len(set(data.text))
    np.testing.assert_allclose(scores.sentiment_score, np.clip(HashEncoder(dim=4).encode(data.text)[:, 0], -1, 1))


def test_incremental_runs_type_only_new_or_changed_text(tmp_path: Path) -> None:
    """Typing is per segment: an unchanged segment keeps last run's type, only the rest is typed."""
    X, _ = axis_blobs([3, 3])
    data = run_input(X)
    previous = {sid: ("T001", h) for sid, h in zip(data.segment_id, data.content_hash, strict=True)}
    previous["s001"] = ("T001", "an older text")  # edited since
    kinds = {sid: "praise" for sid in data.segment_id} | {"s005": None}  # typed before typing existed
    state = ThemeState({}, previous, "r1", RunStats(type_model="m:aaa:rules2"), NOW, Curation(), previous_type=kinds)
    del previous["s004"]  # new this run
    kept = scoring.kept_types(data, state, "m:aaa:rules2")
    assert kept is not None and np.flatnonzero(kept.mask).tolist() == [0, 2, 3]
    # new weights or new cue rules (or a run before keys were recorded): every segment is typed again
    assert scoring.kept_types(data, state, "m:aaa:rules3") is None
    assert scoring.kept_types(data, replace(state, stats=RunStats()), "m:aaa:rules2") is None
    key = FeedbackTypeModel().fit().key_
    assert key.startswith("all-MiniLM-L6-v2:") and key.endswith(f":rules{RULES_VERSION}")
    assert FeedbackTypeModel(use_rules=False).fit().key_.endswith(":no-rules")

    class Counting(CueTyper):
        seen: list[str] = []

        def predict(self, X: np.ndarray, texts):  # type: ignore[no-untyped-def]
            self.seen += list(texts)
            assert len(X) == len(texts)
            return super().predict(X, texts)

    typer = Counting()
    out = scoring.score_types(data, typer, settings(tmp_path), lambda m: pytest.fail("not needed"), kept)
    assert typer.seen == [data.text[i] for i in (1, 4, 5)]
    assert [out[i] for i in (0, 2, 3)] == ["praise"] * 3 and out[1] == out[4] == out[5] == "problem"


def test_rows_to_score_come_block_by_block_and_skip_the_kept(monkeypatch) -> None:
    """A full run over stored vectors scores every row in ranges of ``BLOCK_ROWS`` made as it goes (not
    one int64 array of every row); an incremental run only the rows not kept; in memory, all at once."""
    monkeypatch.setattr(scoring, "BLOCK_ROWS", 4)
    ids = [str(i) for i in range(10)]
    stored = RunInput(ids, ids, ["s"] * 10, [None] * 10, ["t"] * 10, vectors=object())  # type: ignore[arg-type]
    full = scoring.Kept.none(10)
    assert full.todo() is None
    blocks = list(scoring.row_blocks(stored, full.todo()))
    assert [b.tolist() for b in blocks] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    kept = scoring.Kept(np.array([i % 3 == 0 for i in range(10)]), [["a"] * 10])
    assert [b.tolist() for b in scoring.row_blocks(stored, kept.todo())] == [[1, 2, 4, 5], [7, 8]]
    in_memory = replace(stored, vectors=np.zeros((10, 2), np.float32))
    assert [b.tolist() for b in scoring.row_blocks(in_memory, None)] == [list(range(10))]
    assert scoring.Kept.none(0).todo().tolist() == []  # nothing to score: no model is fitted


def test_incremental_runs_keep_sentiment_only_from_the_same_model() -> None:
    """Unchanged segments keep last run's sentiment while the model that scored it is the run's
    (``runs.stats.sentiment_model``); new weights, or a run before models were recorded, rescore all."""
    X, _ = axis_blobs([3, 3])
    data = run_input(X)
    previous = {sid: ("T001", h) for sid, h in zip(data.segment_id, data.content_hash, strict=True)}
    tone = {sid: ("negative", -0.5) for sid in data.segment_id}
    state = ThemeState({}, previous, "r1", RunStats(sentiment_model="m:aaa"), NOW, Curation(), previous_sentiment=tone)
    kept = scoring.kept_sentiments(data, state, "m:aaa")
    assert kept is not None and kept.mask.all()
    assert scoring.kept_sentiments(data, state, "m:bbb") is None
    assert scoring.kept_sentiments(data, replace(state, stats=RunStats()), "m:aaa") is None
    key = SentimentModel().fit().key_
    assert key.startswith("all-MiniLM-L6-v2:") and key == SentimentModel().fit().key_


def test_score_themes_ranks_the_negative_theme_first(tmp_path: Path) -> None:
    X, _ = axis_blobs([6, 3])
    data = run_input(X)
    found = pipeline.identify(data, empty_state(), "full", settings(tmp_path), make)
    scores = Scores(["positive"] * 6 + ["negative"] * 3, np.array([0.5] * 6 + [-0.8] * 3))
    ranked = pipeline.score_themes(data, found, scores, settings(tmp_path))
    assert [(r.theme, r.rank, r.items) for r in ranked] == [(1, 1, 3), (0, 2, 6)]
    assert ranked[0].negative_share == 1.0 and ranked[0].sources == ["app"]


# ------------------------------------------------------------------------------------------- name
def test_fixed_labels_keep_curated_and_known_labels() -> None:
    known = {
        "T001": KnownTheme("T001", "Old offline", "offline", "active", None),
        "T002": KnownTheme("T002", "Old LLM", "llm", "active", None),
    }
    cur = Curation(renames={"T003": "PM name"})
    order = ["T001", "T002", "T003", "T004"]
    assert fixed_labels(order, known, cur, use_llm=False) == {0: "Old offline", 1: "Old LLM", 2: "PM name"}
    assert fixed_labels(order, known, cur, use_llm=True) == {1: "Old LLM", 2: "PM name"}  # offline gets upgraded


def test_name_keeps_fixed_labels_and_collects_phrase_vectors(tmp_path: Path) -> None:
    from painpoints.discovery.label import OfflineLabeler

    X, _ = axis_blobs([6, 6])
    data = run_input(X, words=["refund", "login"])
    found = pipeline.identify(data, empty_state(), "full", settings(tmp_path), make)
    encoder = CachingEncoder(HashEncoder(), lambda key, hashes: {})
    naming = pipeline.name(data, found, OfflineLabeler(), encoder, fixed={1: "Kept label"})
    assert naming.names[1].label == "Kept label" and "refund" in naming.names[0].label.lower()
    new = encoder.new_embeddings()
    assert new is not None and new.model == f"hash-{DIM}" and len(new.hashes) == len(new.vectors) > 0
    again = CachingEncoder(
        HashEncoder(), lambda key, hashes: {h: new.vectors[new.hashes.index(h)] for h in hashes if h in new.hashes}
    )
    pipeline.name(data, found, OfflineLabeler(), again, fixed={})
    assert again.new_embeddings() is None  # every phrase came from the cache


def test_name_with_llm_keeps_only_grounded_labels(tmp_path: Path) -> None:
    X, _ = axis_blobs([5, 5])
    data = run_input(X)
    found = pipeline.identify(data, empty_state(), "full", settings(tmp_path), make)
    names = pipeline.name(data, found, FirstTextLabeler(), HashEncoder(), fixed={}).names
    loose = name_with_llm(
        EchoLLM(),
        names,
        found.centroids,
        HashEncoder(),
        settings(tmp_path, llm_min_grounding=-9),
        lambda key: None,
        todo=[1],
    )
    assert list(loose.themes) == [1] and loose.themes[1]["label_method"] == "llm" and loose.ungrounded == 0
    strict = name_with_llm(
        EchoLLM(), names, found.centroids, HashEncoder(), settings(tmp_path, llm_min_grounding=9), lambda key: None
    )
    assert strict.ungrounded == 2 and all("label" not in cols for cols in strict.themes.values())
    assert all(cols["severity"] == "low" for cols in strict.themes.values())


# --------------------------------------------------------------------------------------- assemble
def test_assemble_status_events_and_stats(tmp_path: Path) -> None:
    """T001 continues, dormant T002 is revived, T003 is split by a PM, axis 3 is a new theme (new ids
    follow the highest ever used, T009)."""
    X, y = axis_blobs([12, 10, 8, 6])
    data = run_input(X)
    C = centroids(X, y, 4)
    known = {
        "T001": KnownTheme(
            "T001", "Kept", "llm", "active", C[0], description="kept description", first_run="r0", first_seen=NOW
        ),
        "T002": KnownTheme("T002", "Sleeping", "offline", "dormant", C[1]),
        "T003": KnownTheme("T003", "Too broad", "offline", "active", C[2]),
        "T009": KnownTheme("T009", "Gone", "offline", "active", -C[0]),
    }
    previous = {sid: ("T001", "old") for sid, c in zip(data.segment_id, y, strict=True) if c == 0}
    state = ThemeState(known, previous, "r1", RunStats(), None, Curation(splits={"T003": ("cid", 2)}))
    s = settings(tmp_path)
    found = pipeline.identify(data, state, "full", s, make)
    scores = scoring.score_sentiment(data, SignSentiment(), s, lambda model: pytest.fail("not needed"))
    scores.ranked = pipeline.score_themes(data, found, scores, s)
    naming = pipeline.name(
        data, found, FirstTextLabeler(), HashEncoder(), fixed_labels(found.order, known, state.curation, False)
    )
    result = assemble(data, state, found, scores, naming, s, RunInfo("r2", "full", "test", {}, NOW))
    by_id = {t.theme_id: t for t in result.themes}
    assert {t: r.status for t, r in by_id.items()} == {
        "T001": "continuing",
        "T002": "revived",
        "T010": "new",
        "T011": "split",
        "T012": "split",
    }
    assert by_id["T001"].label == "Kept" and by_id["T001"].label_method == "llm"
    assert by_id["T001"].description == "kept description"
    assert sorted(r.rank for r in result.themes) == [1, 2, 3, 4, 5]
    assert [(e.theme_id, e.event) for e in result.events if e.event != "split"] == [
        ("T002", "revived"),
        ("T010", "new"),
        ("T009", "dormant"),
    ]
    state_rows = {k.theme_id: k for k in result.theme_state or []}
    assert state_rows["T003"].status == "split" and state_rows["T009"].status == "dormant"
    assert state_rows["T001"].first_run == "r0" and state_rows["T010"].first_run == "r2"
    assert state_rows["T010"].radius is not None and state_rows["T001"].last_seen == NOW
    assert result.applied_curation == ["cid"]
    st = result.stats
    assert (st.mode, st.segments, st.themes, st.themes_new, st.themes_revived, st.themes_dormant) == (
        "full",
        36,
        5,
        1,
        1,
        1,
    )
    assert st.same_theme_share == 1.0 and st.unassigned == 0 and st.llm is None
    assert [a.theme_id for a in assignment_rows(result.assignments)][:12] == ["T001"] * 12


# ------------------------------------------------------------------------------------ run records
def test_run_stats_serialise_to_the_runs_stats_keys() -> None:
    keys = [
        "mode",
        "mode_reason",
        "segments",
        "feedback_items",
        "themes",
        "unassigned",
        "unassigned_share",
        "reassigned",
        "kept",
        "assigned_to_known",
        "themes_new",
        "themes_revived",
        "themes_dormant",
        "same_theme_share",
        "emerging",
        "min_theme_size",
        "min_theme_items",
        "window_days",
        "seconds",
        "vectors_read",
        "embed_model",
        "sentiment_model",
        "type_model",
        "engine",
        "engine_workers",
        "engine_nodes",
        "scoring_engine",
        "scoring_workers",
    ]
    assert list(RunStats().as_dict()) == keys
    with_llm = RunStats(llm=LLMStats(requests=3), new_segments=1, new_embeddings=2, extra={"written_by_later": 1})
    d = with_llm.as_dict()
    assert list(d)[len(keys) :] == [
        "llm_requests",
        "llm_cache_hits",
        "llm_fallbacks",
        "llm_tokens_in",
        "llm_tokens_out",
        "llm_cost_estimate",
        "llm_ungrounded",
        "llm_themes_offline",
        "new_segments",
        "new_embeddings",
        "written_by_later",
    ]
    assert RunStats.from_dict(d) == with_llm and with_llm["llm_requests"] == 3
    assert RunStats.from_dict({"mode": "incremental"}).themes == 0  # runs of older versions lack keys


# ------------------------------------------------------------------------------------- the store
def complaint_texts(per_topic: int) -> list[str]:
    """Short complaints about three topics, ``per_topic`` of each, interleaved."""
    words = [("refund", "never arrived"), ("login", "fails every time"), ("search", "finds nothing")]
    return [f"{w} problem {i}: the {w} {x}" for i in range(per_topic) for w, x in words]


def seeded_store(tmp_path: Path, records: list | None = None) -> tuple[object, object]:
    """A store holding ``records`` (default: 36 unrated complaints), segmented and embedded."""
    from painpoints.connectors.base import FeedbackRecord
    from painpoints.discovery.ingest import ingest_items

    s = settings(tmp_path)
    con = store.connect(s.db)
    if records is None:
        records = [FeedbackRecord(source="app", kind="review", text=t) for t in complaint_texts(12)]
    ingest_items(con, records, keep_original=True)
    pipeline.prepare_segments(con, s)
    embed_missing(con, HashEncoder())
    return con, s


def table_contents(con) -> dict[str, list[str]]:
    names = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
    return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in names}


def test_discover_writes_nothing_and_finish_run_writes_the_result(tmp_path: Path, monkeypatch) -> None:
    class OtherModel(SignSentiment):
        def fit(self) -> OtherModel:
            self.model_name_ = "other-model"
            return self

    monkeypatch.setattr(pipeline, "side_embedder", lambda model, settings: HashEncoder(dim=4))
    con, s = seeded_store(tmp_path)
    try:
        before = table_contents(con)
        result = pipeline.discover(
            con, s, HashEncoder(), OtherModel(), clusterer=make, llm=EchoLLM(), run_id="r1", typer=CueTyper()
        )
        assert table_contents(con) == before
        assert result.assignments.schema.field("sentiment_score").type == pa.float32()  # 4 bytes a segment
        assert {e.model for e in result.embeddings} == {"hash-4", f"hash-{DIM}"}  # sentiment texts, label phrases
        assert result.stats.llm is not None and result.llm_calls
        run_id = runstore.start_run(con, {})
        con.close()
        con = store.connect(s.db)  # as the flow's write task: a fresh connection (migrate() read last)
        runstore.finish_run(con, run_id, result.with_counts(36, EmbedReport(36)))
        stats = runstore.run_stats(con, run_id)
        assert stats == replace(result.stats, new_segments=36, new_embeddings=36)
        latest = runstore.latest_run(con)
        assert latest is not None and latest.run_id == run_id and latest.stats.themes == len(result.themes) > 0
        typed = dict(con.execute("SELECT theme_type, count(*) FROM latest_themes GROUP BY ALL").fetchall())
        assert sum(typed.values()) == len(result.themes) and set(typed) <= {"problem", "request", "praise"}
        assert all(t.area_id and t.area_label for t in result.themes)  # every theme sits in an area
        areas = dict(con.execute("SELECT area_id, themes FROM theme_areas").fetchall())
        assert sum(areas.values()) == len(result.themes) and set(areas) <= {a.area_id for a in result.area_state or []}
        assert {a.feedback_type for a in assignment_rows(result.assignments)} <= {
            "problem",
            "request",
            "question",
            "praise",
        }
        cached = dict(con.execute("SELECT model, count(*) FROM embeddings GROUP BY ALL").fetchall())
        assert cached["hash-4"] == 36 and cached[f"hash-{DIM}"] > 36
        theme_ids, vectors = runstore.latest_vectors(con)
        assigned = [a for a in assignment_rows(result.assignments) if a.theme_id is not None]
        assert theme_ids == [a.theme_id for a in assigned] and vectors.shape == (len(assigned), DIM)
        # last run's type and sentiment are read for an incremental run only: a full one rescores every row
        data, state, mode, _ = pipeline.load(con, s)
        assert mode == "incremental" and len(state.previous_type) == len(state.previous_sentiment) == 36
        assert isinstance(data.created_at, Instants) and len(data.created_at) == 36  # 4 bytes a row
        *_, state, mode, _ = pipeline.load(con, s, full=True)
        assert mode == "full" and len(state.previous) == 36 and state.previous_type == state.previous_sentiment == {}
        again = pipeline.discover(con, s, HashEncoder(), OtherModel(), clusterer=make, run_id="r2", typer=CueTyper())
        assert again.stats.mode == "incremental" and again.stats.kept == len(assigned)
        assert again.embeddings == []  # everything it needed was cached by the first run
        # areas keep their ids and names on a rerun
        assert {(t.theme_id, t.area_id, t.area_label) for t in again.themes} == {
            (t.theme_id, t.area_id, t.area_label) for t in result.themes
        }
    finally:
        con.close()


def test_pain_segments_count_only_customers_below_the_middle_of_their_scale(tmp_path: Path) -> None:
    """The ``pain_segments`` view: a complaint from a 3-, 4- or 5-star item (the middle of 1–5 or above)
    is not pain; 1 and 2 stars are, and so is every complaint of a source without ratings."""
    from painpoints.connectors.base import FeedbackRecord

    class Negative(SignSentiment):
        def predict(self, X: np.ndarray, texts: object = None) -> tuple[list[str], np.ndarray]:
            return ["negative"] * len(X), -np.ones(len(X))

    texts = complaint_texts(15)
    records = [
        FeedbackRecord(source="shop", kind="review", text=t, external_id=f"r{i}", rating=float(1 + i % 5))
        for i, t in enumerate(texts)
    ]
    records += [
        FeedbackRecord(source="tickets", kind="ticket", text=f"ticket {t}", external_id=f"t{i}")
        for i, t in enumerate(texts)
    ]
    con, s = seeded_store(tmp_path, records)
    try:
        result = pipeline.discover(con, s, HashEncoder(), Negative(), clusterer=make, run_id="r1", typer=CueTyper())
        n = len(records)
        runstore.finish_run(con, runstore.start_run(con, {}), result.with_counts(n, EmbedReport(n)))
        complaints = con.execute(
            "SELECT feedback_id, segment, ft.source, f.rating FROM feedback_themes ft "
            "JOIN feedback f USING (feedback_id) WHERE ft.theme_id IS NOT NULL "
            "AND ft.feedback_type = 'problem' AND ft.sentiment <> 'positive'"
        ).fetchall()
        pain = set(con.execute("SELECT feedback_id, segment FROM pain_segments").fetchall())
        assert {r for *_, src, r in complaints if src == "shop"} == {1.0, 2.0, 3.0, 4.0, 5.0}  # every rating complains
        assert any(src == "tickets" for *_, src, _ in complaints)
        for fid, seg, src, rating in complaints:
            assert ((fid, seg) in pain) == (rating is None or rating <= 2), (src, rating)
    finally:
        con.close()
