"""The shipped sentiment weights on the real embedding model."""

from __future__ import annotations

import numpy as np
import pytest

from painpoints.discovery.sentiment import CLASSES, NEUTRAL_BELOW, SentimentModel, lexicon_features


def test_weights_load_without_pickle_and_match_the_model() -> None:
    m = SentimentModel().fit()
    assert m.classes_ == CLASSES and m.coef_.shape == (3, 384) and m.model_name_ == "all-MiniLM-L6-v2"
    with pytest.raises(ValueError, match="expect 384-d"):
        m.predict(np.zeros((1, 10), np.float32))
    assert m.predict(np.zeros((0, 384), np.float32))[0] == []
    assert m.stack_coef_ is not None and m.stack_coef_.shape == (3, 7)  # 3 log-probabilities + 4 lexicon scores


def test_the_stack_reads_the_text_beside_the_vector() -> None:
    """Same vector, different words: with texts the lexicon half moves the verdict (a sentence's
    vector stands in for itself here); without texts the embedding classifier decides alone; a text
    per vector or an error."""
    m = SentimentModel().fit()
    x = np.zeros((2, 384), np.float32)  # a vector that says nothing: the classifier reads it as neutral
    texts = ["I love it, wonderful and perfect, thank you!", "Awful, terrible, the worst and I hate it."]
    alone, alone_scores = m.predict(x)
    labels, scores = m.predict(x, texts)
    assert alone == ["neutral", "neutral"] and alone_scores[0] == alone_scores[1]
    assert scores[0] > 0.5 > -0.5 > scores[1] and labels[0] == "positive" and labels[1] == "negative"
    with pytest.raises(ValueError, match="2 vectors for 1 texts"):
        m.predict(x, texts[:1])


@pytest.mark.slow
def test_obvious_sentences(embedder) -> None:
    texts = [
        "This app is fantastic, I love the new design!",
        "Terrible update, it crashes every time and I lost my data.",
        "The bank charged me a late fee twice and nobody answers my calls.",
        "What time does the store open on Sunday?",
        "Support fixed it in five minutes, thanks!",  # the embedding classifier alone called this negative
    ]
    labels, scores = SentimentModel().predict(embedder.encode(texts), texts)
    assert labels[0] == "positive" and scores[0] > 0.2
    assert labels[1] == "negative" and labels[2] == "negative" and scores[1] < -0.2
    assert labels[3] == "neutral" and labels[4] == "positive"


@pytest.mark.slow
def test_statements_without_sentiment_are_neutral_and_flat_complaints_stay_negative(embedder) -> None:
    """No lexicon sentiment word and an unsure stack: neutral (``NEUTRAL_BELOW``). A complaint told
    flatly has no sentiment word either, but the embeddings are sure of it."""
    neutral = ["Watching the game at my brother's place tonight.", "I took the train to the airport on Monday."]
    flat = ["The export button does nothing when I click it.", "The app logs me out every time I switch accounts."]
    texts = neutral + flat
    assert all(c == 0 for c in lexicon_features(texts)[:, 3])  # VADER finds nothing in any of them
    labels, scores = SentimentModel().predict(embedder.encode(texts), texts)
    assert labels == ["neutral", "neutral", "negative", "negative"]
    assert all(abs(s) < NEUTRAL_BELOW for s in scores[:2]) and all(s < -NEUTRAL_BELOW for s in scores[2:])
    assert SentimentModel().fit().key_.endswith(f"neutral{NEUTRAL_BELOW}")  # a rule change rescores all
