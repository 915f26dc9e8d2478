"""Offline sentiment: a 3-class logistic regression on the sentence embeddings already computed,
stacked with the VADER lexicon's scores of the text.

Weights (a few KB, ``discovery/models/sentiment.npz``) are trained by ``benchmarks/train_sentiment.py``
on permissively licensed labelled reviews; no pickle is loaded, only arrays. The classifier belongs to
the embedding model it was trained on (recorded in the file); the pipeline embeds with that model for
sentiment when the clustering model differs.

The stack: a second logistic regression reads the embedding classifier's log-probabilities (out of fold
on the training set) beside VADER's ``neg``, ``neu``, ``pos`` and ``compound`` of the text. Each is
right where the other is weak — the embeddings on complaints told in a flat, factual voice, the lexicon
on long mixed answers ("the agent was nice but the car was late") and short thanks — and the stack beat
both on every held-out set (RESULTS.md, "Offline sentiment"). It costs ~0.1 ms a text (pure Python).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from painpoints.discovery.textpool import map_texts

WEIGHTS = Path(__file__).resolve().parent / "models" / "sentiment.npz"
CLASSES = ("negative", "neutral", "positive")
# A text the lexicon finds no sentiment word in (VADER compound 0) and the stack is unsure of
# (|P(positive) − P(negative)| below this) is neutral: the classifier's only neutral training rows are
# questions, so a neutral statement ("Watching the game tonight") had nowhere to go but a polarity.
# Complaints in a flat voice stay negative: the embeddings are sure of them (RESULTS.md, "Short social
# text"). Part of ``SentimentModel.key_``: a change rescores every segment once.
NEUTRAL_BELOW = 0.5
RULES = f"neutral{NEUTRAL_BELOW}"


@dataclass
class SentimentModel:
    """Parameters
    ----------
    path : the ``.npz`` with ``coef`` (3 × d), ``intercept`` (3), ``classes`` and ``model``, and
        optionally the stack over them and the lexicon: ``stack_coef`` (3 × 7), ``stack_intercept`` (3).

    Attributes
    ----------
    coef_, intercept_, classes_, model_name_ : loaded by ``fit()``; ``stack_coef_``, ``stack_intercept_``
        too when the file has a stack (else None).
    key_ : the embedding model and a digest of the weights file. Runs record it (``runs.stats``) and an
        incremental run keeps last run's per-segment sentiment only when it was scored by the same key:
        new weights (an upgrade) rescore every segment once.
    """

    path: Path = WEIGHTS

    def fit(self) -> SentimentModel:
        """Load the weights, once per path: a run fits to read ``key_`` before it scores, and scoring
        fits again."""
        if getattr(self, "_loaded_from", None) == self.path:
            return self
        raw = Path(self.path).read_bytes()  # read once: loaded and hashed
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            self.coef_ = data["coef"].astype(np.float32)
            self.intercept_ = data["intercept"].astype(np.float32)
            self.classes_ = tuple(str(c) for c in data["classes"])
            self.model_name_ = str(data["model"])
            stacked = "stack_coef" in data.files
            self.stack_coef_ = data["stack_coef"].astype(np.float32) if stacked else None
            self.stack_intercept_ = data["stack_intercept"].astype(np.float32) if stacked else None
        self.key_ = f"{self.model_name_}:{hashlib.sha256(raw).hexdigest()[:12]}:{RULES}"
        self._loaded_from = self.path
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            self.fit()
        if X.shape[1] != self.coef_.shape[1]:
            raise ValueError(
                f"sentiment weights expect {self.coef_.shape[1]}-d vectors of {self.model_name_!r}, got {X.shape[1]}-d"
            )
        logits = X @ self.coef_.T + self.intercept_
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray, texts: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Class per row and a score in −1..1 (P(positive) − P(negative)). ``texts`` are the rows' texts
        (same order): with them the stack decides, and a text without a lexicon sentiment word that the
        stack is unsure of is neutral (``NEUTRAL_BELOW``); without them the embedding classifier alone."""
        if len(X) == 0:
            return [], np.zeros(0)
        p = self.predict_proba(X)
        lexicon = None
        if texts is not None and self.stack_coef_ is not None:
            if len(texts) != len(X):
                raise ValueError(f"{len(X)} vectors for {len(texts)} texts")
            lexicon = lexicon_features(texts)
            p = stacked_proba(p, lexicon, self.stack_coef_, self.stack_intercept_)
        idx = {c: i for i, c in enumerate(self.classes_)}
        score = p[:, idx["positive"]] - p[:, idx["negative"]]
        best = p.argmax(axis=1)
        if lexicon is not None and "neutral" in idx:
            best[(lexicon[:, 3] == 0) & (np.abs(score) < NEUTRAL_BELOW)] = idx["neutral"]
        return [self.classes_[i] for i in best.tolist()], score


def stack_features(p: np.ndarray, lexicon: np.ndarray) -> np.ndarray:
    """The stack's input: the embedding classifier's log-probabilities beside the lexicon's scores."""
    return np.hstack([np.log(p + 1e-6), lexicon]).astype(np.float32)


def stacked_proba(p: np.ndarray, lexicon: np.ndarray, coef: np.ndarray, intercept: Any) -> np.ndarray:
    logits = stack_features(p, lexicon) @ coef.T + intercept
    logits -= logits.max(axis=1, keepdims=True)
    q = np.exp(logits)
    return q / q.sum(axis=1, keepdims=True)


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def lexicon_features(texts: Sequence[str]) -> np.ndarray:
    """VADER's ``neg``, ``neu``, ``pos`` and ``compound`` per text, ``(n, 4)``; across the run's
    text pool when one is open (``textpool``: VADER is pure Python, most of a big run's sentiment stage)."""
    rows = map_texts(vader_scores, texts)
    return np.array(rows, np.float32).reshape(-1, 4)


def vader_scores(texts: list[str]) -> list[tuple[float, float, float, float]]:
    """``lexicon_features``' rows as plain tuples (what a pool worker sends back)."""
    out = []
    for t in texts:
        d = _vader().polarity_scores(t)
        out.append((d["neg"], d["neu"], d["pos"], d["compound"]))
    return out
