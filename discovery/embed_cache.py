"""The embedding cache: vectors in DuckDB's ``embeddings`` table, keyed by (content hash, model key),
so a rerun embeds only text it has not seen.

Two ways in, and the difference is who writes:

* ``embed_missing`` is the flow's *embed* step: it embeds every segment text the cache lacks and
  writes each chunk as it goes (a crash loses at most one chunk).
* ``CachingEncoder`` is how discovery embeds anything else (label phrases, texts for a sentiment
  model of another embedding model): it reads the cache and *collects* what it had to compute;
  nothing is written until the caller hands ``new_embeddings()`` to the store (``runstore.finish_run``
  writes them with the run). Discovery itself therefore never writes to the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import duckdb
import numpy as np

from painpoints.discovery import segmentstore, store
from painpoints.discovery.components import Encoder
from painpoints.discovery.embed import encode_chunks
from painpoints.discovery.lazy_vectors import Lookup
from painpoints.discovery.normalize import content_hash
from painpoints.discovery.records import NewEmbeddings


def embed_missing(con: duckdb.DuckDBPyConnection, embedder: Encoder) -> int:
    """Embed every segment text with no cached vector for ``embedder.key``, writing each chunk to
    the cache as it is done; returns how many texts were embedded."""
    total, todo = segmentstore.stream_texts_to_embed(con, embedder.key)  # streamed: 10M texts are never all held
    checkpoints = store.Checkpoints(con)

    def write(hashes: list[str], vectors: np.ndarray) -> None:
        checkpoints.wrote(store.atomic(con, lambda: segmentstore.insert_embeddings(con, embedder.key, hashes, vectors)))

    done = encode_chunks(embedder, todo, write, total)
    checkpoints.now()
    return done


@dataclass
class CachingEncoder:
    """An ``Encoder`` reading through the embedding cache; what it computes is kept, not written.

    Parameters
    ----------
    embedder : computes the vectors the cache lacks (its ``key`` is the cache key).
    lookup : ``(key, hashes) -> {hash: vector}`` of the cached ones, e.g. ``cache_lookup(con)``.

    Attributes
    ----------
    computed_ : content hash → vector of every text this encoder had to embed, in computation order.
    """

    embedder: Encoder
    lookup: Lookup

    @property
    def key(self) -> str:
        return self.embedder.key

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``: cached, computed earlier by this encoder, or computed now (missing
        texts in content-hash order, in chunks, as the embed step does, so vectors are the same)."""
        if not hasattr(self, "computed_"):
            self.computed_: dict[str, np.ndarray] = {}
        computed = self.computed_
        hashes = [content_hash(t) for t in texts]
        found = self.lookup(self.key, hashes)
        found.update({h: computed[h] for h in hashes if h in computed and h not in found})
        missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in found}.items())
        encode_chunks(self.embedder, missing, lambda done, vectors: computed.update(zip(done, vectors, strict=True)))
        found.update({h: computed[h] for h, _ in missing})
        return np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, 0), np.float32)

    def new_embeddings(self) -> NewEmbeddings | None:
        """The vectors this encoder computed, for the store to cache; None when it computed none."""
        computed: dict[str, np.ndarray] = getattr(self, "computed_", {})
        if not computed:
            return None
        return NewEmbeddings(self.key, list(computed), np.stack(list(computed.values())))


def cache_lookup(con: duckdb.DuckDBPyConnection) -> Lookup:
    """The cache reader for ``CachingEncoder`` over an open store (reads only)."""
    return partial(segmentstore.cached_vectors, con)


def encode_cached(con: duckdb.DuckDBPyConnection, embedder: Encoder, texts: Sequence[str]) -> np.ndarray:
    """Vectors for arbitrary ``texts`` through the cache, writing the ones it computed back at once
    (for scripts and benchmarks; a discovery run collects them instead, see the module docstring)."""
    encoder = CachingEncoder(embedder, cache_lookup(con))
    vectors = encoder.encode(texts)
    if (new := encoder.new_embeddings()) is not None:
        segmentstore.insert_embeddings(con, new.model, new.hashes, new.vectors)
    return vectors
