"""PII redaction: emails, phone numbers, payment cards (Luhn-checked), IBANs (mod-97-checked),
street addresses and account-like ids become ``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[IBAN]``,
``[ADDRESS]`` and ``[ID]``.

Person names are found by context, not by an NER model: after "my name is …" / "the name on the
account is …" (any case), after "I'm / this is …" (capitalised words), and — in transcripts only —
as a sentence of two or three capitalised words, maybe after "yes," / "sure," ("Sure, David
Williams."), the usual answer to "may I have your name?". Every later mention of a found name's parts
in the same feedback item is redacted too. Names written in lower case without such context still pass
(see README "What leaves the machine").

Redacted text is what gets embedded, shown and sent to an LLM.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
PHONE = re.compile(r"(?<![\w$])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?![\w])")
ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[A-Za-z0-9]+\s+){0,3}(?:st|street|ave|avenue|rd|road|blvd|"
    r"boulevard|ln|lane|dr|drive|way|ct|court|pl|place|ter|terrace|pkwy|hwy)\b\.?",
    re.I,
)
LABELLED_ID = re.compile(
    r"(?i)\b(user ?name|user ?id|account(?: number| no\.?| id)?|order(?: id| number| no\.?)|"
    r"member(?:ship)? (?:id|number)|customer (?:id|number)|zip(?: ?code)?|postal code|"
    r"ssn|pin|password)(\s*(?:is|:|#|=)?\s*)([A-Za-z0-9][\w.-]{1,}[A-Za-z0-9])"
)
LONG_NUMBER = re.compile(r"(?<![\w$.,])\d{5,}(?![\w.,]\d)")
MIXED_ID = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{6,}\b")


NAME_INTRO = re.compile(
    r"(?i)\b(?:my (?:full )?name is|my name'?s|name on (?:the|my) account is|"
    r"under the name(?: of)?|name is)\s*:?\s+([a-z][a-z'-]+(?:\s+[a-z][a-z'-]+){0,2})"
)
NAME_SELF = re.compile(r"\b(?:[Ii]'?m|[Tt]his is|[Ii] am|[Ii]t'?s)\s+([A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+){0,2})\b")
NAME_SENTENCE = re.compile(
    r"(?:^|(?<=[.!?:,]\s))(?:(?:[Hh]i|[Hh]ello|[Yy]es|[Yy]eah|[Ss]ure|[Oo]k(?:ay)?|[Tt]hanks|"
    r"[Ii]t is|[Ii]t'?s|[Ii]ts)[\s,]+)*"
    r"([A-Za-z][a-z'-]+(?:\s+[A-Z][a-z'-]+){1,2})(?=[.!?,]?(?:\s|$))"
)
NOT_NAME = frozenset(
    {
        "and",
        "but",
        "or",
        "my",
        "i",
        "the",
        "a",
        "an",
        "with",
        "from",
        "for",
        "to",
        "at",
        "in",
        "on",
        "not",
        "so",
        "please",
        "thanks",
        "thank",
        "here",
        "there",
        "is",
        "was",
        "it",
        "that",
        "this",
        "order",
        "account",
        "email",
        "phone",
        "number",
        "username",
        "id",
        "zip",
        "code",
        "hi",
        "hello",
        "hey",
        "yes",
        "no",
        "ok",
        "okay",
        "sure",
        "good",
        "great",
        "sorry",
        "just",
        "trying",
        "having",
        "looking",
        "calling",
        "unable",
        "wondering",
        "going",
        "still",
        "also",
    }
)


def find_names(text: str, standalone: bool = False) -> set[str]:
    """Person names stated in ``text`` (see module docstring for the cues). ``standalone``: also take a
    sentence of bare capitalised words as a name — right in chats, too eager in reviews ("Highly
    Recommended.")."""
    found: set[str] = set()
    text = re.sub(r"[ \t]+", " ", text)  # "Okay.  Albert Sanders." (two spaces) must still match
    for pattern in (NAME_INTRO, NAME_SELF, NAME_SENTENCE) if standalone else (NAME_INTRO, NAME_SELF):
        for m in pattern.finditer(text):
            words = []
            for w in m.group(1).split():
                if w.lower() in NOT_NAME:
                    break
                words.append(w)
            if words and (pattern is not NAME_SENTENCE or len(words) >= 2):
                found.add(" ".join(words))
    return found


def _redact_names(text: str, names: set[str]) -> str:
    parts = sorted(
        {p for n in names for p in [n, *n.split()] if len(p) >= 3 and p.lower() not in NOT_NAME}, key=len, reverse=True
    )
    if not parts:
        return text
    pattern = re.compile(r"\b(" + "|".join(re.escape(p) for p in parts) + r")\b", re.I)
    text = pattern.sub("[NAME]", text)
    return re.sub(r"\[NAME\](?:\s+\[NAME\])+", "[NAME]", text)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    s = candidate.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    rearranged = s[4:] + s[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


def redact(text: str, names: set[str] | None = None) -> tuple[str, list[str]]:
    """Return the redacted text and the sorted kinds of PII found. ``names``: person names found in
    the wider context (the whole feedback item) to remove here too."""
    found: set[str] = set()
    names = (names or set()) | find_names(text)
    if names:
        redacted = _redact_names(text, names)
        if redacted != text:
            found.add("name")
            text = redacted

    def sub(
        pattern: re.Pattern[str], tag: str, check: Callable[[str], bool] | None = None, group: int = 0
    ) -> Callable[[re.Match[str]], str]:
        def repl(m: re.Match[str]) -> str:
            value = m.group(group)
            if check is not None and not check(value):
                return m.group(0)
            found.add(tag.strip("[]").lower())
            return m.group(0).replace(value, tag) if group else tag

        return repl

    text = EMAIL.sub(sub(EMAIL, "[EMAIL]"), text)
    text = IBAN.sub(sub(IBAN, "[IBAN]", iban_ok), text)
    text = CARD.sub(sub(CARD, "[CARD]", lambda v: luhn_ok(re.sub(r"\D", "", v))), text)
    text = PHONE.sub(sub(PHONE, "[PHONE]"), text)
    text = ADDRESS.sub(sub(ADDRESS, "[ADDRESS]"), text)
    text = LABELLED_ID.sub(sub(LABELLED_ID, "[ID]", group=3), text)
    text = LONG_NUMBER.sub(sub(LONG_NUMBER, "[ID]"), text)
    text = MIXED_ID.sub(sub(MIXED_ID, "[ID]"), text)
    return text, sorted(found)
