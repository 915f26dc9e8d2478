"""Who is the customer? Speaker attribution for transcripts whose speakers are named by person.

A Zoom or Gong transcript says "Dana Whitfield:" and "Marco Ruiz:", not "Customer:" and "Agent:". Keeping
every turn counts the agent's apologies and "let me check our status page" as customer pain, so each
speaker is attributed once per conversation, from the strongest evidence available (in this order):

1. **roster** — names configured per source (``agents`` / ``customers``, the older ``customer_roles``);
2. **role words** — the label itself is a role ("Agent", "Customer", "USR", "SYS", …);
3. **affiliation** — the recording system says so (Gong parties: ``Internal`` = company side);
4. **company** — the label or e-mail names the company (``company = ["Acme", "acme.com"]`` matches
   "Marco Ruiz (Acme)" or "marco@acme.com").

Evidence about some speakers decides the rest: when some speakers are known agents, every other
speaker is a customer, and the other way round. Only when nothing is known does the **heuristic**
score speakers by what they say (a company greeting in their opening turns, apologies, "let me check",
"I've escalated" … minus customer phrasing such as "I've been trying"); it names an agent only on clear
evidence, else the conversation is kept whole and marked ``undecided``. The decision and its reasons go
into the item's metadata (``metadata['speakers']``) so a user can see and correct it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

CUSTOMER_ROLES = frozenset(
    {
        "customer",
        "usr",
        "user",
        "client",
        "caller",
        "cust",
        "buyer",
        "guest",
        "member",
        "consumer",
        "patient",
        "visitor",
        "speaker 1",
    }
)
AGENT_ROLES = frozenset(
    {
        "agent",
        "sys",
        "system",
        "support",
        "rep",
        "representative",
        "assistant",
        "bot",
        "act",
        "action",
        "operator",
        "advisor",
        "csr",
        "staff",
        "speaker 2",
    }
)

EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
# the opening of a support or sales call: said by the company side, rarely by the customer
GREETING = re.compile(
    r"(?i:\bthanks?(?: you)?(?: so much)? for (?:calling|contacting|reaching out|getting in touch|joining|holding)"
    r"|\bhow (?:can|may|might) (?:I|we) (?:help|assist)|\bwhat can I (?:do|help you with)"
    r"|\bwelcome to\b|\byou(?:'ve| have) reached\b)"
    r"|(?i:\bmy name is|\bthis is|\bI'm|\bI am) [A-Z][\w'-]+(?: [A-Z][\w'-]+)? (?i:from|with|at|here at|on the) "
)
AGENT_PHRASES = [
    re.compile(p, re.I)
    for p in (
        r"\b(?:I'm|I am|we're|we are) (?:so |very |really |truly )?sorry (?:to hear|for (?:the|any|that))",
        r"\b(?:I|we) (?:sincerely )?apologi[sz]e",
        r"\blet me (?:check|look|see|pull|take a look|find|verify|confirm|escalate|get|walk|transfer|connect|open)",
        r"\b(?:I|we)(?:'ve| have|'ll| will) "
        r"(?:escalated|escalate|raised|filed|opened|created|logged|flagged|forwarded)",
        r"\b(?:our|the) (?:status page|engineering team|engineers|dev team|product team|billing team|support team)",
        r"\banything else (?:I|we) can",
        r"\b(?:can|could) (?:you|I) (?:please )?(?:confirm|verify|get|have) (?:your|the) "
        r"(?:account|email|name|order|ticket|number|workspace)",
        r"\bmay I (?:have|get|ask)\b",
        r"\bI can see (?:that |on |in )?(?:your|the)\b",
        r"\b(?:have you tried|could you try|can you try)\b",
        r"\bI(?:'ll| will) (?:follow up|send you|email you|get back to you|keep you posted)",
        r"\b(?:happy|glad) to help\b",
    )
]
CUSTOMER_PHRASES = [
    re.compile(p, re.I)
    for p in (
        r"\b(?:I'm|I am|we're|we are) (?:calling|writing|reaching out) (?:about|because|regarding|since)",
        r"\b(?:I|we)(?:'ve| have) been (?:trying|having|getting|seeing|waiting)",
        r"\b(?:I'm|we're|I am|we are) (?:having|seeing|getting) (?:an? |some )?(?:issue|problem|trouble|error)",
        r"\bmy (?:account|order|invoice|bill|subscription|card|exports?|dashboard|data|team)\b",
        r"\bcan you (?:help|fix|tell me)\b",
        r"\b(?:our|my) (?:boss|manager|users|customers|finance team|ops team)\b",
    )
]
GREETING_WEIGHT = 3  # a greeting in a speaker's first two turns is strong evidence by itself
HEURISTIC_MIN = 2  # the agent's score must reach this …
HEURISTIC_MARGIN = 2  # … and beat every customer's by this much
MULTI_PARTY_MIN = 3  # with more than two speakers each agent needs a stronger score of its own


@dataclass(slots=True)
class Turn:
    """One speaker's turn; ``email`` and ``affiliation`` come from formats that carry them (Gong)."""

    speaker: str | None
    text: str
    email: str | None = None
    affiliation: str | None = None


