"""Fill the generated tables of ``benchmarks/RESULTS.md`` from the benchmarks' JSON files and
collect those files into ``benchmarks/results.json``.

RESULTS.md keeps its prose by hand; each table sits between ``<!-- generated:NAME -->`` and
``<!-- /generated:NAME -->`` and is rewritten from data on every render, so the figures in it are
always the ones the last run measured. Run: ``python -m benchmarks.report``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import report_insight
from benchmarks.common import ran

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SOURCES = (
    "quality",
    "ceiling",
    "speed",
    "embedding",
    "incremental",
    "scale",
    "sentiment",
    "grounding",
    "large_csv",
    "feedback_type",
    "areas",
    "pain_precision",
    "social",
    "social_sentiment",
)


def load() -> dict[str, Any]:
    return {
        name: json.loads((HERE / f"{name}.json").read_text()) for name in SOURCES if (HERE / f"{name}.json").exists()
    }


def _met(ok: bool) -> str:
    return "**met**" if ok else "not met"


def _table(intro: str, columns: list[str], rows: list[str]) -> list[str]:
    """A Markdown table under a one-line note on how it was measured."""
    return [intro, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns), *rows]


def targets(data: dict) -> str:
    rows = ["| target (issue #6) | measured | |", "|---|---|---|"]
    for r in data.get("quality", {}).get("results", []):
        p, b = r["painpoints"], r.get("bertopic")
        if not b:
            continue
        dn, da = p["nmi"] - b["nmi"], p["ari"] - b["ari"]
        rows.append(
            f"| {r['set']}: NMI ≥ BERTopic + 0.03 | {p['nmi']:.3f} vs {b['nmi']:.3f} ({dn:+.3f}) | {_met(dn >= 0.03)} |"
        )
        rows.append(
            f"| {r['set']}: ARI ≥ BERTopic + 0.10 | {p['ari']:.3f} vs {b['ari']:.3f} ({da:+.3f}) | {_met(da >= 0.10)} |"
        )
        rows.append(
            f"| {r['set']}: unassigned ≤ 10% | {p['unassigned']:.1%} (BERTopic {b['unassigned']:.1%}) | {_met(p['unassigned'] <= 0.10)} |"
        )
    for r in data.get("speed", {}).get("results", []):
        rows.append(
            f"| {r['set']}: end-to-end wall time ≤ 0.5× BERTopic (cold processes) | "
            f"{r['painpoints']['seconds']:.1f} s vs {r['bertopic']['seconds']:.1f} s = **{r['ratio']:.2f}×** | {_met(r['ratio'] <= 0.5)} |"
        )
    emb = data.get("embedding", {}).get("throughput", {})
    if "mixed" in emb:
        m = emb["mixed"]
        rows.append(
            f"| embedding throughput ≥ 2× plain `encode` (mixed texts) | {m['int8_texts_per_s']:.0f} vs "
            f"{m['plain_texts_per_s']:.0f} texts/s = **{m['speedup']:.2f}×** | {_met(m['speedup'] >= 2)} |"
        )
        rows.append(
            f"| int8 vectors within 0.99 cosine of fp32 | mean {m['cosine_mean']:.4f}, median {m['cosine_median']:.4f}, "
            f"1st percentile {m['cosine_p1']:.4f}, min {m['cosine_min']:.4f} | {_met(m['cosine_mean'] >= 0.99)} on mean; not every vector |"
        )
    q = data.get("embedding", {}).get("clinc150_quality")
    if q:
        rows.append(
            f"| quality holds on int8 (CLINC150 NMI / ARI) | int8 {q['int8']['nmi']:.3f} / {q['int8']['ari']:.3f}, "
            f"fp32 {q['fp32']['nmi']:.3f} / {q['fp32']['ari']:.3f} | {_met(q['int8']['nmi'] >= q['fp32']['nmi'] - 0.01)} |"
        )
    inc = data.get("incremental")
    if inc:
        rows.append(
            f"| incremental rerun with 1% new items ≤ 10% of the full run | {inc['incremental_seconds']} s vs "
            f"{inc['full_cold_seconds']} s = **{inc['ratio_incremental_vs_full_cold']:.3f}** | "
            f"{_met(inc['ratio_incremental_vs_full_cold'] <= 0.10)} |"
        )
    for n, s in sorted(data.get("scale", {}).items(), key=_scale_order):
        if not n.isdigit():  # a stand-in embedder's run: not a target row
            continue
        ok = s["peak_rss_mb"] <= 8192 if int(n) >= 1_000_000 else True
        rows.append(
            f"| {int(n):,} items complete{', peak RSS ≤ 8 GB' if int(n) >= 1_000_000 else ''} | "
            f"{s['total_seconds'] / 60:.1f} min, peak RSS {s['peak_rss_mb']:,} MB | {_met(ok)} |"
        )
    return "\n".join(rows)


def quality(data: dict) -> str:
    from benchmarks.quality import markdown

    return markdown(data["quality"]) if "quality" in data else "(no run yet)"


def ceiling(data: dict) -> str:
    d = data.get("ceiling")
    if not d:
        return "(no run yet)"
    rows = []
    for r in d["results"]:
        k, c, p, t = r["kmeans_true_k"], r["nearest_true_centroid"], r.get("painpoints"), r.get("target")
        pt = (lambda m, p=p, t=t: f"{p[m]:.3f} / {t[m]:.3f}") if p and t else (lambda m: "—")
        rows.append(
            f"| {r['set']} | {r['true_labels']} | {pt('nmi')} | {k['nmi']:.3f} | {c['nmi']:.3f} | "
            f"{pt('ari')} | {k['ari']:.3f} | {c['ari']:.3f} |"
        )
    return "\n".join(
        _table(
            f"Run: {ran(d)}; painpoints' int8 vectors, each item's first segment; k-means median of 3 seeds.",
            [
                "set",
                "true labels",
                "NMI painpoints / target",
                "NMI k-means, true k",
                "NMI nearest true centroid",
                "ARI painpoints / target",
                "ARI k-means, true k",
                "ARI nearest true centroid",
            ],
            rows,
        )
    )


def speed(data: dict) -> str:
    d = data.get("speed")
    if not d:
        return "(no run yet)"
    rows = [
        f"| {r['set']} | {r['items']:,} | {r['painpoints']['seconds']:.1f} s | {r['bertopic']['seconds']:.1f} s | "
        f"**{r['ratio']:.2f}×** | {r['painpoints']['peak_rss_mb']:,.0f} / {r['bertopic']['peak_rss_mb']:,.0f} MB | "
        + ", ".join(f"{k} {v}" for k, v in r["painpoints_stage_seconds"].items())
        + " |"
        for r in d["results"]
    ]
    return "\n".join(
        _table(
            f"Run: {ran(d)}; medians of {len(d['results'][0]['painpoints_all'])} cold runs per tool.",
            [
                "set",
                "items",
                "painpoints (ingest + run)",
                "BERTopic (fit_transform)",
                "ratio",
                "peak RSS pp / BT",
                "painpoints stages in the run (s)",
            ],
            rows,
        )
    )


def embedding(data: dict) -> str:
    d = data.get("embedding")
    if not d:
        return "(no run yet)"
    rows = _table(
        f"Run: {ran(d)}; plain and int8 timed in alternating rounds after a warm-up call: "
        "texts/s are medians, the speed-up is the median of the per-round ratios.",
        [
            "texts",
            "n",
            "plain `encode` (fp32) texts/s",
            "painpoints int8 texts/s",
            "speed-up",
            "cosine to fp32: mean / median / p1 / min",
        ],
        [],
    )
    for kind, r in d["throughput"].items():
        rows.append(
            f"| {kind} | {r['texts']:,} | {r['plain_texts_per_s']:.0f} | {r['int8_texts_per_s']:.0f} | **{r['speedup']:.2f}×** | "
            f"{r['cosine_mean']:.4f} / {r['cosine_median']:.4f} / {r['cosine_p1']:.4f} / {r['cosine_min']:.4f} |"
        )
    q = d["clinc150_quality"]
    seeds = f"median of {q['fp32']['seeds']} seeds" if "seeds" in q["fp32"] else "same seed"
    rows += [
        "",
        f"Clustering the 4,500 CLINC150 test utterances ({seeds}): fp32 NMI {q['fp32']['nmi']:.3f}, "
        f"ARI {q['fp32']['ari']:.3f}; int8 NMI {q['int8']['nmi']:.3f}, ARI {q['int8']['ari']:.3f}.",
    ]
    return "\n".join(rows)


def incremental(data: dict) -> str:
    d = data.get("incremental")
    if not d:
        return "(no run yet)"
    return "\n".join(
        [
            f"Run: {ran(d)}.",
            "",
            "| run | seconds | ratio | same theme id as the previous run | NMI vs intents |",
            "|---|---|---|---|---|",
            f"| full, cold (embed {d['items'] - d['new_items']:,} + cluster) | {d['full_cold_seconds']} | 1 | — | {d['full_cold_nmi']:.3f} |",
            f"| **incremental, +{d['new_items']} items (1%)** | **{d['incremental_seconds']}** | **{d['ratio_incremental_vs_full_cold']:.3f}** of cold full, "
            f"{d['ratio_incremental_vs_full_recluster']:.3f} of a full recluster | **{d['incremental_same_theme_share']:.1%}** of segments | {d['incremental_nmi']:.3f} |",
            f"| full recluster of the same items (vectors cached) | {d['full_recluster_seconds']} | — | "
            f"{d['full_recluster_same_theme_share']:.1%} | {d['full_recluster_nmi']:.3f} |",
        ]
    )


def _scale_order(kv: tuple[str, dict]) -> tuple[bool, int, str]:
    """The model's runs first, then the stand-in embedder's (keys ``N-hash-BUDGET``), each by size."""
    return (not kv[0].isdigit(), int(kv[0].split("-")[0]), kv[0])


def _scale_items(key: str, s: dict) -> str:
    """The row's item count, with how it was embedded when not by the model."""
    items = f"{int(key.split('-')[0]):,} ({s['joined_pairs']:,} joined pairs)"
    if "db_memory_limit" in s:
        items += f", db_memory_limit {s['db_memory_limit']}"
    if key.isdigit():
        return items
    return f"{items}, hashed words, vectors_in_memory {s.get('vectors_in_memory')}"


