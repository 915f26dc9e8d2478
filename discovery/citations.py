"""Checking an LLM answer's citations against the feedback they name (``painpoints ask``).

A model can invent ids, or cite a real item that says something else. An answer is read as sentences,
each citing feedback ids in square brackets (``… charged twice [0a1b2c3d4e5f60718293].``). A sentence
stays only when it cites at least one id, every id it cites is stored feedback, and the sentence is
close in meaning to each cited item: the cosine of the embedded sentence (citations removed) and the
item's best-matching segment is at least ``min_support``. That is the grounding idea of LLM theme labels
(a label must sit closer to its own theme than to others) applied to sentences, with an absolute
threshold because one item has no "other themes" to compare with. The segment texts are the
PII-redacted ones the tools showed the model. 0.45 was measured on 20 hand-written claims against
demo-DB items (``python -m benchmarks.ask_support``, docs/ask.md): 85-95% of true citations pass
(by wording), 1.3% of citations of a random other item do (topical neighbours, e.g. two
credit-report complaints); 0.40 would pass 95% and 3.9%. It checks topic, not each detail:
a wrong amount or date in a sentence about the right item passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from painpoints.discovery.components import Encoder

MIN_SUPPORT = 0.45
CITE = re.compile(r"\[([^\[\]\n]{1,400})\](?!\()")  # not markdown links [text](url)
ID_TOKEN = re.compile(r"(?=[\w:-]*\d)[A-Za-z0-9][\w:-]{3,}")  # id-like: has a digit, no spaces
MASK = re.compile(r"[A-Z_]+")  # [NAME], [EMAIL]: redaction marks quoted from the text, not citations
TRAILING_CITES = re.compile(r"(?:\[[^\[\]]*\][\s.,;]*)+")


@dataclass
class Citation:
    """One cited id: whether it is stored, the segment that best matches the sentences citing it, and
    its support (the lowest cosine over those sentences)."""

    feedback_id: str
    external_id: str | None
    text: str | None  # the best-matching segment's redacted text; None when the id is not stored
    supported: bool  # stored, and supports every sentence citing it
    support: float | None


@dataclass
class Checked:
    answer: str  # the sentences that passed, lines kept; "" when no cited sentence passed
    citations: list[Citation]
    dropped: list[dict[str, str]]  # {"sentence", "reason"}


def sentences(text: str) -> list[tuple[int, str, list[str]]]:
    """``(line, sentence, cited ids)``: lines split at sentence ends; citations written after a
    sentence's full stop (``… twice. [a1b2…]``) stay with it."""
    out: list[tuple[int, str, list[str]]] = []
    for n, line in enumerate(text.splitlines()):
        parts: list[str] = []
        for part in re.split(r"(?<=[.!?])\s+", line.strip()):
            if parts and TRAILING_CITES.fullmatch(part):
                parts[-1] += " " + part
            elif part:
                parts.append(part)
        out += [(n, p, cited_ids(p)) for p in parts]
    return out


def cited_ids(sentence: str) -> list[str]:
    """The ids a sentence cites: bracket groups of id-like tokens (``[a1b2…]``, ``[a1…, b2…]``);
    a ``feedback_id:segment`` cites its item."""
    ids: list[str] = []
    for group in CITE.findall(sentence):
        tokens = [t.strip("`'\"") for t in re.split(r"[,;\s]+", group.strip()) if t.strip("`'\"")]
        if tokens and not any(MASK.fullmatch(t) for t in tokens) and all(ID_TOKEN.fullmatch(t) for t in tokens):
            ids += [t.split(":")[0] for t in tokens if t.split(":")[0] not in ids]
    return ids


def claim(sentence: str) -> str:
    """What a sentence says, without its citations or a list bullet."""
    return " ".join(re.sub(r"^[\W\d]*\s|\[[^\[\]]*\]", " ", sentence).split())


def support(
    encoder: Encoder, pairs: list[tuple[str, str]], texts: dict[str, list[str]]
) -> dict[tuple[str, str], tuple[float, str]]:
    """For each (sentence, cited id) whose item has text: the cosine of the sentence's claim and the
    item's best-matching segment, and that segment."""
    pairs = [(s, i) for s, i in pairs if texts.get(i)]
    if not pairs:
        return {}
    claims = list(dict.fromkeys(s for s, _ in pairs))
    segments = [(i, t) for i in dict.fromkeys(i for _, i in pairs) for t in texts[i]]
    sims = (
        np.asarray(encoder.encode([claim(c) for c in claims])) @ np.asarray(encoder.encode([t for _, t in segments])).T
    )
    owner = np.array([i for i, _ in segments])
    out = {}
    for s, i in pairs:
        row = np.where(owner == i, sims[claims.index(s)], -np.inf)
        out[(s, i)] = (float(row.max()), segments[int(row.argmax())][1])
    return out


def check(
    text: str, items: dict[str, tuple[str | None, list[str]]], encoder: Encoder, min_support: float = MIN_SUPPORT
) -> Checked:
    """Keep the sentences of ``text`` whose citations all exist in ``items`` (id → external id,
    segment texts) and support them; headings ending in ":" stay above kept sentences."""
    parts = sentences(text)
    scores = support(
        encoder,
        [(s, i) for _, s, cited in parts for i in cited if i in items],
        {i: texts for i, (_, texts) in items.items()},
    )
    kept: dict[int, list[str]] = {}
    dropped: list[dict[str, str]] = []
    best: dict[str, tuple[float, str]] = {}
    for line, sentence, cited in parts:
        missing = [i for i in cited if i not in items]
        weak = [i for i in cited if i in items and scores.get((sentence, i), (0.0, ""))[0] < min_support]
        for i in set(cited) - set(missing):
            score = scores.get((sentence, i), (0.0, ""))
            best[i] = min(best.get(i, score), score)
        if missing:
            dropped.append({"sentence": sentence, "reason": f"cites {', '.join(missing)}: not stored feedback"})
        elif weak:
            dropped.append({"sentence": sentence, "reason": f"the text of {', '.join(weak)} does not say this"})
        elif not cited and not sentence.endswith(":"):
            dropped.append({"sentence": sentence, "reason": "cites no feedback"})
        else:
            kept.setdefault(line, []).append(sentence)
    answer = "\n".join(" ".join(p) for _, p in sorted(kept.items()))
    if not any(cited_ids(s) for p in kept.values() for s in p):
        answer = ""
    ids = list(dict.fromkeys(i for *_, cited in parts for i in cited))
    citations = [
        Citation(i, items[i][0], best[i][1] or None, best[i][0] >= min_support, round(best[i][0], 3))
        if i in items
        else Citation(i, None, None, False, None)
        for i in ids
    ]
    return Checked(answer, citations, dropped)
