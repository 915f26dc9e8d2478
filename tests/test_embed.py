"""Embedding: the int8 ONNX path agrees with plain sentence-transformers, batches by length
without changing results, and is cached apart from fp32 vectors."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from painpoints.discovery import store
from painpoints.discovery.embed import Embedder
from painpoints.discovery.embed_cache import encode_cached
from painpoints.discovery.int8 import quantized_model

TEXTS = [
    "my card was declined at the store",
    "how do I reset my password",
    "the app crashes whenever I open the settings page and I lose everything I typed, which "
    "is really annoying because it has happened every day this week",
    "refund please",
    "ok",
    "Ich kann mich nicht anmelden",
    "le paiement a échoué deux fois",
]


@pytest.fixture(scope="module")
def fp32():
    return Embedder(progress=False, precision="fp32").fit()


@pytest.mark.slow
def test_int8_vectors_stay_close_to_fp32(embedder, fp32):
    assert embedder.precision == "int8"
    a, b = embedder.encode(TEXTS), fp32.encode(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    cos = (a * b).sum(axis=1)
    assert cos.min() > 0.9 and np.median(cos) > 0.985, cos  # tiny texts ("ok") are the worst
    # neighbours are preserved: each text is still closest to itself across precisions
    assert ((a @ b.T).argmax(axis=1) == np.arange(len(TEXTS))).all()


@pytest.mark.slow
def test_batching_changes_vectors_only_slightly(embedder, monkeypatch):
    """Activations are quantized per batch (dynamic quantization), so a text's vector depends a
    little on its batch; vectors are cached per text, so a text is embedded once."""
    import painpoints.discovery.int8 as int8

    whole = embedder.encode(TEXTS * 20)
    monkeypatch.setattr(int8, "TOKEN_BUDGET", 64)  # many small batches, grouped differently
    regrouped = embedder.encode(TEXTS * 20)
    assert (whole * regrouped).sum(axis=1).min() > 0.93  # "ok" moves most; median stays ~0.99
    assert np.median((whole * regrouped).sum(axis=1)) > 0.985
    same = (whole[: len(TEXTS)] * whole[len(TEXTS) : 2 * len(TEXTS)]).sum(axis=1)
    assert same.min() > 0.93  # the same text in two batches of one call


@pytest.mark.slow
def test_export_is_reused_and_written_once(embedder, tmp_path, monkeypatch):
    monkeypatch.setenv("PAINPOINTS_CACHE_DIR", str(tmp_path))
    from painpoints.discovery.embed import resolve_model

    first = quantized_model(resolve_model(embedder.model), lambda: embedder.model_)
    mtime = first.stat().st_mtime_ns
    assert quantized_model(resolve_model(embedder.model), lambda: pytest.fail("exported twice")) == first
    assert first.stat().st_mtime_ns == mtime and first.parent == tmp_path / "onnx"
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no temporary files left


@pytest.mark.slow
def test_export_traces_eager_attention_and_restores_the_model(embedder, tmp_path, monkeypatch):
    """SDPA attention traces into IsNaN/Where masking over every score tensor (≈18% of the run
    time on long texts); the export uses eager attention and gives the model its own setting back,
    since the same object may encode fp32."""
    import onnx

    from painpoints.discovery.embed import resolve_model

    monkeypatch.setenv("PAINPOINTS_CACHE_DIR", str(tmp_path))
    model = embedder.model_[0].auto_model
    before = model.config._attn_implementation
    path = quantized_model(resolve_model(embedder.model), lambda: embedder.model_)
    ops = Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    assert ops["MatMulInteger"] and not ops["IsNaN"], ops
    assert ops["Where"] < len(model.encoder.layer), ops  # mask building only, not once per layer
    assert model.config._attn_implementation == before


@pytest.mark.slow
def test_precisions_are_cached_apart(embedder, fp32, tmp_path):
    con = store.connect(tmp_path / "e.duckdb")
    try:
        a = encode_cached(con, embedder, TEXTS)
        b = encode_cached(con, fp32, TEXTS)
        assert con.execute("SELECT model, count(*) FROM embeddings GROUP BY model ORDER BY model").fetchall() == [
            ("all-MiniLM-L6-v2", len(TEXTS)),
            ("all-MiniLM-L6-v2+int8", len(TEXTS)),
        ]
        np.testing.assert_allclose(b, fp32.encode(TEXTS), atol=1e-5)
        np.testing.assert_allclose(a, encode_cached(con, embedder, TEXTS), atol=0)
    finally:
        con.close()


@pytest.mark.slow
def test_tokenizer_matches_sentence_transformers(embedder, fp32):
    """int8 tokenizes with the ``tokenizers`` library directly; ids must equal the model's own."""
    long = " ".join(["word"] * 400)  # truncated at max_seq_length by both
    for text in [*TEXTS, long, "émojis 😀 and ＷＩＤＥ letters"]:
        ours = embedder.int8_.tokenizer.encode(text).ids
        theirs = fp32.model_.tokenizer(text, truncation=True, max_length=fp32.model_.max_seq_length)["input_ids"]
        assert ours == theirs, text


@pytest.mark.slow
def test_cold_int8_process_never_imports_torch(embedder):
    """Once the ONNX export exists, a run embeds without loading torch (≈7 s of imports saved)."""
    code = (
        "import sys; from painpoints.discovery.embed import Embedder; e = Embedder(progress=False).fit(); "
        "v = e.encode(['refund please']); assert v.shape == (1, 384); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sentence_transformers')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_non_mean_pooling_models_are_refused(tmp_path):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(
        '[{"path": "", "type": "sentence_transformers.models.Transformer"},'
        ' {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]'
    )
    (tmp_path / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ValueError, match="mean Pooling"):
        quantized_model(str(tmp_path), lambda: pytest.fail("must not load"))
    with pytest.raises(ValueError, match="not a local sentence-transformers folder"):
        quantized_model("some-org/some-hub-model", lambda: pytest.fail("must not load"))


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="precision"):
        Embedder(progress=False, precision="fp16").fit()
