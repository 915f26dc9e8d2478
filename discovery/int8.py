"""int8 sentence embeddings: the sentence-transformers model exported to ONNX, weights quantized to
int8 per channel, run by ONNX Runtime.

Why: on this class of CPU (AVX-512 VNNI) ONNX Runtime's int8 matrix kernels make MiniLM 2–3× faster
than the fp32 PyTorch forward pass, and embedding is the slowest stage of a cold run. PyTorch's own
dynamic quantization was tried and lost too much (median cosine 0.976 to fp32); ONNX Runtime's keeps
the median at ≈0.993 (``python -m benchmarks.embedding`` measures it on every run).

The ONNX file is built once per model from the local weights (the export alone took 0.9 s here;
quantization was not timed apart) and kept under ``$PAINPOINTS_CACHE_DIR`` (default
``~/.cache/painpoints``); nothing is downloaded.
Only local BERT-style models whose pipeline is Transformer → mean pooling (→ Normalize) and that ship a
``tokenizer.json`` are supported (the bundled all-MiniLM-L6-v2 is one); for anything else a clear
error says to set ``embed_precision = "fp32"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# Padded tokens per batch: ≈64 short utterances or ≈8 long paragraphs. 1,024 measured best on the 2-core
# Intel Xeon (256–1,024 within noise, 2,048 4–14% slower; benchmarks/RESULTS.md); 2,048 was best on the AMD EPYC.
TOKEN_BUDGET = 1_024
MAX_BATCH = 256
# Part of the cache file name: bump it when the export changes, so an old export is never reused.
EXPORT_FORMAT = "eager-attention-1"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir() -> Path:
    return Path(os.environ.get("PAINPOINTS_CACHE_DIR", Path.home() / ".cache" / "painpoints"))


def _check_mean_pooling(source: Path) -> None:
    """Read the sentence-transformers pipeline from the model folder (modules.json + pooling config)."""
    modules = json.loads((source / "modules.json").read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = next((m for m in modules if m["type"].endswith("Pooling")), None)
    config = json.loads((source / pooling["path"] / "config.json").read_text()) if pooling else {}
    mean = config.get("pooling_mode_mean_tokens") or config.get("pooling_mode") == "mean"
    if kinds[:2] != ["Transformer", "Pooling"] or not mean or set(kinds) - {"Transformer", "Pooling", "Normalize"}:
        raise ValueError(
            f"int8 embedding supports Transformer → mean Pooling models only, not {kinds}; set embed_precision = 'fp32'"
        )


def quantized_model(source: str, load: Callable[[], Any]) -> Path:
    """Path of the int8 ONNX file for the model folder ``source``, building it on first use from the
    sentence-transformers model ``load()`` returns (so torch is imported only then).

    The file name carries a hash of the weights file(s), so new weights never reuse a stale export;
    it is written to a temporary name and renamed, so concurrent first runs cannot see half a file.
    """
    folder = Path(source)
    if not (folder / "modules.json").exists() or not (folder / "tokenizer.json").exists():
        raise ValueError(
            f"embedding model {source!r} is not a local sentence-transformers folder with "
            "modules.json and tokenizer.json, which int8 embedding needs: give such a folder, or set "
            "embed_precision = 'fp32' to load the model through sentence-transformers"
        )
    _check_mean_pooling(folder)
    digest = hashlib.sha256(f"{EXPORT_FORMAT}:{folder.resolve()}".encode())
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        digest.update(f.name.encode() + str(f.stat().st_size).encode() + str(f.stat().st_mtime_ns).encode())
    out = cache_dir() / "onnx" / f"{folder.name}-{digest.hexdigest()[:16]}-int8.onnx"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        _export(load(), fp32)
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(
            str(fp32),
            str(int8),
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.replace(int8, out)
    return out


def _export(st: Any, path: Path) -> None:
    """Trace the transformer to ONNX with *eager* attention.

    Why eager: transformers' default SDPA attention traces into extra masking operators (IsNaN, Where
    over every attention score tensor) that took ≈18% of ONNX Runtime's time on long texts; the eager
    path traces to plain MatMul → Add(mask) → Softmax → MatMul (profiled with ORT's profiler, session 6).
    The model's own setting is restored afterwards: the same object may be used for fp32 encoding.
    """
    import torch

    class Body(torch.nn.Module):
        """The transformer alone with keyword inputs: ONNX export needs a positional signature."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = st.tokenizer(["a short one", "and a somewhat longer sentence"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "hidden")}
    model = st[0].auto_model
    attention = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent branches: axes are declared
            torch.onnx.export(
                Body(model.eval()),
                tuple(sample[k] for k in INPUTS),
                str(path),
                input_names=list(INPUTS),
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
    finally:
        model.set_attn_implementation(attention)


class Int8Encoder:
    """Encode with the int8 ONNX model: the model's own tokenizer (``tokenizer.json`` through the
    ``tokenizers`` library, so a cold process never imports torch once the export exists),
    length-sorted batches sized by a token budget (no wasted padding), mean pooling over real
    tokens, L2 normalisation. ``threads``: ONNX Runtime's intra-op threads (None = its default, every
    physical core; a Ray worker passes the CPUs it was given, so workers sharing a node do not fight)."""

    def __init__(self, source: str, load: Callable[[], Any], threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(source)
        path = quantized_model(source, load)
        config = (
            json.loads((folder / "sentence_bert_config.json").read_text())
            if (folder / "sentence_bert_config.json").exists()
            else {}
        )
        self.max_length = int(config.get("max_seq_length", 256))
        self.dimension = int(json.loads((folder / "config.json").read_text())["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        padding = self.tokenizer.padding
        self.pad_id = int(padding["pad_id"]) if padding else int(self.tokenizer.token_to_id("[PAD]") or 0)
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        lengths = np.fromiter((len(x) for x in ids), np.int64, len(ids))
        order = np.argsort(lengths, kind="stable")
        out: np.ndarray | None = None
        start = 0
        while start < len(order):
            size = MAX_BATCH  # ascending lengths: a batch's widest row is its last one
            while size > 8 and int(lengths[order[min(start + size, len(order)) - 1]]) * size > TOKEN_BUDGET:
                size //= 2
            idx = order[start : start + size]
            start += len(idx)
            vectors = self._forward([ids[i] for i in idx])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), np.float32)
            out[idx] = vectors
        assert out is not None
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in batch)
        input_ids = np.full((len(batch), width), self.pad_id, np.int64)
        mask = np.zeros((len(batch), width), np.int64)
        for row, x in enumerate(batch):
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        hidden = self.session.run(None, {k: feed[k] for k in self.inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)
