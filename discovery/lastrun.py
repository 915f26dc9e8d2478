"""Last run's per-segment state (theme, feedback type, sentiment, and whether the text changed since),
aligned with this run's rows.

An incremental run keeps what did not change: a segment with the same text as last run keeps its theme,
type and sentiment, and themes whose members barely moved keep their names. That needs last run's
values beside each of this run's rows. They were held keyed by segment id (``segment_id →
(theme, content hash)``, as Arrow: ids and hashes again, ~107 bytes a segment at 1M, ~1 GB at 10M on top
of the run's own ids and hashes). ``read`` places them on this run's rows in one pass and keeps, per
row, only codes into the few distinct values, the score, and one "same text" flag: ~16 bytes a segment.

``LastRun`` stands where the dict did (``ThemeState.previous`` and its views ``previous_type``,
``previous_sentiment``): ``theme_and_same`` and ``columns.aligned`` read either, so the stages and their
tests work on both. Pure: the batches come from ``runinput.load_last_run``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from painpoints.discovery.coded import Coded
from painpoints.discovery.columns import ArrowColumn, aligned, narrowed, same_values, to_arrow, value_counts, whole
from painpoints.discovery.records import SCORE_TYPE

CODED = ("theme_id", "feedback_type", "sentiment")  # per-row codes into their distinct values
TEXT_HASHES = ("text_hash", "text_check")  # last run's content hash, hashed as ``runinput.key_hashes`` does


class LastRun(Mapping[str, Any]):
    """Last run's values of this run's rows: ``columns`` aligned with ``ids`` (this run's segment ids;
    null where a segment was not in last run), ``same`` whether its text is the one last run saw, and
    ``counts`` last run's segments per theme (all of them, in this run's window or not).

    The main instance (``with_hash``) reads like last run's ``segment → (theme, content hash)``: the
    hash part is this run's hash where the text is unchanged and null where it changed — equal to the
    stored hash exactly when the stored hash equals this run's, which is all a reader compares it for.
    ``view`` gives the other columns (type; sentiment and score) of the same rows."""

    def __init__(
        self,
        keys: Sequence[str],
        hashes: Sequence[str],
        same: np.ndarray,
        present: np.ndarray,
        columns: Sequence[pa.Array],
        counts: Mapping[str, int],
        with_hash: bool = False,
    ) -> None:
        self.ids, self.hashes, self.same, self.present = keys, hashes, same, present
        self.columns = list(columns)
        self.counts = dict(counts)
        self.with_hash = with_hash
        self._asked: list[Any] = [None, None]  # the last subset of keys looked up and its rows

    def view(self, columns: Sequence[pa.Array]) -> LastRun:
        """Other columns of the same rows (no hash part)."""
        return LastRun(self.ids, self.hashes, self.same, self.present, columns, self.counts)

    def rows(self, keys: Sequence[str]) -> np.ndarray | None:
        """This run's row of each of ``keys`` (−1 for a key not among them); None when ``keys`` is this
        run's own key column, the case of every stage."""
        if keys is self.ids:
            return None
        if self._asked[0] is not keys:
            run_keys = whole(to_arrow(self.ids, pa.string(), len(self.ids)))
            found = pc.index_in(to_arrow(keys, pa.string(), len(keys)), value_set=run_keys)
            self._asked[:] = [keys, np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)]
        return self._asked[1]

    def _take(self, array: pa.Array, rows: np.ndarray | None) -> ArrowColumn:
        if rows is None:
            return ArrowColumn(array)
        return ArrowColumn(array.take(pa.array(np.where(rows >= 0, rows, 0), mask=rows < 0)))

    def theme(self, keys: Sequence[str]) -> ArrowColumn:
        """Last run's value of part 0 (the theme, on the main instance) of each key."""
        return self._take(self.columns[0], self.rows(keys))

    def same_text(self, keys: Sequence[str]) -> np.ndarray:
        """Per key, whether last run saw its segment with the text it has now."""
        rows = self.rows(keys)
        return self.same if rows is None else np.where(rows >= 0, self.same[np.maximum(rows, 0)], False)

    def aligned(self, keys: Sequence[str]) -> list[ArrowColumn]:
        """Per column, the value of each of ``keys`` (null where last run did not have it)."""
        rows = self.rows(keys)
        out = [self._take(c, rows) for c in self.columns]
        if self.with_hash:  # this run's hash where the text is unchanged: compares equal exactly then
            hashes = whole(self._take(whole(to_arrow(self.hashes, pa.string(), len(self.ids))), rows).array)
            unchanged = pa.array(self.same_text(keys))
            out.append(ArrowColumn(pc.if_else(unchanged, hashes, pa.nulls(len(hashes), pa.string()))))
        return out

    def __getitem__(self, key: str) -> Any:
        rows = self.rows([key])
        assert rows is not None
        if rows[0] < 0 or not self.present[rows[0]]:
            raise KeyError(key)
        values = [c[0] for c in self.aligned([key])]
        return values[0] if len(values) == 1 else tuple(values)

    def __iter__(self) -> Iterator[str]:
        return (k for k, here in zip(self.ids, self.present.tolist(), strict=True) if here)

    def __len__(self) -> int:
        return int(self.present.sum())


