"""RESULTS.md's generated tables for issue 17's benchmarks (insight quality): feedback type, areas
above themes, pain precision of the top 10. Kept apart from ``benchmarks.report`` (which imports
these into its sections) so that each module stays one screenful of renderers."""

from __future__ import annotations

from typing import Any

from benchmarks.common import ran


def _f(v: Any, digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.0%}"


def feedback_type(data: dict) -> str:
    d = data.get("feedback_type")
    if not d:
        return "(no run yet)"
    both, alone = d["rules_and_classifier"]["test/all"], d["classifier_only"]["test/all"]
    target = {"request": "F1 ≥ 0.75"}
    rows = [
        f"Run: {ran(d)}; hand-labelled held-out sentences, test split ({both['rows']} rows).",
        "",
        "| type | precision | recall | F1 | target | classifier alone: F1 | n |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in ("problem", "request", "question", "praise", "other"):
        m, c = both.get(kind), alone.get(kind) or {}
        if not m:
            continue
        goal = target.get(kind, "")
        if goal:
            goal = f"{goal}: {'**met**' if m['f1'] >= 0.75 else 'not met'}"
        rows.append(
            f"| {kind} | {_f(m['precision'])} | {_f(m['recall'])} | **{_f(m['f1'])}** | {goal} | "
            f"{_f(c.get('f1'))} | {m['n']} |"
        )
    spans, ibm = d["review_pulse_heldout_issue_spans"], d["ibm_car_rental_whole_comments"]
    recall = spans["problem_recall"]
    rows += [
        "",
        f"Problem recall on {spans['rows']} held-out Review-Pulse bug-report spans: **{recall:.2f}** "
        f"(target 0.80: {'**met**' if recall >= 0.80 else 'not met'}). IBM whole comments: unsatisfied typed "
        f"problem {ibm['unsatisfied_typed_problem']:.2f}, satisfied typed praise {ibm['satisfied_typed_praise']:.2f}.",
    ]
    return "\n".join(rows)


def areas(data: dict) -> str:
    d = data.get("areas")
    if not d:
        return "(no run yet)"
    goal = d.get("target_homogeneity", 0.85)
    rows = [
        f"Run: {ran(d)}; target: homogeneity of product within area ≥ {goal} on the held-out mix.",
        "",
        "| mix | products | segments / themes | areas | homogeneity (product within area) | completeness | "
        "themes' own homogeneity | area names: cos to the product's name |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in d["mixes"].items():
        at = m["at_chosen_threshold"]
        met = "" if name != "heldout" else f" ({'met' if at['homogeneity'] >= goal else 'not met'})"
        rows.append(
            f"| {name} | {len(m['products'])} | {m['segments']:,} / {m['themes']} | {at['areas']} | "
            f"**{at['homogeneity']:.3f}**{met} | {at['completeness']:.3f} | {m['themes_homogeneity']:.3f} | "
            f"{_f(m.get('area_name_fit'), 3)} |"
        )
    return "\n".join(rows)


def pain_precision(data: dict) -> str:
    d = data.get("pain_precision")
    if not d:
        return "(no run yet)"
    seeds = d.get("seeds", [])
    rows = [
        f"Run: {ran(d)}; seeds {seeds} (first in full, median over seeds in brackets); target ≥ 0.85 with no "
        "top-10 row mostly non-negative, on every seed of each held-out set.",
        "",
        "| set | items | truly negative | pain_points rows | precision@10 (median) | 3★ counted negative | "
        "rows mostly non-negative | negatives inside pain_points | pain_facets precision@10 | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    met = d.get("met_on_held_out", {})
    for r in d["results"]:
        p, med = r["pain_points"], r.get("median_over_seeds", {})
        three = p.get("precision_3_as_negative")
        verdict = "reference (trained on)" if r["trained_on"] else ("**met**" if met.get(r["set"]) else "not met")
        rows.append(
            f"| {r['set']} | {r['items']:,} | {r['base_rate_negative']:.1%} | {r['themes']['pain_points']} | "
            f"{_f(p['precision'])} ({_f(med.get('precision'))}) | {_f(three) if three is not None else ''} | "
            f"{p['mostly_miss']} | {_pct(r['negative_items_in_pain_points_share'])} | "
            f"{r['pain_facets']['k']}: {_f(r['pain_facets']['precision'])} | {verdict} |"
        )
    return "\n".join(rows)


def social(data: dict) -> str:
    d = data.get("social")
    if not d:
        return "(no run yet)"
    rows = [
        f"Run: {ran(d)}; {d['posts']} written posts, {d['problems']} problems, {d['brands']} airline handles; "
        f"seeds {d['seeds']} (median).",
        "",
        "| posts clustered | NMI with the problem | NMI with the brand | themes by seed | "
        "cos same problem, other brand | cos same brand, other problem |",
        "|---|---|---|---|---|---|",
    ]
    for name, title in (("as_written", "as written (handles in)"), ("segmented", "as segmented (handles out)")):
        m = d[name]
        rows.append(
            f"| {title} | **{m['nmi_problem']:.3f}** | {m['nmi_brand']:.3f} | {m['themes']} | "
            f"{m['cos_same_problem_other_brand']:.3f} | {m['cos_same_brand_other_problem']:.3f} |"
        )
    return "\n".join(rows)


def social_sentiment(data: dict) -> str:
    d = data.get("social_sentiment")
    if not d:
        return "(no run yet)"
    goal = d["target"]
    held = next((r for r in d["results"] if r["set"] == goal["set"]), None)  # judged from the figure
    met = held is not None and not held["trained_on"] and held["painpoints"]["macro_f1"] >= goal["macro_f1"]
    rows = [
        f"Run: {ran(d)}; {d['source']}; truth: {d['truth_rule']}; target: 3-class macro-F1 ≥ "
        f"{goal['macro_f1']} on `{goal['set']}` (held out): **{'met' if met else 'not met'}**.",
        "",
        "| set | items (neg / neu / pos) | 3-class macro-F1 painpoints / VADER | painpoints F1 neg / neu / pos | "
        "neutral P / R | binary macro-F1 on polar rows painpoints / VADER |",
        "|---|---|---|---|---|---|",
    ]
    for r in d["results"]:
        p, v, t = r["painpoints"], r["vader"], r["truth"]
        c = p["per_class"]
        name = r["set"] + (" (trained on)" if r["trained_on"] else " (held out)")
        rows.append(
            f"| {name} | {r['items']:,} ({t.get('negative', 0):,} / {t.get('neutral', 0):,} / "
            f"{t.get('positive', 0):,}) | **{p['macro_f1']:.3f}** / {v['macro_f1']:.3f} | "
            f"{c['negative']['f1']:.2f} / {c['neutral']['f1']:.2f} / {c['positive']['f1']:.2f} | "
            f"{c['neutral']['precision']:.2f} / {c['neutral']['recall']:.2f} | "
            f"{_f(p['binary_macro_f1_polar_rows'], 3)} / {_f(v['binary_macro_f1_polar_rows'], 3)} |"
        )
    return "\n".join(rows)
