"""Cleaning, content hashing and segmentation: raw feedback text → units of meaning.

A three-paragraph ticket often holds three pain points; embedding it whole blurs them into one vector.
Long texts are therefore cut at paragraph, then sentence boundaries into segments of at most
``max_chars``; transcripts arrive as customer turns (one per line), grouped in order up to ``max_chars``
but never across a blank line, which the transcript connector puts between two problems.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

from painpoints.discovery.redact import find_names, redact

TAG = re.compile(r"<[^>]{0,200}>")
SIGNATURE = re.compile(r"(?ims)(^--\s*$.*|^sent from my \w+.*$|^(best|kind)? ?regards,?\s*$.*|^cheers,\s*$.*)")
ZERO_WIDTH = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|CARD|IBAN|ADDRESS|ID)\]")
MIN_WORDS = 2


def clean_text(text: str) -> str:
    """Unescape HTML, drop tags, signatures, control and zero-width characters; tidy whitespace
    (paragraph breaks are kept because segmentation uses them)."""
    text = html.unescape(text)
    text = TAG.sub(" ", text)
    text = SIGNATURE.sub("", text)
    text = ZERO_WIDTH.sub("", CONTROL.sub(" ", text)).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = [re.sub(r"[ \t\xa0]+", " ", p).strip() for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(re.sub(r"\s*\n\s*", " ", p) for p in paragraphs if p)


def content_hash(text: str) -> str:
    """Hash of the text up to case and whitespace: the dedupe and embedding-cache key."""
    return hashlib.sha1(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


def split_segments(text: str, max_chars: int = 400) -> list[str]:
    """Cut a cleaned text into segments of at most ~``max_chars`` at paragraph/sentence boundaries."""
    if len(text) <= max_chars:
        return [" ".join(text.split())] if text.strip() else []
    segments: list[str] = []
    for paragraph in text.split("\n\n"):
        current = ""
        for sentence in SENTENCE_END.split(paragraph):
            if current and len(current) + len(sentence) + 1 > max_chars:
                segments.append(current)
                current = sentence
            else:
                current = f"{current} {sentence}".strip()
        if current:
            segments.append(current)
    merged: list[str] = []
    for seg in segments:  # a short tail ("I tried reinstalling.") belongs with the point before it
        if merged and len(seg) < max_chars // 4:
            merged[-1] = f"{merged[-1]} {seg}"
        else:
            merged.append(seg)
    return [s if len(s) <= 4 * max_chars else s[: 4 * max_chars] for s in merged]


def _group_turns(turns: list[str], max_chars: int) -> list[str]:
    """A chat states its problem over several short turns ("I need to return something." … "It's the
    wrong colour."); grouping them keeps the point and its details in one segment."""
    groups: list[str] = []
    for turn in turns:
        if groups and len(groups[-1]) + len(turn) + 1 <= max_chars:
            groups[-1] = f"{groups[-1]} {turn}"
        else:
            groups.append(turn)
    return groups


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")  # kana, CJK ideographs, hangul


def informative(text: str) -> bool:
    """At least two words once PII placeholders are removed: a bare email or id says nothing.
    Chinese and Japanese write without spaces, so there four ideographs/kana (or hangul) count too."""
    rest = PLACEHOLDER.sub(" ", text)
    return len(re.findall(r"[^\W\d_]{2,}", rest)) >= MIN_WORDS or len(CJK.findall(rest)) >= 4


@dataclass(slots=True)
class Segment:
    position: int
    text: str  # cleaned and redacted
    original_text: str  # cleaned only
    pii_found: list[str]


def segment_feedback(kind: str, text: str, max_chars: int = 400, redact_pii: bool = True) -> list[Segment]:
    """The informative segments of one feedback item, positions counted over kept segments."""
    if kind == "transcript":  # one customer turn per line, grouped up to max_chars within one problem
        parts = [
            group
            for problem in text.split("\n\n")  # the connector puts a blank line between problems
            for group in _group_turns(
                [p for line in problem.split("\n") for p in split_segments(clean_text(line), max_chars)], max_chars
            )
        ]
    else:
        parts = split_segments(clean_text(text), max_chars)
    # a name given once is removed everywhere in the item; bare "First Last." sentences count in chats
    names = find_names(text, standalone=kind == "transcript") if redact_pii else set()
    out: list[Segment] = []
    for part in parts:
        redacted, kinds = redact(part, names) if redact_pii else (part, [])
        if informative(redacted):
            out.append(Segment(len(out), redacted, part, kinds))
    return out
