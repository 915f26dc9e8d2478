"""Area homogeneity on a mixed multi-product feed (``discovery/areas.py``, issue 17 item 4).

"On one feed that mixes several products, the top level must keep the products apart": each data set
(or MultiDoGO domain) below is one product; the feed is segmented like a real run
(``discovery.normalize.segment_feedback``, PII redacted), embedded (all-MiniLM-L6-v2, int8), clustered
into themes (``ThemeClusterer(random_state=0)``), and the themes grouped into areas. Scores are over
segments with a theme (each segment's area is its theme's): sklearn ``homogeneity_score(product,
area)`` (target ≥ 0.85: an area holds one product), ``completeness_score`` (a product sits in one
area) and the number of areas, for a sweep of cut thresholds.

Hold-out: the threshold is chosen on mix ``tune`` (six products) — the highest V-measure among cuts with
homogeneity ≥ 0.85 and ≤ 20 areas — and reported on mix ``heldout`` (eight other products, no data
set in common except MultiDoGO, whose other domains are used). ``themes_homogeneity`` is the ceiling:
grouping themes can only lower homogeneity, so products that share themes cap what areas can reach.

Permissive licenses only (each folder's SOURCE.txt): CFPB (public domain), Review-Pulse (MIT),
Women's clothing reviews (CC0), MultiDoGO (CDLA-Permissive-1.0), IBM car rental (Apache-2.0), UCI
sentiment sentences (CC BY 4.0), IT service tickets (CC0).

Run: ``python -m benchmarks.areas [--write] [--mix=tune,heldout]`` (about a minute per mix on 2 cores;
vectors are cached in ``$TMPDIR/painpoints-areas``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import completeness_score, homogeneity_score, v_measure_score

from benchmarks.common import emit, header, options
from benchmarks.datasets import DATA
from painpoints.discovery.areas import AREA_THRESHOLD, MAX_AREAS, area_centroids, find_areas, identify_areas, name_areas
from painpoints.discovery.normalize import segment_feedback
from painpoints.discovery.themes import match

OUT = Path(__file__).with_suffix(".json")
THRESHOLDS = [round(t, 2) for t in np.arange(0.4, 1.01, 0.05)]
TARGET = 0.85
Loader = Callable[[], list[tuple[str, str]]]  # → (kind, text) per feedback item


def _csv(path: Path, column: str, delimiter: str = ",", where: Callable[[dict], bool] = lambda r: True) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [r[column] for r in csv.DictReader(fh, delimiter=delimiter) if r[column].strip() and where(r)]


def cfpb() -> list[tuple[str, str]]:
    return [
        ("ticket", t)
        for t in _csv(DATA / "cfpb_complaints_sample" / "complaints_sample.csv", "Consumer complaint narrative")
    ]


def review_pulse() -> list[tuple[str, str]]:
    path = DATA / "review_pulse_app_issues" / "LABELLED_REVIEWS.jsonl"
    return [("review", json.loads(line)["text"]) for line in path.open(encoding="utf-8")]


def clothing() -> list[tuple[str, str]]:
    return [
        ("review", t)
        for t in _csv(DATA / "womens_clothing_reviews" / "Womens Clothing E-Commerce Reviews.csv", "Review Text")
    ]


def car_rental() -> list[tuple[str, str]]:
    texts = _csv(DATA / "ibm_car_rental_feedback" / "car_rental_training_data.csv", "Customer_Service", delimiter=";")
    return [("review", t) for t in dict.fromkeys(texts)]  # 486 rows, 229 unique comments


def multidogo(domain: str) -> Loader:
    path = DATA / "multidogo" / "multidogo_conversations_dev_test.csv"
    return lambda: [("transcript", t) for t in _csv(path, "customer_text", where=lambda r: r["domain"] == domain)]


def uci(name: str) -> Loader:
    path = DATA / "uci_sentiment_labelled_sentences" / f"{name}_labelled.txt"
    return lambda: [("review", line.rsplit("\t", 1)[0]) for line in path.open(encoding="utf-8") if "\t" in line]


def it_tickets() -> list[tuple[str, str]]:
    return [
        ("ticket", t) for t in _csv(DATA / "it_service_tickets" / "all_tickets_processed_improved_v3.csv", "Document")
    ]


# product → (loader, segments kept); segment budgets keep each feed near 4.5k segments
MIXES: dict[str, dict[str, tuple[Loader, int]]] = {
    "tune": {
        "banking (CFPB)": (cfpb, 750),
        "android apps (Review-Pulse)": (review_pulse, 750),
        "clothing retail": (clothing, 750),
        "airline (MultiDoGO)": (multidogo("airline"), 750),
        "fast food (MultiDoGO)": (multidogo("fastfood"), 750),
        "insurance (MultiDoGO)": (multidogo("insurance"), 750),
    },
    "heldout": {
        "car rental (IBM)": (car_rental, 600),
        "finance (MultiDoGO)": (multidogo("finance"), 600),
        "media (MultiDoGO)": (multidogo("media"), 600),
        "software (MultiDoGO)": (multidogo("software"), 600),
        "phones (UCI Amazon)": (uci("amazon_cells"), 600),
        "restaurants (UCI Yelp)": (uci("yelp"), 600),
        "movies (UCI IMDb)": (uci("imdb"), 600),
        "IT helpdesk tickets": (it_tickets, 600),
    },
}


def feed(mix: str) -> tuple[list[str], list[str]]:
    """Segments and their product: a seeded sample of each product's segments, up to its budget."""
    rng = np.random.default_rng(0)
    texts: list[str] = []
    products: list[str] = []
    for product, (load, budget) in MIXES[mix].items():
        items = load()
        order = rng.permutation(len(items))
        segs: list[str] = []
        for i in order.tolist():  # segment items in random order until the budget is met
            kind, text = items[i]
            segs += [s.text for s in segment_feedback(kind, text)]
            if len(segs) >= budget:
                break
        texts += segs[:budget]
        products += [product] * len(segs[:budget])
    return texts, products


