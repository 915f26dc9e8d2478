"""PII redaction: emails, phone numbers, payment cards (Luhn-checked), IBANs (mod-97-checked),
street addresses and account-like ids become ``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[IBAN]``,
``[ADDRESS]`` and ``[ID]``.

Redacted text is what gets embedded, shown and (later) sent to an LLM. Person names are not detected
(that needs an NER model); see README "Privacy".
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
PHONE = re.compile(r"(?<![\w$])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?![\w])")
ADDRESS = re.compile(r"\b\d{1,6}\s+(?:[A-Za-z0-9]+\s+){0,3}(?:st|street|ave|avenue|rd|road|blvd|"
                     r"boulevard|ln|lane|dr|drive|way|ct|court|pl|place|ter|terrace|pkwy|hwy)\b\.?", re.I)
LABELLED_ID = re.compile(r"(?i)\b(user ?name|user ?id|account(?: number| no\.?| id)?|order(?: id| number| no\.?)|"
                         r"member(?:ship)? (?:id|number)|customer (?:id|number)|zip(?: ?code)?|postal code|"
                         r"ssn|pin|password)(\s*(?:is|:|#|=)?\s*)([A-Za-z0-9][\w.-]{1,}[A-Za-z0-9])")
LONG_NUMBER = re.compile(r"(?<![\w$.,])\d{5,}(?![\w.,]\d)")
MIXED_ID = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z0-9]{6,}\b")


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


def redact(text: str) -> tuple[str, list[str]]:
    """Return the redacted text and the sorted kinds of PII found."""
    found: set[str] = set()

    def sub(pattern: re.Pattern[str], tag: str, check: Callable[[str], bool] | None = None,
            group: int = 0) -> Callable[[re.Match[str]], str]:
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
