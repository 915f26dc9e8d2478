"""Per-segment scores of a discovery run: sentiment class and score, feedback type.

Both are per segment and computed on the run's vectors (or, for a classifier trained on another
embedding model, on that model's vectors through the embedding cache). An incremental run keeps last
run's values for segments whose text did not change (``Kept``), so only new or changed text is scored;
a full run over more vectors than ``vectors_in_memory`` scores them in blocks (``row_blocks``) and
never holds them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from painpoints.discovery.coded import Coded
from painpoints.discovery.columns import aligned, dictionary_codes, floats, present, take
from painpoints.discovery.components import Encoder, FeedbackTyper, SentimentClassifier
from painpoints.discovery.embed import Embedder
from painpoints.discovery.lastrun import theme_and_same
from painpoints.discovery.lazy_vectors import BLOCK_ROWS, in_memory
from painpoints.discovery.records import SCORE_TYPE, Scores
from painpoints.discovery.runinput import RunInput
from painpoints.discovery.runstore import ThemeState
from painpoints.discovery.settings import Settings


def side_embedder(model: str, settings: Settings) -> Embedder:
    """An embedder of another model than the run's, with the run's batch size and precision."""
    return Embedder(model=model, batch_size=settings.embed_batch_size, precision=settings.embed_precision)


def score_sentiment(
    data: RunInput,
    sentiment: SentimentClassifier,
    settings: Settings,
    encoder_for: Callable[[str], Encoder],
    kept: Kept | None = None,
) -> Scores:
    """Sentiment class and score (−1..1) per segment, on ``classifier_vectors``; rows ``kept`` keep
    the class and score given (incremental runs: only new or changed text is scored)."""
    kept = kept or Kept.none(len(data.text))
    todo = kept.todo()
    labels = kept.strings(0, "")
    scores = kept.numbers(1, 0.0)
    if todo is None or len(todo):
        fitted = sentiment.fit()
        for part in row_blocks(data, todo):
            vectors = classifier_vectors(fitted, data, settings, encoder_for, part)
            got, got_scores = fitted.predict(vectors, take(data.text, part))
            labels.codes[part] = [labels.code(label) for label in got]
            scores[part] = np.asarray(got_scores, dtype=SCORE_TYPE)
    return Scores(labels, scores)


def row_blocks(data: RunInput, rows: np.ndarray | None) -> Iterator[np.ndarray]:
    """``rows`` (None: every row) at once when the vectors are in memory, else in blocks of
    ``BLOCK_ROWS`` (a full run over more vectors than ``vectors_in_memory`` never holds them all).
    Every row goes as ranges made block by block, not one int64 array of them all (80 MB at 10M)."""
    n = len(data.text) if rows is None else len(rows)
    if in_memory(data.vectors):
        yield np.arange(n) if rows is None else rows
        return
    for start in range(0, n, BLOCK_ROWS):
        yield np.arange(start, min(n, start + BLOCK_ROWS)) if rows is None else rows[start : start + BLOCK_ROWS]


@dataclass
class Kept:
    """The rows whose value stands from last run (``mask``) and last run's values for every row, one
    aligned sequence per part (type; or sentiment and score): arrays, not a dict of 10M rows."""

    mask: np.ndarray
    values: list[Sequence[Any]]

    @classmethod
    def none(cls, n: int) -> Kept:
        """Nothing kept (a full run)."""
        return cls(np.zeros(n, dtype=bool), [])

    def todo(self) -> np.ndarray | None:
        """The rows to score (not kept); None for every row (``row_blocks`` makes them block by block)."""
        return None if len(self.mask) and not self.mask.any() else np.flatnonzero(~self.mask)

    def strings(self, part: int, default: str) -> Coded:
        """Part ``part`` as codes into its few values (a tone, a type), ``default`` where not kept."""
        out = Coded.filled(len(self.mask), default)
        if self.mask.any():
            idx, names = dictionary_codes(self.values[part])
            to_out = np.array([out.code(v) for v in names], dtype=np.int64)
            rows = self.mask & (idx >= 0)
            out.codes[rows] = to_out[idx[rows]]
        return out

    def numbers(self, part: int, default: float) -> np.ndarray:
        """Part ``part`` as float32 (a sentiment score: ``SCORE_TYPE``), ``default`` where not kept."""
        if not self.mask.any():
            return np.full(len(self.mask), default, SCORE_TYPE)
        return np.where(self.mask, floats(self.values[part], default), default).astype(SCORE_TYPE)


def kept_sentiments(data: RunInput, state: ThemeState, model_key: str | None = None) -> Kept | None:
    """Last run's (sentiment, score) for the segments an incremental run finds unchanged (same id, same
    text), when last run scored them with the same model (``model_key``, recorded in ``runs.stats``);
    None after a model change, so every segment is scored again once (sentiment is per segment, so a
    verdict stands while its model does)."""
    if (state.stats.sentiment_model if state.stats else None) != model_key:
        return None
    return kept_from(data, state, state.previous_sentiment, 2)


def kept_from(data: RunInput, state: ThemeState, last: Mapping[str, Any], width: int) -> Kept:
    """``last``'s values aligned with the run's rows, kept where the segment has the same text as in
    the last run and a value."""
    _, same = theme_and_same(state.previous, data.segment_id, data.content_hash)
    values = aligned(last, data.segment_id, width)
    return Kept(same & present(values[0]), values)


def classifier_vectors(
    classifier: object,
    data: RunInput,
    settings: Settings,
    encoder_for: Callable[[str], Encoder],
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """The vectors a fitted classifier reads for ``rows`` (default all): the run's (the shipped heads are
    trained on fp32 vectors; int8 ones are within ~0.99 cosine) unless it was trained on another
    embedding model (``model_name_``), whose vectors ``encoder_for(model)`` makes through the cache."""
    rows = np.arange(len(data.text)) if rows is None else rows
    model = getattr(classifier, "model_name_", settings.embed_model)
    if model == settings.embed_model:
        return data.vectors[rows]
    return encoder_for(model).encode(take(data.text, rows))


def default_typer() -> FeedbackTyper:
    """The offline feedback-type model (cue rules + a classifier on the run's vectors)."""
    from painpoints.discovery.feedback_type import FeedbackTypeModel

    return FeedbackTypeModel()


def kept_types(data: RunInput, state: ThemeState, model_key: str | None = None) -> Kept | None:
    """Last run's feedback type for the segments an incremental run finds unchanged since the last
    run (same id, same text), when the same weights and cue rules typed them (``model_key``, recorded in
    ``runs.stats.type_model``): typing is per segment, so theirs stands and is not recomputed. None
    after a change of either, so every segment is typed again once."""
    if (state.stats.type_model if state.stats else None) != model_key:
        return None
    return kept_from(data, state, state.previous_type, 1)


def score_types(
    data: RunInput,
    typer: FeedbackTyper,
    settings: Settings,
    encoder_for: Callable[[str], Encoder],
    kept: Kept | None = None,
) -> Coded:
    """Feedback type per segment (problem | request | question | praise | other), on ``classifier_vectors``;
    rows ``kept`` keep the type given (incremental runs: only new or changed text is typed)."""
    kept = kept or Kept.none(len(data.text))
    todo = kept.todo()
    out = kept.strings(0, "")
    if todo is None or len(todo):
        fitted = typer.fit()
        for part in row_blocks(data, todo):
            vectors = classifier_vectors(fitted, data, settings, encoder_for, part)
            types, _ = fitted.predict(vectors, take(data.text, part))
            out.codes[part] = [out.code(kind) for kind in types]
    return out