def _commit_rates(s: dict) -> str:
    """Rows each writing stage committed per second of the stage: items ingested, segments prepared,
    vectors embedded, assignments written."""
    rows = {"ingest": (s["items"], "items"), "prepare": (s["segments"], "segments")}
    rows |= {"embed": (s["embedded"], "vectors"), "write": (s["segments"], "assignments")}
    st = s["stages"]
    return ", ".join(
        f"{k} {n / st[k]['seconds']:,.0f} {what}/s" for k, (n, what) in rows.items() if st.get(k, {}).get("seconds")
    )


def scale(data: dict) -> str:
    d = data.get("scale")
    if not d:
        return "(no run yet)"
    rows = [
        "| items | command, date | ingest | prepare | embed | discover | write | total | peak RSS | themes | unassigned | DB size |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, s in sorted(d.items(), key=_scale_order):
        st = s["stages"]
        rows.append(
            f"| {_scale_items(n, s)} | {ran(s)} | "
            + " | ".join(f"{st[k]['seconds']:.0f} s" for k in ("ingest", "prepare", "embed", "discover", "write"))
            + f" | **{s['total_seconds'] / 60:.1f} min** | **{s['peak_rss_mb']:,} MB** | {s['themes']} | "
            f"{s['unassigned_share']:.1%} | {s['db_mb']:,} MB |"
        )
    rows += [
        "",
        "Peak RSS after each stage (running maximum): "
        + "; ".join(
            f"{_scale_items(n, s)}: " + ", ".join(f"{k} {v['peak_rss_mb']:,}" for k, v in s["stages"].items()) + " MB"
            for n, s in sorted(d.items(), key=_scale_order)
        ),
        "",
        "Commit rate, rows written per second of each stage: "
        + "; ".join(f"{_scale_items(n, s)}: {_commit_rates(s)}" for n, s in sorted(d.items(), key=_scale_order)),
    ]
    reruns = [(n, s["rerun"]) for n, s in sorted(d.items(), key=_scale_order) if "rerun" in s]
    if reruns:
        rows += [
            "",
            "Then a nightly rerun on the same store, in a process of its own (`--rerun=1`): "
            + "; ".join(
                f"{_scale_items(n, d[n])}: {r['new_items']:,} new items, {r['mode']} run, "
                f"{r['total_seconds']:.0f} s (discover {r['stages']['discover']['seconds']:.0f} s), "
                f"peak RSS **{r['peak_rss_mb']:,} MB**, {r['vectors_read']:,} vectors read"
                for n, r in reruns
            ),
        ]
    return "\n".join(rows)


def sentiment(data: dict) -> str:
    d = data.get("sentiment")
    if not d:
        return "(no run yet)"
    ours, fp32, vader = d["held_out_macro_f1"], d["held_out_macro_f1_fp32"], d.get("vader_same_sets") or {}
    names = {
        "ibm_car_rental": "IBM car-rental feedback (229 unique, satisfied vs not), macro-F1",
        "uci_imdb": "UCI IMDb sentences (1,000), macro-F1",
        "bundled_complaint_segments_negative_share": "bundled CFPB complaint segments called negative",
    }

    def fmt(v: Any) -> str:
        return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"

    rows = [
        f"Run: {ran(d)}.",
        "",
        "| held-out set | painpoints (int8 vectors, as shipped) | painpoints (fp32 vectors) | VADER |",
        "|---|---|---|---|",
    ]
    rows += [
        f"| {names.get(k, k)} | **{fmt(v)}** | {fmt(fp32.get(k))} | {fmt(vader.get(k))} |" for k, v in ours.items()
    ]
    return "\n".join(rows)


def grounding(data: dict) -> str:
    d = data.get("grounding")
    if not d:
        return "(no run yet)"
    rows = [
        f"| {r['set']} | {r['themes']} | {r['auc_good_vs_bad']:.3f} | {r['good_kept_at_-0.1']:.1%} | "
        f"{r['bad_rejected_at_-0.1']:.1%} | {r['good_kept_at_0.0']:.1%} | {r['bad_rejected_at_0.0']:.1%} | "
        f"{r['offline_labels_kept_at_-0.1']:.1%} |"
        for r in d["results"]
    ]
    return "\n".join(
        _table(
            f"Run: {ran(d)}.",
            [
                "set",
                "themes",
                "AUC good vs bad",
                "good kept at −0.1",
                "bad rejected at −0.1",
                "good kept at 0",
                "bad rejected at 0",
                "offline labels kept at −0.1",
            ],
            rows,
        )
    )


SECTIONS: dict[str, Callable[[dict], str]] = {
    "targets": targets,
    "quality": quality,
    "ceiling": ceiling,
    "speed": speed,
    "embedding": embedding,
    "incremental": incremental,
    "scale": scale,
    "sentiment": sentiment,
    "grounding": grounding,
    "feedback_type": report_insight.feedback_type,
    "areas": report_insight.areas,
    "pain_precision": report_insight.pain_precision,
    "social": report_insight.social,
    "social_sentiment": report_insight.social_sentiment,
}


def render(path: Path = RESULTS) -> list[str]:
    """Rewrite every generated block in ``path``; returns the names of the blocks rewritten."""
    data = load()
    text, done = path.read_text(encoding="utf-8"), []
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if pattern.search(text):
            body = make(data)
            text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
            done.append(name)
    path.write_text(text, encoding="utf-8")
    (HERE / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    return done


if __name__ == "__main__":
    print("rendered:", ", ".join(render()))
