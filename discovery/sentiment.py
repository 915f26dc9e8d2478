"""Offline sentiment: a 3-class logistic regression on the sentence embeddings already computed.

Weights (a few KB, ``discovery/models/sentiment.npz``) are trained by ``benchmarks/train_sentiment.py``
on permissively licensed labelled reviews; no pickle is loaded, only arrays. The classifier belongs to
the embedding model it was trained on (recorded in the file); the pipeline embeds with that model for
sentiment when the clustering model differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "models" / "sentiment.npz"
CLASSES = ("negative", "neutral", "positive")


@dataclass
class SentimentModel:
    """Parameters
    ----------
    path : the ``.npz`` with ``coef`` (3 × d), ``intercept`` (3), ``classes`` and ``model``.

    Attributes
    ----------
    coef_, intercept_, classes_, model_name_ : loaded by ``fit()``.
    """

    path: Path = WEIGHTS

    def fit(self) -> SentimentModel:
        with np.load(self.path, allow_pickle=False) as data:
            self.coef_ = data["coef"].astype(np.float32)
            self.intercept_ = data["intercept"].astype(np.float32)
            self.classes_ = tuple(str(c) for c in data["classes"])
            self.model_name_ = str(data["model"])
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

    def predict(self, X: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Class per row and a score in −1..1 (P(positive) − P(negative))."""
        if len(X) == 0:
            return [], np.zeros(0)
        p = self.predict_proba(X)
        idx = {c: i for i, c in enumerate(self.classes_)}
        score = p[:, idx["positive"]] - p[:, idx["negative"]]
        return [self.classes_[i] for i in p.argmax(axis=1)], score
