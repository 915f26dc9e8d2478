"""The shipped sentiment weights on the real embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from painpoints.discovery.sentiment import CLASSES, SentimentModel


def test_weights_load_without_pickle_and_match_the_model() -> None:
    m = SentimentModel().fit()
    assert m.classes_ == CLASSES and m.coef_.shape == (3, 384) and m.model_name_ == "all-MiniLM-L6-v2"
    with pytest.raises(ValueError, match="expect 384-d"):
        m.predict(np.zeros((1, 10), np.float32))
    assert m.predict(np.zeros((0, 384), np.float32))[0] == []


@pytest.mark.slow
def test_obvious_sentences(embedder) -> None:
    texts = [
        "This app is fantastic, I love the new design!",
        "Terrible update, it crashes every time and I lost my data.",
        "The bank charged me a late fee twice and nobody answers my calls.",
        "What time does the store open on Sunday?",
    ]
    labels, scores = SentimentModel().predict(embedder.encode(texts))
    assert labels[0] == "positive" and scores[0] > 0.2
    assert labels[1] == "negative" and labels[2] == "negative" and scores[1] < -0.2
    assert labels[3] == "neutral"
