"""How much an LLM-named run sends: requests per run and prompt size per 1,000 feedback items, on
the bundled demo data. No endpoint is needed: the prompts are built exactly as a run builds them.
Tokens are estimated as characters / 4 (English text with a GPT-style BPE tokenizer averages about
four characters per token); replies are capped at ``max_tokens`` (200).

Run: ``python -m benchmarks.llm_cost``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from painpoints.discovery import store
from painpoints.discovery.demo import load_demo
from painpoints.discovery.embed import Embedder
from painpoints.discovery.embed_cache import embed_missing
from painpoints.discovery.llm import LLMLabeler, ThemeRequest, build_messages
from painpoints.discovery.pipeline import discover, prepare_segments
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import load_settings


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.duckdb"
        list(load_demo(load_settings(db=db)))
        settings = load_settings(db=db)
        con = store.connect(db)
        try:
            prepare_segments(con, settings)
            embedder = Embedder(progress=False).fit()
            embed_missing(con, embedder)
            result = discover(con, settings, embedder, SentimentModel())
            items = result.stats.feedback_items
        finally:
            con.close()
    requests = [ThemeRequest(i, t.keywords, t.example_quotes) for i, t in enumerate(result.themes)]
    chars = sum(len(m["content"]) for r in requests for m in build_messages(r))
    est_in = chars / 4
    out = {
        "feedback_items": items,
        "themes": len(requests),
        "requests_per_run": len(requests),
        "prompt_chars": chars,
        "est_prompt_tokens": round(est_in),
        "est_prompt_tokens_per_1000_items": round(est_in / items * 1000),
        "max_reply_tokens_per_1000_items": round(len(requests) * LLMLabeler.max_tokens / items * 1000),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
