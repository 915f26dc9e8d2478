"""Cleaning, content hashing and segmentation: raw feedback text → units of meaning.

A three-paragraph ticket often holds three pain points; embedding it whole blurs them into one vector.
Long texts are therefore cut at paragraph, then sentence boundaries into segments of at most
``max_chars``; transcripts arrive as customer turns (one per line), grouped in order up to ``max_chars``
but never across a blank line, which the transcript connector puts between two problems.

A mixed review ("Love the colour, but it runs two sizes small") holds praise and a problem in one
short text; embedded whole, it sits between a praise theme and a fit theme and is typed by one of
its halves. With ``contrast`` (setting ``segment_at_contrast``), such a text is also cut where praise
turns into a complaint (``cut_at_contrast``), so each half lands in its own theme.

Social posts address a brand: "@united lost my bag", "@Delta my bag never arrived #fail http://t.co/x".
Embedded as written, the handle weighs as much as the problem in a 10-word text, and themes come out
one per airline (``benchmarks/social.py``: on written airline posts the themes' NMI with the brand is
0.45 and with the problem 0.11 as written; 0.12 and 0.76 without the handles). So a text that opens as a
post does (a run of @handles, ".@brand", "RT @bob:") is segmented without its handles and links, and
its hashtags keep their word ("#fail" → "fail"): ``unaddressed``. Any other text — reviews, tickets
that mention "@Override" or "npm install @angular/core", links in a support chat — passes unchanged.
Which brand a theme concerns stays a facet: the item's text is stored whole, and the view
``theme_mentions`` breaks themes down by the handles addressed. Items segmented before this rule keep
their segments (prepare segments an item once).
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
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")  # reviews often go on in lower case after a full stop
PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|CARD|IBAN|ADDRESS|ID)\]")
MIN_WORDS = 2
# a handle: "@" (or ".@") then a letter or "_", not after a word character (an e-mail address) and not
# a package path or domain ("@types/node", "@x.com"); "@2x" is no handle either
_HANDLE = r"\.?@[^\W\d]\w*(?![/\w]|\.\w)"
POST_OPENING = re.compile(rf"^\s*(?:(?:RT\s*:?\s*)?{_HANDLE}[\s:,]*)+")
HANDLE = re.compile(rf"(?<![\w@]){_HANDLE}")
LINK = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
HASH = re.compile(r"(?<![\w&#])#(?=[^\W\d_])")
SPACE_BEFORE_PUNCT = re.compile(r" ([,.!?;:])")


def unaddressed(text: str) -> str:
    """A social post without what addresses it: its opening handles ("@united", ".@Delta", "RT @bob:"),
    the other handles and links; its hashtags keep their word. A text that does not open as a post
    is returned as it is."""
    opening = POST_OPENING.match(text)
    if opening is None:
        return text
    rest = HASH.sub("", HANDLE.sub(" ", LINK.sub(" ", text[opening.end() :])))
    return SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(rest.split())).strip(" :,")


def clean_text(text: str) -> str:
    """Unescape HTML, drop tags, signatures, control and zero-width characters; tidy whitespace
    (paragraph breaks are kept because segmentation uses them)."""
    text = html.unescape(text)
    text = TAG.sub(" ", text)
    text = SIGNATURE.sub("", text)
    text = ZERO_WIDTH.sub("", CONTROL.sub(" ", text)).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(unaddressed(line) for line in text.split("\n"))
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


# the clause before a contrast reads as praise: a praise word, no negation, no problem word
PRAISE = re.compile(
    r"\b(?:lov(?:e|ed|es|ing)|great|excellent|amazing|awesome|perfect(?:ly)?|beautiful(?:ly)?|gorgeous|pretty|cute|"
    r"lovely|nice(?:ly)?|comfortable|comfy|soft|flattering|fantastic|wonderful|good|best|happy|helpful|friendly|"
    r"stunning|elegant|fabulous|superb|brilliant|impressed|(?:i|we) (?:really )?(?:like|liked|enjoy|enjoyed|adore)|"
    r"works? (?:well|fine|great)|easy to use)\b",
    re.I,
)
NEGATED = re.compile(
    r"\b(?:not|no|never|nothing|hardly|isn't|wasn't|aren't|weren't|don't|doesn't|didn't|can't|won't)\b|n't\b", re.I
)
# the sentence after it names a problem: a defect, a misfit, a let-down, slowness, a negation
PROBLEM_WORDS = re.compile(
    r"\b(?:not|never|too|lacks?|lacking|return\w*|disappoint\w*|issues?|problems?|bugs?|crash\w*|broke\w*|cheap\w*|"
    r"awful|terrible|poor\w*|small|big|large|huge|tight|loose|short|long|thin|sheer|see[- ]through|itchy|scratchy|"
    r"wrinkl\w*|boxy|baggy|runs?|ran|fell apart|ripped|tore|torn|stain\w*|faded?|shrunk|shrank|slow|rude|wait\w*|"
    r"late|dirty|expensive|overpriced|hard|difficult|confusing|annoying|fail\w*|errors?|freez\w*|unfortunately|"
    r"sadly|only|wish|hate\w*|worst|bad|odd|weird|strange|unflattering)\b|n't\b",
    re.I,
)
CONTRAST = re.compile(
    r"(?:,\s*|\s+)(?=\b(?:but|however|unfortunately|sadly|although|though|except|the only (?:problem|issue|"
    r"complaint|downside|thing|negative|con|drawback)|my only (?:complaint|issue|gripe|problem))\b)",
    re.I,
)
LAST_CLAUSE = re.compile(r"[.!?;]\s+|,\s+(?=and\b)")
HEAD_MIN_WORDS, TAIL_MIN_WORDS = 2, 3  # fewer is a fragment, not a point ("love it", "but meh")


def cut_at_contrast(text: str) -> list[str]:
    """``text`` cut before each contrast ("but", "however", "my only complaint") that turns praise into
    a problem: the clause before it praises (a praise word, no negation or problem word) and the
    sentence after it names a problem. Contrasts between two complaints ("I tried resetting it but
    it still fails") or back to praise ("runs short but looks amazing") are left alone, and so is
    any cut that would leave a fragment (under two words before it, three after)."""
    parts: list[str] = []
    start = 0
    for m in CONTRAST.finditer(text):
        head, tail = text[start : m.start()].strip(), text[m.end() :]
        if len(head.split()) < HEAD_MIN_WORDS or len(tail.split()) < TAIL_MIN_WORDS:
            continue
        last = LAST_CLAUSE.split(head)[-1]
        first = SENTENCE_BREAK.split(tail, maxsplit=1)[0]
        if PRAISE.search(last) and not NEGATED.search(last) and not PROBLEM_WORDS.search(last):
            if PROBLEM_WORDS.search(first):
                parts.append(head)
                start = m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


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


def segment_feedback(
    kind: str, text: str, max_chars: int = 400, redact_pii: bool = True, contrast: bool = False
) -> list[Segment]:
    """The informative segments of one feedback item, positions counted over kept segments. With
    ``contrast``, a review's or ticket's segment is also cut where praise turns into a problem
    (``cut_at_contrast``); a transcript's customer turns are left as grouped."""
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
        if contrast:
            parts = [piece for part in parts for piece in cut_at_contrast(part)]
    # a name given once is removed everywhere in the item; bare "First Last." sentences count in chats
    names = find_names(text, standalone=kind == "transcript") if redact_pii else set()
    out: list[Segment] = []
    for part in parts:
        redacted, kinds = redact(part, names) if redact_pii else (part, [])
        if informative(redacted):
            out.append(Segment(len(out), redacted, part, kinds))
    return out
