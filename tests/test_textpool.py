"""Per-text rules on every core (``discovery.textpool``): spread over processes past a threshold, the
cue rules and the lexicon give exactly what they give in one process, in the texts' order."""

from __future__ import annotations

import numpy as np
import pytest

from painpoints.discovery import textpool
from painpoints.discovery.feedback_type import FeedbackTypeModel, text_cues
from painpoints.discovery.sentiment import lexicon_features, vader_scores

TEXTS = [
    "Please add a dark mode.",
    "The app crashes every time I open settings.",
    "How do I change my shipping address?",
    "I love it, works great!",
    "No problems at all with the delivery.",
    "I wish it didn't freeze on login.",
    "The fabric is thin but the colour is lovely.",
] * 9  # 63 texts: uneven chunks


def test_spread_over_processes_gives_the_same_results_in_order() -> None:
    assert textpool.map_texts(text_cues, TEXTS, workers=2, min_texts=1) == text_cues(TEXTS)
    assert textpool.map_texts(vader_scores, TEXTS, workers=2, min_texts=1) == vader_scores(TEXTS)
    assert textpool.map_texts(text_cues, [], workers=2, min_texts=0) == []


def test_models_read_the_same_with_and_without_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool is used past MIN_TEXTS texts in one predict call; its answers equal the in-process ones."""
    X = np.random.default_rng(0).standard_normal((len(TEXTS), 384)).astype(np.float32)
    typer = FeedbackTypeModel().fit()
    alone_types, alone_lexicon = typer.predict(X, TEXTS), lexicon_features(TEXTS)
    calls: list[int] = []
    spread = textpool.map_texts

    def counted(fn, texts, workers=None, min_texts=None):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return spread(fn, texts, workers=2, min_texts=min_texts)

    monkeypatch.setattr(textpool, "MIN_TEXTS", 10)
    monkeypatch.setattr("painpoints.discovery.feedback_type.map_texts", counted)
    monkeypatch.setattr("painpoints.discovery.sentiment.map_texts", counted)
    types, conf = typer.predict(X, TEXTS)
    assert types == alone_types[0] and np.allclose(conf, alone_types[1])
    assert np.array_equal(lexicon_features(TEXTS), alone_lexicon)
    assert calls == [len(TEXTS), len(TEXTS)]
