"""The swappable components of a discovery run, as ``typing.Protocol``s, and a trivial stand-in for
each (BERTopic-style slots: ``discovery.pipeline.discover`` takes them as arguments).

A component follows sklearn's rules: the constructor only stores its parameters, ``fit`` does the
work and returns ``self``, learned state ends in ``_``. The real ones are ``embed.Embedder``,
``sentiment.SentimentModel``, ``label.OfflineLabeler``, ``cluster.ThemeClusterer`` and
``llm.LLMLabeler``; the stand-ins below need no model, no UMAP and no network, so a unit test of a
step runs in milliseconds on tiny vectors.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from painpoints.discovery.coded import Coded
from painpoints.discovery.records import ThemeName
from painpoints.discovery.vectors import UNASSIGNED, centroids

if TYPE_CHECKING:
    from painpoints.discovery.llm import LLMReport, ThemeRequest

Encode = Callable[[Sequence[str]], np.ndarray]
CacheGet = Callable[[str], "dict[str, Any] | None"]  # LLM reply cache: cache key → parsed reply


class Encoder(Protocol):
    """Texts → L2-normalised vectors. ``key`` names the vectors in the embedding cache (model +
    precision): vectors of two keys never mix."""

    @property
    def key(self) -> str: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentimentClassifier(Protocol):
    """Per-row sentiment of vectors and their texts: a class (negative | neutral | positive) and a score
    in −1..1. An optional ``model_name_`` (set by ``fit``) names the embedding model it was trained on;
    the pipeline embeds with that model when the run's model differs."""

    def fit(self) -> Any: ...

    def predict(self, X: np.ndarray, texts: Sequence[str] | None = None) -> tuple[Sequence[str], np.ndarray]: ...


class FeedbackTyper(Protocol):
    """Per-row feedback type (problem | request | question | praise | other) of vectors and their
    texts, with a confidence in 0..1 (``discovery.feedback_type.FeedbackTypeModel``)."""

    def fit(self) -> Any: ...

    def predict(self, X: np.ndarray, texts: Sequence[str]) -> tuple[Sequence[str], np.ndarray]: ...


class Labeler(Protocol):
    """Names themes offline: one ``ThemeName`` per theme index. ``encode`` embeds candidate phrases;
    ``fixed`` labels (kept or curated) are used as given and never handed to another theme."""

    def name(
        self,
        texts: Sequence[str],
        X: np.ndarray,
        labels: np.ndarray,
        centroids: np.ndarray,
        encode: Encode | None = None,
        fixed: dict[int, str] | None = None,
    ) -> list[ThemeName]: ...


class Clusterer(Protocol):
    """Vectors → themes. After ``fit``: ``labels_`` (theme index per row, −1 unassigned, numbered by
    decreasing size), ``how_`` (cluster | reassigned | assigned | outlier per row: an object array, or
    a ``Coded`` where rows are many), ``centroids_`` (normalised, one per theme) and
    ``min_cluster_size_`` (the value used)."""

    labels_: np.ndarray
    how_: np.ndarray | Coded
    centroids_: np.ndarray
    min_cluster_size_: int

    def fit(self, X: np.ndarray) -> Clusterer: ...


class ClustererFactory(Protocol):
    """Builds an unfitted clusterer; ``leftovers`` when it clusters an incremental run's leftovers
    (which may well be one new topic), ``min_items`` the smallest theme in rows of what it is fit on
    (``ThemeClusterer.min_items``; a factory may ignore it)."""

    def __call__(
        self, min_cluster_size: int | None, leftovers: bool = False, min_items: int | None = None
    ) -> Clusterer: ...


class LLMNamer(Protocol):
    """Names themes (and optionally judges segment sentiment) with an LLM; every call, cached or
    not, lands in ``LLMReport.calls``."""

    def name(
        self,
        requests: list[ThemeRequest],
        cache_get: CacheGet,
        run_id: str | None = None,
        report: LLMReport | None = None,
    ) -> LLMReport: ...

    def classify_sentiment(
        self,
        texts: list[str],
        cache_get: CacheGet,
        run_id: str | None = None,
        report: LLMReport | None = None,
        batch: int = 25,
    ) -> tuple[list[str | None], LLMReport]: ...


# ------------------------------------------------------------------------------------ stand-ins
@dataclass
class HashEncoder:
    """Stand-in ``Encoder``: a unit vector per text from its SHA-1, so equal texts get equal vectors."""

    dim: int = 8

    @property
    def key(self) -> str:
        return f"hash-{self.dim}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            raw = np.frombuffer(hashlib.sha1(text.encode()).digest()[: self.dim], np.uint8)
            v = raw.astype(np.float32) - 127.5
            out[i] = v / (np.linalg.norm(v) or 1.0)
        return out