def vectors(texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    cache = Path(tempfile.gettempdir()) / "painpoints-areas"
    cache.mkdir(exist_ok=True)
    path = cache / (hashlib.sha1("\n".join(texts).encode()).hexdigest()[:16] + ".npy")
    if path.exists():
        return np.load(path)
    X = np.concatenate([encode(texts[s : s + 2048]) for s in range(0, len(texts), 2048)])
    np.save(path, X)
    return X


def scores(product: np.ndarray, labels: np.ndarray, area_of_theme: np.ndarray) -> dict[str, Any]:
    keep = labels >= 0
    area = area_of_theme[labels[keep]]
    return {
        "areas": int(len(np.unique(area_of_theme))),
        "homogeneity": round(float(homogeneity_score(product[keep], area)), 3),
        "completeness": round(float(completeness_score(product[keep], area)), 3),
        "v_measure": round(float(v_measure_score(product[keep], area)), 3),
    }


def id_stability(X: np.ndarray, first: tuple[np.ndarray, np.ndarray], seed: int) -> dict[str, Any]:
    """Recluster with another UMAP seed (as a full rerun would, with slightly different vectors) and
    carry area ids over by ``identify_areas``: per match threshold, the share of segments assigned in
    both runs that keep their area id, and the matched areas' centroid similarities."""
    from painpoints.discovery.cluster import ThemeClusterer

    again = ThemeClusterer(random_state=seed).fit(X)
    runs = []
    for labels, C in (first, (again.labels_, again.centroids_)):
        sizes = np.bincount(labels[labels >= 0], minlength=len(C))
        area = find_areas(C, sizes)
        runs.append((labels, area, area_centroids(C, sizes, area)))
    (l1, a1, A1), (l2, a2, A2) = runs
    both = (l1 >= 0) & (l2 >= 0)
    ids1 = identify_areas(A1, {}, threshold=1.0)
    sims = sorted(round(s, 3) for _, _, s in match(A2, A1, threshold=-1.0))
    out: dict[str, Any] = {"seed": seed, "areas": [len(A1), len(A2)], "matched_similarities": sims}
    for threshold in (0.7, 0.8, 0.9):
        ids2 = identify_areas(A2, dict(zip(ids1, A1, strict=True)), threshold)
        same = [ids1[a1[i]] == ids2[a2[j]] for i, j in zip(l1[both], l2[both], strict=True)]
        out[f"same_area_share_at_{threshold}"] = round(float(np.mean(same)), 3)
    return out


def run_mix(mix: str, embedder: Any) -> dict[str, Any]:
    from painpoints.discovery.cluster import ThemeClusterer
    from painpoints.discovery.label import OfflineLabeler

    t0 = time.perf_counter()
    texts, products = feed(mix)
    X = vectors(texts, embedder.encode)
    t_embed = time.perf_counter() - t0
    clusterer = ThemeClusterer(random_state=0).fit(X)
    labels, C = clusterer.labels_, clusterer.centroids_
    sizes = np.bincount(labels[labels >= 0], minlength=len(C))
    product = np.array(products)
    keep = labels >= 0
    sweep = {
        linkage: [
            {"threshold": t, **scores(product, labels, find_areas(C, sizes, MAX_AREAS, t, linkage))} for t in THRESHOLDS
        ]
        for linkage in ("average", "complete")
    }
    area_of_theme = find_areas(C, sizes, MAX_AREAS, AREA_THRESHOLD)
    theme_names = OfflineLabeler().name(texts, X, labels, C, encode=embedder.encode)
    names = name_areas(texts, labels, area_of_theme, [n.label for n in theme_names], X, encode=embedder.encode)
    seg_area = np.where(keep, area_of_theme[np.maximum(labels, 0)], -1)
    detail = []
    for a, name in enumerate(names):
        mix_of = Counter(product[seg_area == a].tolist())
        total = sum(mix_of.values())
        detail.append(
            {
                "area": name,
                "themes": int((area_of_theme == a).sum()),
                "segments": total,
                "products": {p: round(n / total, 3) for p, n in mix_of.most_common(3)},
                "theme_labels": [theme_names[t].label for t in np.flatnonzero(area_of_theme == a)[:5].tolist()],
            }
        )
    majority = {a: Counter(product[seg_area == a].tolist()).most_common(1)[0][0] for a in range(len(names))}
    # does the heading name what the area holds? cos(area name, its majority product's plain name)
    heads = np.asarray(embedder.encode(list(names)))
    truths = np.asarray(embedder.encode([re.sub(r"\s*\(.*\)", "", majority[a]) for a in range(len(names))]))
    name_fit = round(float(np.mean(np.sum(heads * truths, axis=1))), 3) if len(names) else None
    return {
        "products": {p: int(n) for p, n in Counter(products).items()},
        # per product, the share of its (assigned) segments in an area where another product is the
        # majority: which products the top level fails to keep apart
        "outvoted_share": {
            p: round(float(np.mean([majority[int(a)] != p for a in seg_area[(product == p) & keep]])), 3)
            for p in MIXES[mix]
        },
        "segments": len(texts),
        "themes": int(len(C)),
        "assigned_share": round(float(keep.mean()), 3),
        "themes_homogeneity": round(float(homogeneity_score(product[keep], labels[keep])), 3),
        "at_chosen_threshold": {"threshold": AREA_THRESHOLD, **scores(product, labels, area_of_theme)},
        "area_name_fit": name_fit,
        "areas_detail": detail,
        "sweep": sweep,
        "id_stability": id_stability(X, (labels, C), seed=1),
        "seconds": {"embed": round(t_embed, 1), "total": round(time.perf_counter() - t0, 1)},
    }


def choose(sweep: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The (linkage, cut) that stays good when the cut moves a step either way: among cuts meeting the
    target with ≤ ``MAX_AREAS`` areas, the highest V-measure of the worst of itself and its two
    neighbours in the sweep. The best single cut tends to sit at the edge of a plateau, one step
    before two products merge; a feed a little unlike this one would fall off that edge."""
    best: tuple[float, float, str, float] | None = None
    for linkage, rows in sweep.items():
        for i, r in enumerate(rows):
            if r["homogeneity"] < TARGET or r["areas"] > MAX_AREAS:
                continue
            worst = min(x["v_measure"] for x in rows[max(0, i - 1) : i + 2])
            key = (worst, r["v_measure"], linkage, r["threshold"])
            best = key if best is None or key[:2] > best[:2] else best
    return None if best is None else {"linkage": best[2], "threshold": best[3], "worst_neighbour_v_measure": best[0]}


def main(argv: list[str]) -> dict[str, Any]:
    from painpoints.discovery.embed import Embedder

    opts = options(argv)
    mixes = opts.get("mix", "tune,heldout").split(",")
    embedder = Embedder(progress=False).fit()
    report: dict[str, Any] = {**header("benchmarks.areas", argv), "target_homogeneity": TARGET, "mixes": {}}
    for mix in mixes:
        result = run_mix(mix, embedder)
        if mix == "tune":
            result["chosen_here"] = choose(result["sweep"])
        report["mixes"][mix] = result
        print(f"{mix}: {result['at_chosen_threshold']}", file=sys.stderr, flush=True)
    return emit(report, OUT, "write" in opts)


if __name__ == "__main__":
    main(sys.argv[1:])