def _norm(name: str) -> str:
    return " ".join(re.sub(r"\([^)]*\)|<[^>]*>|\[[^\]]*\]", " ", name).lower().split())


@dataclass(frozen=True, slots=True)
class SpeakerRules:
    """How one source tells agent from customer. Built once per surface (CLI options, a declared
    source) and passed as one value; all matching is case-insensitive.

    ``agents`` / ``customers``: people's names (or e-mails) as the transcripts spell them;
    ``company``: the company's names and domains ("Acme", "acme.com"); ``customer_roles`` /
    ``agent_roles``: role words that are labels by themselves."""

    agents: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()
    company: tuple[str, ...] = ()
    customer_roles: frozenset[str] = CUSTOMER_ROLES
    agent_roles: frozenset[str] = AGENT_ROLES

    @classmethod
    def build(
        cls,
        agents: Iterable[str] | None = None,
        customers: Iterable[str] | None = None,
        company: Iterable[str] | None = None,
        customer_roles: Iterable[str] | None = None,
    ) -> SpeakerRules:
        """From configuration lists; ``customer_roles``, when given, replaces the default role words
        and also counts as a customer roster (it has always named the speakers whose turns are kept)."""
        roles = frozenset(_norm(r) for r in customer_roles or () if r.strip())
        return cls(
            agents=frozenset(_norm(a) for a in agents or () if a.strip()),
            customers=frozenset(_norm(c) for c in customers or () if c.strip()) | roles,
            company=tuple(c.strip().lower() for c in company or () if c.strip()),
            customer_roles=roles or CUSTOMER_ROLES,
        )


@dataclass(slots=True)
class Attribution:
    """Which speakers are customers, decided how and why (``method``: the strongest evidence used)."""

    customers: list[str]
    agents: list[str]
    method: str
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def decided(self) -> bool:
        return self.method != "undecided"

    def is_customer(self, turn: Turn) -> bool:
        return self.method == "undecided" or (turn.speaker or "") in self.customers

    def metadata(self, turns: list[Turn]) -> dict[str, Any]:
        """What a user needs to check the decision: who was judged the agent, why, and what was dropped."""
        dropped = [t for t in turns if t.text.strip() and not self.is_customer(t)]
        return {
            "method": self.method,
            "agents": self.agents,
            "customers": self.customers,
            "reasons": self.reasons,
            "dropped_turns": len(dropped),
            "dropped_words": sum(len(t.text.split()) for t in dropped),
        }


def _company_match(turn: Turn, company: tuple[str, ...]) -> str | None:
    """The company term the label or e-mail shows, if any ("Marco Ruiz (Acme)", "marco@acme.com")."""
    label = (turn.speaker or "").lower()
    emails = [m.group(1).lower() for m in EMAIL.finditer(f"{label} {turn.email or ''}")]
    for term in company:
        for domain in emails:
            if domain == term or domain.endswith("." + term) or term in domain.split("."):
                return term
        if "@" not in term and re.search(rf"(?<![\w.@-]){re.escape(term)}(?![\w-])", EMAIL.sub(" ", label)):
            return term
    return None


