"""Per-text Python work (the feedback-type cue rules, the VADER lexicon) on every core.

Typing and sentiment run pure-Python rules over each segment's text, ~0.15 and ~0.1 ms a segment: the
largest share of a full run's scoring (typing was 311 of a 1M-segment discover's 679 s), on one core
while the others idle. Past ``MIN_TEXTS`` texts in one call the texts are cut into chunks for a pool of
processes, spawned rather than forked (a fork of a run's driver would copy DuckDB's and ONNX Runtime's
threads mid-flight); below it the pool's start-up (about half a second) costs more than it saves, and
the texts are done in this process. Results come back in the texts' order, so the output is the same
either way.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
MIN_TEXTS = 20_000  # texts in one call before they are spread over processes
CHUNKS_PER_WORKER = 4  # smaller chunks even out texts of unequal length


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def map_texts(
    fn: Callable[[list[str]], list[T]],
    texts: Sequence[str],
    workers: int | None = None,
    min_texts: int | None = None,
) -> list[T]:
    """``fn(texts)``, with ``fn`` a module-level function of a list of texts returning one result per
    text, on ``workers`` processes (default: every core) when there are at least ``min_texts`` texts
    (default ``MIN_TEXTS``), else in this process."""
    texts = list(texts)
    workers = workers or cores()
    if workers < 2 or not texts or len(texts) < (MIN_TEXTS if min_texts is None else min_texts):
        return fn(texts)
    size = -(-len(texts) // (workers * CHUNKS_PER_WORKER))
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [result for part in pool.map(fn, chunks) for result in part]
