"""Per-segment text rules on every CPU: the VADER lexicon and the feedback-type cues.

Both are pure Python, one text at a time, and a full run applies them to every segment: in a
profile of the scale benchmark's 1M stand-in run (2026-12-03) VADER took ~245 s and the cue regexes
~145 s of the discover stage's 697 s, on one core while the other sat idle (without the profiler:
sentiment 98 s and typing 172 s of 479 s). Nothing else
in a run is that shape — the vector work is NumPy, DuckDB and UMAP, which use every core already.

``text_pool(workers)`` opens a process pool for the duration of a run's scoring stages (the pipeline
does, with the ``text_workers`` setting); inside it ``map_texts(fn, texts)`` cuts ``texts`` into
chunks and maps ``fn`` (a module-level function from a list of texts to a list of results) over
them, in order. Outside a pool, or for fewer than ``MIN_ROWS`` texts (a nightly run's few new
segments, every test), ``fn`` runs here: a pool only pays when there is a lot to do. The results are
the same either way — the functions are deterministic and see the same texts.

With ``engine = "ray"`` the chunks run as Ray tasks instead (``ray_engine.RayTextMap``, handed to
``text_pool`` as its ``mapper``): the cluster's CPUs score the texts, the driver keeps the vector
maths, which is one matrix product a block.

Local workers are forked, on Linux only: a forked worker starts at once, shares the parent's loaded
lexicon and regexes, and does not re-import the caller's ``__main__`` (spawn and forkserver do, which
breaks a user's script without an ``if __name__ == "__main__"`` guard). The parent holds DuckDB and
ONNX Runtime threads when it forks; a worker never touches them — it runs only the pure-Python
function it was given — so no lock they hold matters to it. Elsewhere (macOS, Windows) runs stay
serial.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from itertools import chain
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
MIN_ROWS = 20_000  # fewer texts than this are done in the calling process
CHUNK_ROWS = 4_096  # texts per task: big enough that pickling is noise, small enough to balance


class Mapper(Protocol):
    """What ``map_texts`` maps chunks with: a ``ProcessPoolExecutor``, or Ray tasks (``ray_engine``)."""

    def map(self, fn: Callable[[list[str]], list[Any]], chunks: list[list[str]]) -> Iterator[list[Any]]: ...


_POOL: ContextVar[Mapper | None] = ContextVar("painpoints_text_pool", default=None)


def cpu_count() -> int:
    """The CPUs this process may run on (a container's or taskset's share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def workers_for(setting: int) -> int:
    """Worker processes for the ``text_workers`` setting: 0 = one per CPU, else as set; 1 = none."""
    return cpu_count() if setting <= 0 else setting


@contextmanager
def text_pool(workers: int, mapper: Mapper | None = None) -> Iterator[None]:
    """Within the block, ``map_texts`` in this context uses ``mapper`` when given (Ray tasks), else
    ``workers`` local processes (``workers_for``). Local processes start on the first big map, not here,
    and stop when the block ends; an enclosing pool stays the one used."""
    if _POOL.get() is not None:
        yield
        return
    if mapper is not None:
        token = _POOL.set(mapper)
        try:
            yield
        finally:
            _POOL.reset(token)
        return
    n = workers_for(workers)
    if n <= 1 or not can_fork():
        yield
        return
    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork"))
    token = _POOL.set(pool)
    try:
        yield
    finally:
        _POOL.reset(token)
        pool.shutdown(wait=True, cancel_futures=True)


def map_texts(fn: Callable[[list[str]], list[T]], texts: Sequence[str]) -> list[T]:
    """``fn`` over ``texts`` in order: ``fn(list(texts))``, in chunks across the pool when one is open
    and there are at least ``MIN_ROWS`` texts."""
    pool = _POOL.get()
    if pool is None or len(texts) < MIN_ROWS:
        return fn(list(texts))
    chunks = [list(texts[i : i + CHUNK_ROWS]) for i in range(0, len(texts), CHUNK_ROWS)]
    return list(chain.from_iterable(pool.map(fn, chunks)))
