"""Do social handles drive the themes? (issue #17 item 3)

Posts addressed to a brand ("@united my bag never arrived") share the handle with every other post to
that brand; in a ten-word text it weighs as much as the problem, and themes come out one per brand.
Segments therefore leave handles, links, "RT" and trailing hashtags out (``normalize.unaddressed``).

Data: ``data/eval/written_airline_posts.csv``, 80 posts written for this check (8 problems, 10 each:
lost bags, delays, cancellations, phone holds, seats, website/app, refunds, praise), no real
customer's text; no labelled social set with permissive terms is at hand. Each post gets a random
handle of six airlines (seeded), some a second handle, a trailing hashtag or a link, as real posts do.
The same posts are then clustered as written and as segmented (real model, int8 as a run embeds,
``ThemeClusterer`` with the run's defaults, seeds 0–2), and the clusters compared with the problem and
with the brand (NMI), beside the mean cosine of same-problem/other-brand pairs and of
same-brand/other-problem pairs. A check of the mechanism on written text, not a measurement on
customers' posts.

Run: ``python -m benchmarks.social [--write]`` (~1 minute).
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path
from statistics import median

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from benchmarks.common import emit, header, options
from painpoints.discovery.cluster import ThemeClusterer
from painpoints.discovery.embed import Embedder
from painpoints.discovery.normalize import segment_feedback

OUT = Path(__file__).with_suffix(".json")
POSTS = Path(__file__).resolve().parents[1] / "data" / "eval" / "written_airline_posts.csv"
HANDLES = ["@united", "@AmericanAir", "@SouthwestAir", "@JetBlue", "@Delta", "@VirginAmerica"]
SEEDS = (0, 1, 2)


def addressed(seed: int = 0) -> list[tuple[str, str, str]]:
    """(problem, brand, post) per written post, each addressed to a seeded random airline."""
    rng = random.Random(seed)
    out = []
    with POSTS.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            brand, extra = rng.choice(HANDLES), rng.random()
            post = f"{brand} {row['text']}"
            if extra < 0.2:
                post += " #fail"
            elif extra < 0.35:
                post += " http://t.co/AbC12x"
            elif extra < 0.45:
                post = f"{brand} {rng.choice(HANDLES)} {row['text']}"
            out.append((row["problem"], brand.lower(), post))
    return out


def compare(vectors: np.ndarray, problem: np.ndarray, brand: np.ndarray) -> dict:
    """NMI of the themes with the problem and with the brand (median over seeds), and mean cosines."""
    x = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = x @ x.T
    same_p, same_b = problem[:, None] == problem[None], brand[:, None] == brand[None]
    runs = [ThemeClusterer(random_state=s).fit(x).labels_ for s in SEEDS]
    return {
        "nmi_problem": round(median(normalized_mutual_info_score(problem, r) for r in runs), 3),
        "nmi_brand": round(median(normalized_mutual_info_score(brand, r) for r in runs), 3),
        "themes": [int(len(set(r.tolist()) - {-1})) for r in runs],
        "cos_same_problem_other_brand": round(float(sim[same_p & ~same_b].mean()), 3),
        "cos_same_brand_other_problem": round(float(sim[same_b & ~same_p].mean()), 3),
    }


def main(argv: list[str]) -> dict:
    opts = options(argv)
    posts = addressed()
    problem = np.array([p for p, _, _ in posts])
    brand = np.array([b for _, b, _ in posts])
    embedder = Embedder(progress=False).fit()
    as_written = [t for _, _, t in posts]
    segmented = [" ".join(s.text for s in segment_feedback("review", t)) for t in as_written]
    report = {
        **header("benchmarks.social", argv),
        "posts": len(posts),
        "problems": len(set(problem.tolist())),
        "brands": len(set(brand.tolist())),
        "seeds": list(SEEDS),
        "example": {"as_written": as_written[0], "segmented": segmented[0]},
        "as_written": compare(embedder.encode(as_written), problem, brand),
        "segmented": compare(embedder.encode(segmented), problem, brand),
    }
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