def theme_and_same(
    previous: Mapping[str, Any], keys: Sequence[str], hashes: Sequence[str]
) -> tuple[Sequence[str | None], np.ndarray]:
    """Last run's theme of each key, and whether its text is unchanged since (same content hash): from
    a ``LastRun`` as held, from a dict ``segment → (theme, hash)`` by comparing hashes."""
    if isinstance(previous, LastRun):
        return previous.theme(keys), previous.same_text(keys)  # not the hash part: a 10M-row string array
    if not previous:  # no last run: not a walk over every key and its hash (a first run at 10M segments)
        return Coded.filled(len(keys), None), np.zeros(len(keys), dtype=bool)
    last_theme, last_hash = aligned(previous, keys, 2)
    return last_theme, same_values(last_hash, hashes)


def theme_counts(previous: Mapping[str, Any]) -> dict[Any, int]:
    """Last run's segments per theme."""
    if isinstance(previous, LastRun):
        return dict(previous.counts)  # over all of last run's rows, in this run's window or not
    return value_counts(previous, 0)


class Builder:
    """Places last run's rows (batches of ``theme_id``, ``TEXT_HASHES`` of its content hash,
    ``feedback_type``, ``sentiment``, ``sentiment_score``) on this run's rows: ``add`` a batch with, for
    each of this run's rows it holds, the batch position (``at``) and the run row (``rows``)."""

    def __init__(self, keys: Sequence[str], hashes: Sequence[str], texts: np.ndarray) -> None:
        n = len(keys)
        self.ids, self.hashes = keys, hashes
        self._texts = texts  # (n, 2) uint64: each row's content hash, hashed as the batches' TEXT_HASHES
        self.present = np.zeros(n, dtype=bool)
        self.same = np.zeros(n, dtype=bool)
        self.codes = {c: np.full(n, -1, np.int16) for c in CODED}  # widened past 32,767 values (``add``)
        self.values: dict[str, dict[str, int]] = {c: {} for c in CODED}
        self.score = np.full(n, np.nan, SCORE_TYPE)
        self.counts: Counter[str] = Counter()

    def add(self, batch: pa.RecordBatch, at: np.ndarray, rows: np.ndarray) -> None:
        for c in pc.value_counts(batch.column("theme_id")).to_pylist():
            if c["values"] is not None:
                self.counts[c["values"]] += c["counts"]
        if not len(rows):
            return
        taken = pa.array(at)
        self.present[rows] = True
        old = np.stack([_uint64(batch.column(c).take(taken)) for c in TEXT_HASHES], axis=1)
        self.same[rows] = (old == self._texts[rows]).all(axis=1)
        for name in CODED:
            encoded = batch.column(name).take(taken).dictionary_encode()
            known = self.values[name]
            index = np.array([known.setdefault(v, len(known)) for v in encoded.dictionary.to_pylist()] + [-1], np.int32)
            if len(known) > np.iinfo(self.codes[name].dtype).max:
                self.codes[name] = self.codes[name].astype(np.int32)
            local = pc.fill_null(encoded.indices, len(index) - 1).to_numpy(zero_copy_only=False)
            self.codes[name][rows] = index[local]
        score = batch.column("sentiment_score").take(taken)
        self.score[rows] = pc.fill_null(score, np.nan).to_numpy(zero_copy_only=False)

    def finish(self) -> tuple[LastRun, LastRun, LastRun]:
        """``(previous, previous_type, previous_sentiment)`` as ``ThemeState`` holds them."""
        coded = {name: _dictionary(self.codes[name], self.values[name]) for name in CODED}
        score = pa.array(self.score, mask=np.isnan(self.score))
        previous = LastRun(
            self.ids, self.hashes, self.same, self.present, [coded["theme_id"]], self.counts, with_hash=True
        )
        return previous, previous.view([coded["feedback_type"]]), previous.view([coded["sentiment"], score])


def _uint64(column: pa.Array) -> np.ndarray:
    """A hash column as uint64; a null (no text last run) as 0, which no text's two hashes both are
    (nulls would make NumPy floats of it, which lose the low bits)."""
    return pc.fill_null(column, 0).to_numpy(zero_copy_only=False).astype(np.uint64)


def _dictionary(codes: np.ndarray, values: Mapping[str, int]) -> pa.Array:
    """Codes (−1 = null) into ``values`` (value → code) as a dictionary array."""
    names: list[str] = [""] * len(values)
    for v, i in values.items():
        names[i] = v
    return narrowed(pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(names, pa.string())))


def read(
    keys: Sequence[str],
    hashes: Sequence[str],
    texts: np.ndarray,
    batches: Iterable[tuple[pa.RecordBatch, np.ndarray, np.ndarray]],
) -> tuple[LastRun, LastRun, LastRun]:
    """Last run's state on this run's rows from ``(batch, at, rows)`` triples (``Builder.add``); ``texts``
    are two 64-bit hashes of each row's content hash, which the batches bring as ``TEXT_HASHES`` for
    last run's (the content hashes themselves were 440 MB at 10M segments, held through the pass)."""
    builder = Builder(keys, hashes, texts)
    for batch, at, rows in batches:
        builder.add(batch, at, rows)
    return builder.finish()
