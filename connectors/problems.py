"""Cut a customer's side of a conversation into problems, so that each problem becomes its own segment.

A caller who says "our exports fail every night" and, three turns later, "another thing — the dashboard
takes a minute to load" has two pain points; embedded together they blur into one vector and one theme.
A new problem starts where the customer signals it, with no attempt at reading meaning:

- a sentence or clause opened by a new-topic marker: "also", "another thing/issue", "one more thing",
  "on top of that", "separately", "while I have you", "the other problem", "secondly" …;
- a sentence that adds with "also"/"too"/"as well" ("The dashboard is also slow") when it shares no
  content word with the problem so far and does not start by pointing back ("it", "that", "I", "we");
- the first customer turn after the agent asks "anything else?", when it says something is wrong
  (a negation, "fails", "slow", "error", …); a reply without any is wrap-up and stays with the problem
  before, and a short closing ("No, that's all, thanks") is dropped.

Everything else continues the current problem (answers to the agent's questions, details, retries), so
a problem stated over several turns stays together. The result is a list of problems, each a list of
blocks (consecutive customer turns joined); ``discovery.normalize`` keeps problems apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from painpoints.connectors.speakers import Turn

LEAD = r"(?:(?:oh|and|ok(?:ay)?|yes|yeah|right|sure|sorry|thanks|thank you|well|so|um|uh|hmm|but|also)[,.!]?\s+)*"
MARKER = (
    r"(?:also\b|plus,|another (?:thing|issue|problem|question|one)\b|one (?:more|other|last) (?:thing|issue|problem)\b"
    r"|(?:the|my|a|our) (?:other|second|next|separate|different) (?:thing|issue|problem|question)\b"
    r"|on top of (?:that|this)\b|besides (?:that|this)\b|apart from (?:that|this)\b"
    r"|separately\b|unrelated(?: to that)?\b|on (?:a|another) (?:different|separate|unrelated)? ?note\b"
    r"|while (?:I have you|I've got you|you're (?:at it|here|there|looking|on))\b|second(?:ly)?,"
    r"|(?:and )?(?:as|for) (?:a|the) second (?:thing|issue|problem)\b)"
)
STARTS_NEW = re.compile(rf"^{LEAD}{MARKER}", re.I)
CLAUSE = re.compile(rf"[,;:\u2013\u2014-]\s+(?=(?:and\s+|but\s+)?{MARKER})", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
ADDS = re.compile(r"\balso\b|\b(?:too|as well)[.!?]*$", re.I)
POINTS_BACK = re.compile(
    rf"^{LEAD}(?:(?:do|can|could|would|will) you|it|it's|its|they|they're|that|that's|this|these|those|which"
    r"|he|she|i|i'm|i've|we|we're|we've)\b",
    re.I,
)
INVITES_NEW = re.compile(
    r"\b(?:is|was) there anything else\b|\banything else (?:I|we) can\b|\banything else (?:today|for you)\b"
    r"|\bsomething else (?:I|we) can\b|\bany other (?:issues?|problems?|questions?|concerns?)\b"
    r"|\bwhat else can (?:I|we)\b",
    re.I,
)
# words that say something is wrong: a block after "anything else?" without any is wrap-up, not a new problem
PROBLEM_SIGNAL = re.compile(
    r"\b(?:can'?t|cannot|couldn'?t|unable|not (?:working|loading|arriving|arrived|received|showing|possible)"
    r"|(?:doesn'?t|does not|won'?t|will not|didn'?t|did not) (?:work|load|open|show|sync|arrive|let)"
    r"|(?:isn'?t|is not|aren'?t|are not) (?:working|loading)|never (?:arrived|came|got|received|showed)"
    r"|fail\w*|errors?|broken|crash\w*|slow\w*|wrong|missing|lost|stuck|(?:over)?charged|refund\w*|cancel\w*"
    r"|issues?|problems?|bugs?|trouble|late|delay\w*|freez\w*|times? out|timeouts?)\b",
    re.I,
)
# the reply to "anything else?" that ends the call ("No, that'll be all, thanks")
CLOSING = re.compile(
    r"^(?:no|nope|nah|nothing|that'?s|that is|that will|that'?ll|that was|i'?m good|all good|i think that)\b"
    r".*\b(?:all|it|thanks?|thank you|everything|else|good|set|helpful|bye)\b",
    re.I,
)
CLOSING_MAX_WORDS = 12
FILLER = re.compile(
    r"^(ok(ay)?|k|yes|yeah|yep|no|nope|sure|thanks?( you)?( so much| very much)?|thx|"
    r"hi|hello|hey|bye|good ?bye|great|cool|perfect|alright|right|got it|that'?s all|"
    r"nothing else|no thanks|you too|awesome|fine|done)[\s!.,]*$",
    re.I,
)
STOP = frozenset(
    "about after again also because been before being could does doing from have having just like make "
    "more much only other really some still than that their them then there these they thing this those "
    "very want were what when where which while will with would your yours okay yeah".split()
)
MIN_PIECE_WORDS = 3  # a marker clause shorter than this ("plus tax") is not a problem of its own
DRIFT_MIN_WORDS = 5  # "Excel too." answers a question; "The dashboard is also really slow." adds a problem
MIN_BLOCK_WORDS = 3


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in STOP}


def _closes(text: str) -> bool:
    return len(text.split()) <= CLOSING_MAX_WORDS and bool(CLOSING.match(text))


def pieces(text: str) -> list[tuple[bool, str]]:
    """A customer turn as (opens with a new-topic marker?, text) pieces: its sentences, and clauses cut
    before an "…, and also …" marker (only when both sides are long enough to be points of their own)."""
    out: list[tuple[bool, str]] = []
    for sentence in SENTENCE_END.split(" ".join(text.split())):
        parts = CLAUSE.split(sentence)
        if len(parts) > 1 and any(len(p.split()) < MIN_PIECE_WORDS for p in parts):
            parts = [sentence]
        out.extend((i > 0 or bool(STARTS_NEW.match(part)), part) for i, part in enumerate(parts) if part.strip())
    return out


def _drifts(piece: str, so_far: str) -> bool:
    """An additive sentence ("The dashboard is also slow") about something not mentioned so far."""
    return (
        len(piece.split()) >= DRIFT_MIN_WORDS
        and not piece.rstrip().endswith("?")
        and bool(ADDS.search(piece))
        and not POINTS_BACK.match(piece)
        and not (_stems(piece) & _stems(so_far))
    )


def customer_problems(turns: list[Turn], is_customer: Callable[[Turn], bool]) -> list[list[str]]:
    """The customer's words as problems, each a list of blocks (consecutive customer turns joined);
    agent turns are dropped and only decide where a problem may start. Filler ("ok", "thanks",
    "that's all") and blocks under three words are left out, as before attribution existed."""
    problems: list[list[list[str]]] = []  # problem → block → parts
    invited: list[bool] = []  # opened only because the agent asked "anything else?"
    new_topic, in_block, answering, may_close = True, False, False, False
    for turn in turns:
        text = " ".join(turn.text.split())
        if not text:
            continue
        if not is_customer(turn):
            in_block = False
            invited_now = bool(INVITES_NEW.search(text))
            new_topic, may_close = new_topic or invited_now, invited_now
            answering = text.endswith("?")
            continue
        if FILLER.match(text) or (may_close and problems and _closes(text)):
            continue
        for i, (marked, piece) in enumerate(pieces(text)):
            so_far = " ".join(p for block in problems[-1] for p in block) if problems else ""
            drifted = bool(so_far) and not (answering and i == 0) and _drifts(piece, so_far)
            if not problems or new_topic or marked or drifted:
                problems.append([[piece]])
                invited.append(bool(problems[:-1]) and new_topic and not (marked or drifted))
            elif in_block:
                problems[-1][-1].append(piece)
            else:
                problems[-1].append([piece])
            new_topic, in_block = False, True
        answering = False
    merged: list[list[list[str]]] = []
    for problem, was_invited in zip(problems, invited, strict=True):
        text = " ".join(p for block in problem for p in block)
        if merged and was_invited and not PROBLEM_SIGNAL.search(text):
            merged[-1].extend(problem)  # "I'll try that, thanks" after "anything else?" is wrap-up
        else:
            merged.append(problem)
    out = [[_join(block) for block in problem] for problem in merged]
    return [kept for problem in out if (kept := [b for b in problem if len(b.split()) >= MIN_BLOCK_WORDS])]


def _join(parts: list[str]) -> str:
    return " ".join(p if p[-1:] in ".?!" else p + "." for p in (p.rstrip() for p in parts) if p)