@dataclass
class SignSentiment:
    """Stand-in ``SentimentClassifier``: negative when the first coordinate is below zero."""

    def fit(self) -> SignSentiment:
        return self

    def predict(self, X: np.ndarray, texts: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        score = np.clip(np.asarray(X)[:, 0], -1, 1) if len(X) else np.zeros(0)
        return ["negative" if s < 0 else "positive" for s in score], score


@dataclass
class CueTyper:
    """Stand-in ``FeedbackTyper``: "please add" / "wish" → request, "love" / "great" → praise,
    a trailing "?" → question, anything else → problem."""

    def fit(self) -> CueTyper:
        return self

    def predict(self, X: np.ndarray, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        def kind(text: str) -> str:
            low = text.lower()
            if "please add" in low or "wish" in low:
                return "request"
            if "love" in low or "great" in low:
                return "praise"
            return "question" if low.rstrip().endswith("?") else "problem"

        return [kind(t) for t in texts], np.ones(len(texts))


@dataclass
class FirstTextLabeler:
    """Stand-in ``Labeler``: a theme is named "Theme <i>: <first words of its first member>"."""

    words: int = 3

    def name(
        self,
        texts: Sequence[str],
        X: np.ndarray,
        labels: np.ndarray,
        centroids: np.ndarray,
        encode: Encode | None = None,
        fixed: dict[int, str] | None = None,
    ) -> list[ThemeName]:
        out = []
        for t in range(len(centroids)):
            members = [texts[i] for i in np.flatnonzero(labels == t).tolist()]
            label = (fixed or {}).get(t) or f"Theme {t}: " + " ".join(members[0].split()[: self.words])
            out.append(ThemeName(label, f"{len(members)} segments.", members[0].split()[:2], members[:2]))
        return out


@dataclass
class AxisClusterer:
    """Stand-in ``Clusterer``: a row belongs to the axis of its largest coordinate when that
    coordinate reaches ``threshold`` (else unassigned); themes are numbered by decreasing size."""

    min_cluster_size: int | None = None
    threshold: float = 0.5

    def fit(self, X: np.ndarray) -> AxisClusterer:
        X = np.asarray(X, np.float32)
        axis = X.argmax(axis=1) if len(X) else np.zeros(0, int)
        raw = np.where(X[np.arange(len(X)), axis] >= self.threshold, axis, UNASSIGNED) if len(X) else axis
        ids = sorted({int(a) for a in raw if a >= 0}, key=lambda a: (-int((raw == a).sum()), a))
        self.labels_ = np.array([ids.index(a) if a >= 0 else UNASSIGNED for a in raw], dtype=int)
        self.how_ = np.array(["outlier", "cluster"], dtype=object)[(self.labels_ >= 0).astype(np.intp)]  # shared strs
        self.centroids_ = centroids(X, self.labels_, len(ids))
        self.min_cluster_size_ = self.min_cluster_size or 2
        return self


@dataclass
class EchoLLM:
    """Stand-in ``LLMNamer``: labels a theme "LLM: <its first phrase>" and calls every text neutral,
    recording one call per request like the real labeler."""

    def name(
        self,
        requests: list[ThemeRequest],
        cache_get: CacheGet,
        run_id: str | None = None,
        report: LLMReport | None = None,
    ) -> LLMReport:
        from painpoints.discovery.llm import LLMReport, ThemeNaming

        report = report or LLMReport()
        for req in requests:
            phrase = (req.phrases or ["general issue"])[0]
            report.results[req.theme] = ThemeNaming(f"LLM: {phrase}", f"About {phrase}.", "negative", "low", "Area")
            report.calls.append(_echo_call(f"theme-{req.theme}", run_id))
            report.requests += 1
        return report

    def classify_sentiment(
        self,
        texts: list[str],
        cache_get: CacheGet,
        run_id: str | None = None,
        report: LLMReport | None = None,
        batch: int = 25,
    ) -> tuple[list[str | None], LLMReport]:
        from painpoints.discovery.llm import LLMReport

        report = report or LLMReport()
        report.calls.append(_echo_call("sentiment", run_id))
        return ["neutral"] * len(texts), report


def _echo_call(key: str, run_id: str | None) -> dict[str, Any]:
    """A row of ``llm_calls`` as the real labeler records it (nothing was sent)."""
    return {
        "call_id": uuid.uuid4().hex,
        "run_id": run_id,
        "cache_key": key,
        "model": "echo",
        "base_url": None,
        "messages": "[]",
        "response": None,
        "parsed": None,
        "status": "ok",
        "error": None,
        "tokens_in": 0,
        "tokens_out": 0,
        "latency_ms": 0,
    }
