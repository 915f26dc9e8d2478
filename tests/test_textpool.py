"""The text pool: per-text rules across processes give what they give in the run's process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from painpoints.discovery import textpool
from painpoints.discovery.feedback_type import FeedbackTypeModel
from painpoints.discovery.sentiment import lexicon_features
from painpoints.discovery.textpool import map_texts, text_pool

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not textpool.can_fork(), reason="the pool forks its workers (Linux)")


def pids(texts: list[str]) -> list[tuple[str, int]]:
    return [(t, os.getpid()) for t in texts]


def review_sentences() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "data/feedback_type/heldout.jsonl").read_text().splitlines()]
    return [r["text"] for r in rows]


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool that works on a test's few hundred texts, in several chunks."""
    monkeypatch.setattr(textpool, "MIN_ROWS", 50)
    monkeypatch.setattr(textpool, "CHUNK_ROWS", 37)


def test_outside_a_pool_and_below_min_rows_the_work_stays_here(small_pool: None) -> None:
    texts = [f"t{i}" for i in range(200)]
    assert {p for _, p in map_texts(pids, texts)} == {os.getpid()}
    with text_pool(2):
        assert {p for _, p in map_texts(pids, texts[:49])} == {os.getpid()}
    with text_pool(1):  # one worker = none
        assert {p for _, p in map_texts(pids, texts)} == {os.getpid()}


def test_a_pool_keeps_order_and_runs_in_other_processes(small_pool: None) -> None:
    texts = [f"t{i}" for i in range(500)]
    with text_pool(2):
        got = map_texts(pids, texts)
    assert [t for t, _ in got] == texts
    assert os.getpid() not in {p for _, p in got}


def test_lexicon_and_cues_are_the_same_in_the_pool(small_pool: None) -> None:
    texts = review_sentences()
    assert len(texts) > 300
    X = np.random.default_rng(0).normal(size=(len(texts), 384)).astype(np.float32)
    model = FeedbackTypeModel().fit()
    here_lex, (here_types, here_conf) = lexicon_features(texts), model.predict(X, texts)
    with text_pool(2):
        lex, (types, conf) = lexicon_features(texts), model.predict(X, texts)
    assert np.array_equal(lex, here_lex)
    assert types == here_types and np.array_equal(conf, here_conf)
    assert len(set(types)) >= 4  # the cues did decide: not every row fell to the random vectors
