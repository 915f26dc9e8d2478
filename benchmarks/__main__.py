"""``python -m benchmarks`` (= ``make bench``): the quick set, each benchmark in its own process,
then RESULTS.md's tables and ``results.json`` are regenerated from what they wrote.

Quick set (≈55 min on 2 cores, data from ``../shared/data`` or ``$PAINPOINTS_DATA``): quality vs
BERTopic on five labelled sets, the reference points for it (``benchmarks.ceiling``), the LLM-label
grounding check on three of those sets (``benchmarks.grounding``), cold
end-to-end speed vs BERTopic, embedding throughput, the incremental rerun, 100k items at scale,
offline sentiment, and issue 17's insight checks (feedback type, areas above themes, pain precision of
the top 10, social handles kept out of themes, 3-class sentiment on VADER's rated tweets; ≈17 min
more). Not in it: the 1M-item run
(``python -m benchmarks.scale --items=1000000 --write``, see RESULTS.md for its duration) and the 2 GB
CSV ingest (``python -m benchmarks.large_csv --gb=2 --write``); their last results stay in RESULTS.md.
``--only=quality,speed`` runs some steps; ``--render`` only re-renders.
"""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.common import options
from benchmarks.report import render

QUICK: dict[str, list[str]] = {
    "quality": ["--write"],
    "ceiling": ["--write"],
    "grounding": ["clinc150", "abcd", "multidogo", "--write"],
    "speed": ["--write"],
    "embedding": ["--per-kind=1000", "--write"],
    "incremental": ["--items=20000", "--repeats=3", "--write"],
    "scale": ["--items=100000", "--write"],
    "train_sentiment": ["--evaluate", "--write"],
    "feedback_type": ["--write"],
    "areas": ["--write"],
    "pain_precision": ["--write"],
    "social": ["--write"],
    "social_sentiment": ["--write"],
}


def main(argv: list[str]) -> None:
    opts = options(argv)
    steps = [] if "render" in opts else (opts["only"].split(",") if "only" in opts else list(QUICK))
    unknown = set(steps) - set(QUICK)
    if unknown:
        raise SystemExit(f"unknown step(s) {sorted(unknown)}; choose from {list(QUICK)}")
    for step in steps:
        t0 = time.perf_counter()
        print(f"== benchmarks.{step} {' '.join(QUICK[step])}", flush=True)
        subprocess.run(
            [sys.executable, "-m", f"benchmarks.{step}", *QUICK[step]], check=True, stdout=subprocess.DEVNULL
        )
        print(f"   done in {time.perf_counter() - t0:.0f} s", flush=True)
    print("rendered RESULTS.md blocks:", ", ".join(render()))


if __name__ == "__main__":
    main(sys.argv[1:])