def _explicit(turn: Turn, rules: SpeakerRules) -> tuple[str, str, str] | None:
    """(side, method, reason) from configuration or the label itself; None when nothing says."""
    label = turn.speaker or ""
    keys = {_norm(label), *(m.group(0).lower() for m in EMAIL.finditer(f"{label} {turn.email or ''}"))}
    if keys & rules.agents:
        return "agent", "roster", "on the configured agent roster"
    if keys & rules.customers:
        return "customer", "roster", "on the configured customer roster"
    role = label.strip().lower()
    if role in rules.agent_roles:
        return "agent", "roles", f"labelled with the agent role {label.strip()!r}"
    if role in rules.customer_roles:
        return "customer", "roles", f"labelled with the customer role {label.strip()!r}"
    affiliation = (turn.affiliation or "").lower()
    if affiliation in ("internal", "external"):
        side = "agent" if affiliation == "internal" else "customer"
        return side, "affiliation", f"affiliation {turn.affiliation} in the call's parties"
    term = _company_match(turn, rules.company)
    if term:
        return "agent", "company", f"label or e-mail names the company ({term!r})"
    return None


def score_speakers(turns: list[Turn]) -> dict[str, tuple[int, list[str]]]:
    """Per speaker: an agent-likeness score and the phrases that earned it (the heuristic's evidence)."""
    scores: dict[str, tuple[int, list[str]]] = {}
    seen: dict[str, int] = {}
    for t in turns:
        name = t.speaker or ""
        score, why = scores.get(name, (0, []))
        nth = seen[name] = seen.get(name, 0) + 1
        greeting = GREETING.search(t.text)
        if greeting:
            weight = GREETING_WEIGHT if nth <= 2 else 1
            score += weight
            why.append(f"greeting {greeting.group(0).strip()!r}" + (" in an opening turn" if weight > 1 else ""))
        for pattern in AGENT_PHRASES:
            if m := pattern.search(t.text):
                score += 1
                why.append(repr(m.group(0)))
        for pattern in CUSTOMER_PHRASES:
            if m := pattern.search(t.text):
                score -= 1
                why.append(f"customer-like {m.group(0)!r}")
        scores[name] = (score, why)
    return scores


def _heuristic(turns: list[Turn], speakers: list[str]) -> Attribution:
    scores = score_speakers(turns)
    ranked = sorted(speakers, key=lambda s: -scores[s][0])

    def summary(s: str) -> str:
        score, why = scores[s]
        return f"agent score {score}" + (f" ({', '.join(why[:6])})" if why else "")

    reasons = {s: summary(s) for s in speakers}
    if len(speakers) == 2:
        agent, other = ranked
        if scores[agent][0] >= HEURISTIC_MIN and scores[agent][0] - scores[other][0] >= HEURISTIC_MARGIN:
            return Attribution([other], [agent], "heuristic", reasons)
        return Attribution(speakers, [], "undecided", reasons)
    agents = [s for s in ranked if scores[s][0] >= MULTI_PARTY_MIN]
    customers = [s for s in speakers if s not in agents]
    top_customer = max((scores[s][0] for s in customers), default=None)
    if (
        agents
        and top_customer is not None
        and top_customer <= 0
        and min(scores[a][0] for a in agents) - top_customer >= HEURISTIC_MARGIN
    ):
        return Attribution(customers, agents, "heuristic", reasons)
    return Attribution(speakers, [], "undecided", reasons)


def attribute(turns: list[Turn], rules: SpeakerRules | None = None) -> Attribution:
    """Decide, once per conversation, which speakers are customers (see the module docstring)."""
    rules = rules or SpeakerRules()
    speakers = list(dict.fromkeys((t.speaker or "") for t in turns if t.text.strip()))
    if len(speakers) <= 1:
        return Attribution(speakers, [], "single speaker", {s: "the only speaker" for s in speakers})
    sides: dict[str, str] = {}
    reasons: dict[str, str] = {}
    methods: list[str] = []
    for t in turns:
        name = t.speaker or ""
        if name in sides or name not in speakers:
            continue
        found = _explicit(t, rules)
        if found:
            sides[name], method, reasons[name] = found
            methods.append(method)
    if not sides:
        return _heuristic(turns, speakers)
    has_agent, has_customer = "agent" in sides.values(), "customer" in sides.values()
    for s in speakers:
        if s in sides:
            continue
        if has_customer and not has_agent:
            sides[s], reasons[s] = "agent", "not a known customer while others are"
        else:  # some agents are known: everyone else is the customer side
            sides[s], reasons[s] = "customer", "not a known agent while others are"
    method = "+".join(dict.fromkeys(methods))
    return Attribution(
        [s for s in speakers if sides[s] == "customer"], [s for s in speakers if sides[s] == "agent"], method, reasons
    )
