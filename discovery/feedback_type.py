"""Offline feedback type per segment: problem | request | question | praise | other.

Two signals, because neither is enough alone:

* a 5-class logistic regression on the sentence embeddings the run already has (weights in
  ``discovery/models/feedback_type.npz``, trained by ``benchmarks/train_feedback_type.py`` on
  permissively licensed data plus a hand-written seed set). Embeddings capture *what* a text is about
  and its tone well — praise vs complaint — but feature requests are rare in every public corpus and
  "I wish it had a dark mode" sits next to "it has no dark mode" in embedding space.
* cue rules over the text: a request is mostly a matter of *phrasing* ("please add", "I wish",
  "would be nice if", "can you add"), and phrasing generalises across domains better than a classifier
  trained on a few hundred written examples. The rules also catch the phrasings that look like requests
  but are complaints ("I wish it didn't crash", "please fix", "I wish I had read the reviews",
  "would have been better"), and questions (trailing "?", wh-/auxiliary-initial sentences).
  A "would" that looks back or imagines a wearer ("I would've walked past it", "I thought it would be
  perfect", "would look better on a taller woman", "will be perfect for summer") is not a request, whichever
  signal reads it so (``EXPECTATION``, ``NOT_REQUEST``).

A segment may hold several sentences; precedence is request > problem cue > question > negated problem
("no problems at all", praise) > classifier, so a segment that asks for something is counted as a
request even when it also praises or complains. A segment that only says there is nothing to report
("N/A", "Nothing to improve", "It was fine") is `other`, whatever the classifier reads (``NO_ISSUE``).
No pickle is loaded, only arrays.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from painpoints.discovery.coded import mask_of
from painpoints.discovery.textpool import map_texts

WEIGHTS = Path(__file__).resolve().parent / "models" / "feedback_type.npz"
TYPES = ("problem", "request", "question", "praise", "other")
RHETORICAL_MIN_P = 0.6  # a question-shaped sentence the classifier calls problem/praise this surely is rhetorical
# without a cue the classifier's "request" needs this much: it learned from a few hundred written examples
# and otherwise calls any talk of features ("has every feature I need") a request
# (a question without "?" or a question opening is not one: the model only learned its topics)
REQUEST_MIN_P = 0.7

_ASK = (
    r"add|make|bring|include|consider|implement|support|offer|allow|let|enable|provide|introduce|"
    r"integrate|create|restore|extend|sell|stock|open|put|give|get"
)
_THING = (
    r"options?|settings?|features?|ways?|buttons?|ability|toggles?|modes?|support|filters?|shortcuts?|integrations?"
)
_ADD = r"add|include|implement|introduce|integrate|offer|provide|allow|enable|make it|consider|bring back|create|show"
# a change to the product in an if-clause ("if it had", "if that was changed", "if they added")
_IF_CHANGE = (
    r"(?:it|they|you|that|this|the \w+|there)\s+(?:only\s+)?(?:had|has|was|were|could|would|added|offered|came|"
    r"supported|included|changed|allowed)(?![^.!?]*\b(?:cheaper|price\w*|cost\w*|expensive|fit|fits)\b)"
)
# "… would be perfect / a 10 / a five-star app", "I'd give it 5 stars"
_PERFECT = (
    r"\b(?:would|'d|will|'ll)\s+(?:\w+\s+)?(?:be|give it|rate it|make (?:it|this))\s+(?:absolutely\s+|simply\s+|"
    r"just\s+|truly\s+|definitely\s+)?(?:perfect|complete|flawless|unbeatable|ideal|(?:an?|the)\s+(?:perfect|"
    r"complete|winner|\d+|ten|five)|\d+(?:/\d+)?|five|ten)\b"
)
# "should have been / refunded / known": a regret or a complaint about the past, not a request
_PARTICIPLE = r"(?:been|\w+ed|\w+en|got|gone|told|sent|left|known|done|made|bought|brought|paid|kept|had|come|went)\b"
_NICE = (
    r"nice|nicer|great|good|awesome|helpful|useful|cool|amazing|fantastic|lovely|perfect|wonderful|"
    r"(?:\w+ )?better (?:if|to have|with an?)|"
    r"ideal|handy|brilliant|appreciated|welcome|a plus|a huge help|a big help|a nice touch|"
    r"a (?:great|good|nice|cool) \w+"
)
REQUEST_CUES = [
    re.compile(p, re.I)
    for p in (
        rf"\bplease\s+(?:\w+\s+)?(?:{_ASK})\b(?!\s+(?:me|us)\s+know)",  # please add / please do make
        # imperative opening, with verbs that are rarely nouns ("Support never answered" is not a request)
        r"^\s*(?:please\s+)?(?:add|include|consider|allow|enable|provide|implement|introduce|integrate|restore|"
        r"bring back|make (?:it|the|this|a|an)|let (?:us|me|users|people|admins))\b(?!\s+(?:me|us)\s+know)",
        r"(?:^|\b(?:i|we|only|really|just|so|do)\s+)wish\b(?!\s*list)|\bmy (?:only |one )?wish\b(?!\s*list)",
        rf"\b(?:would|'d|will)\s+(?:also\s+|really\s+|definitely\s+)?(?:be|make (?:it|this))\s+"
        rf"(?:so\s+|really\s+|very\s+|even\s+|much\s+|super\s+)?(?:{_NICE})\b"
        r"(?!\s+(?:(?:for|on)\s+(?!(?:\w+\s+){1,2}to\s)|to (?:my|your|her|any)\b|in my\b))",  # not "… for a wedding"
        r"\b(?:would|'d)\s+(?:really\s+|also\s+|so\s+|much\s+)?(?:love|like|appreciate|prefer)\s+(?:it\s+)?"
        r"(?:to see|to have|to be able|if|an? (?:\w+\s+){0,2}(?:option|way|feature|setting|button|version)|"
        r"the (?:ability|option))\b",
        r"\b(?:would|'d)\s+(?:really\s+|also\s+|so\s+|much\s+)?(?:love|appreciate)\s+(?!(?:this|it|that|these|them|you|"
        r"to (?:use|wear|keep|give|recommend|buy|love|like|say|know|hear))\b)",
        r"\b(?:i|we)\s+(?:really\s+|just\s+)?want\s+(?:to be able|the (?:option|ability))\b|\b(?:i'?d|i would|we'?d)\s+"
        r"(?:also\s+)?ask for\b|\bany chance (?:you|of|to|we)\b|\b(?:maybe|perhaps|pls|plz)\s+(?:add|make|include|"
        r"consider|bring|offer|allow)\b|^\s*should (?:have|offer|include|allow) (?:an?|the|more|some)\b|"
        r"^\s*more\b[^.?!]*\bplease\b",
        r"\bwould (?:really\s+)?help (?:a lot |so much )?(?:to have|if)\b|"
        r"\bwould make (?:it|this|the \w+|this \w+|things|life) (?:\w+ )?(?:perfect|complete|better|easier|a \w+)\b",
        rf"\b(?:can|could|will|would)\s+(?:you|they|we|u|the devs?)\s+(?:please\s+|maybe\s+|just\s+)?(?:{_ASK})\b",
        rf"\b(?:add|adding|need|needs|want|get|offer|provide|include|allow|introduce)\s+(?:an?|the|some|more)?\s*"
        rf"(?:\w+\s+)?(?:{_THING})\b",  # need a way to / add an option
        r"\bfeature requests?\b|\bsuggestions?\s*:|\bmy (?:only |one |main )?(?:request|suggestion)\b|"
        r"\bwish ?list\s*:|\bfeatures? to add\b|\b(?:i'?d|i would|we'?d|we would)\s+(?:also\s+)?add\b|"
        r"\bsuggest (?:adding|that you add)\b|\bcould use (?:an?|some|more)\b",
        r"\bthere\s+(?:should|needs to)\s+be\b|\b(?:it|this|app|you|they|the \w+)\s+should\s+(?:really\s+|also\s+)?"
        r"(?:add|have|offer|include|allow|let|support|show|play|be able|make|give|provide|sell|come)\b"
        rf"(?!\s+{_PARTICIPLE})|\bthe \w+ \w+ should\s+(?:really\s+|also\s+)?(?:add|have|offer|include|allow|support|"
        rf"bring)\b(?!\s+{_PARTICIPLE})|\b(?:they|you|devs?|developers|the \w+|it|app)\s+(?:really\s+|just\s+|"
        r"seriously\s+)?needs? to (?:add|include|implement|introduce|integrate|bring back|offer)\b",
        rf"\bbring back\b|\b(?:hop(?:e|ing)|hopefully)\s+(?:you|they|the devs?|devs)\s+(?:will\s+|can\s+)?(?:{_ASK})\b|"
        r"\bhoping for\b",
        rf"\bif only\b|\bwhy (?:not|don't you)\s+(?:just\s+)?(?:{_ASK}|have)\b|"
        r"\b(?:\d+|one|two|a few|few) more features?\b",
        r"\bif (?:you|they|the devs?)\s+(?:\w+\s+)?(?:add|added|made|make|offered|offer|supported|support|included|"
        r"include|brought)\b|\bif it (?:only\s+)?had (?:an?|the|more|some)\b",
        # a change asked for in the passive: "dark mode should be added", "it needs to be made optional"
        r"\b(?:should|could|needs? to|must|ought to)\s+(?:really\s+|also\s+|definitely\s+)?be\s+(?:added|included|"
        r"implemented|introduced|offered|made (?:available|optional|customi[sz]able)|optional|customi[sz]able|"
        r"an option|available (?:in|as|for|on))\b",
        # "I'd like the reps to be …", "we would like it to sync …": a wished state of the product
        r"(?<!as )(?<!than )\b(?:i|we)(?:'d| would)\s+(?:really\s+|also\s+|just\s+)?like\s+"
        r"(?:it|them|this|there|the \w+(?: \w+)?|"
        r"more \w+)\s+(?:to\s+)?(?:be|have|show|include|offer|support|let|allow|stay|come|open|sync|play|remember)\b",
        r"(?<!as )(?<!than )\b(?:i'?d|i would|we'?d|we would)\s+(?:much\s+|really\s+|also\s+)?prefer\s+(?:(?:it|them|"
        r"the \w+(?: \w+)?) to (?:be|have|show|open|stay)|(?:it )?if|to have|to be able|an? (?:option|way|setting))\b",
        r"\b(?:you|they|the devs?|developers?)\s+(?:could|might)\s+(?:also\s+|maybe\s+|perhaps\s+|just\s+)?"
        r"(?:add|include|implement|introduce|integrate|enable|bring back)\b|"
        rf"\b(?:they|the devs?|developers?)\s+(?:could|might)\s+(?:also\s+|maybe\s+|perhaps\s+|just\s+)?(?:{_ADD})\b|"
        rf"\bwould it be possible to (?:{_ADD})\b|\bhow about (?:adding|including|making|offering|"
        rf"(?:an?|some) (?:\w+ )?(?:{_THING}))\b",
        r"\b(?:looking forward to|can'?t wait for|waiting for|hop(?:e|ing) to see)\s+(?:an?\s+|the\s+|some\s+|more\s+)?"
        r"(?:\w+\s+){0,3}(?:features?|options?|version|mode|integration|functions?|functionality)\b",
        r"\b(?:only|one|main|biggest)\s+(?:thing|feature)s?\s+(?:that(?:'s| is)?\s+|i(?:'m| am)?\s+)?"
        r"(?:missing|lacking|"
        r"i miss|it lacks|it needs|i(?:'d| would) (?:like|love|add|change|want))\b|\bmissing features?\s*:|"
        r"\bonly thing (?:\w+ ){0,2}better would be\b",
        rf"\b(?:i|we)\s+(?:would\s+|'d\s+)?(?:strongly\s+|highly\s+)?(?:suggest|propose)\s+(?:adding|making|"
        rf"including|offering|introducing|implementing|that (?:you|they|the \w+)\s+(?:{_ADD}))\b",
        # "if it had offline mode it would be perfect", "would be a 5-star app if they added sync"
        rf"\bif {_IF_CHANGE}\b[^.!?]*?{_PERFECT}|{_PERFECT}[^.!?]*?\bif {_IF_CHANGE}\b",
        # more imperative openings, with an object ("Hire more staff at peak times", "Remove the ads")
        r"^\s*(?:please\s+)?(?:improve|simplify|streamline|expand|speed up|redesign|get rid of|hire|"
        r"increase|shorten|train|give (?:us|users|people|customers))\s+(?:the|your|more|some|an?|this|that|its|"
        r"it|ads|staff|employees|agents|people)\b",
        # a short noun phrase + please: "Dark mode please!", "Landscape support pls"
        r"^\s*(?![^.!?]*\b(?:help|refund|money|respond|reply|answer|call|contact|stop|cancel|remove|need)\b)"
        r"(?:\w+[\s-]+){0,4}"
        r"\w+\s+(?:pl(?:ea)?se|pls|plz)\s*[!.]*\s*$",
        # a plural noun phrase opening: "More agents at peak hours.", "More colours!"
        r"^\s*(?:more|fewer)\s+(?!or less\b)(?![^.!?]*\b(?:than|problems?|issues?|bugs?|errors?|ads|crash\w*)\b)"
        r"(?:\w+\s+)?\w+s\b",
        r"\b(?:users?|people|customers?)\s+should\s+(?:be able|have the (?:option|ability|choice)|get to)\b",
    )
]
PROBLEM_CUES = [
    re.compile(p, re.I)
    for p in (
        r"\bplease\s+(?:\w+\s+)?(?:fix|repair|sort out|look into|stop|refund|respond|answer|get back|resolve)\b",
        r"\bwish\s+(?:that\s+)?(?:i|we)\s+(?:had|hadn't|'d|would have|never|got|ordered|bought|went|sized|read|knew|"
        r"checked|listened|could (?:give|return|say|love|like|keep|rate|get|send|recommend))\b",
        r"\bwish\s+(?:that\s+)?(?:they|you|he|she|someone|the \w+)\s+had\s+\w+(?:ed|en|old|one|ad)\b",
        r"\bwish\s+(?:that\s+)?(?:it|they|this|these|the \w+)\s+(?:\w+\s+)?(?:fit|fits|worked|work|lasted)\b",
        r"\bwould(?:'ve| have)\s+been\s+(?:\w+\s+)?(?:nice|nicer|better|great|good|helpful)\b",
        r"\b(?:zero|0|no|negative) stars?\b",
        r"\bwould(?:'ve| have)\s+(?:\w+\s+)?(?:been|fit|worked|looked|loved|liked)\b[^.!?]*\bif\b",  # counterfactual
        # contrast: the clause after "but" carries the verdict ("pretty colours, but the seams came apart")
        r"\b(?:but|however|unfortunately|sadly)\b(?![^.!?]*\bnot too\b)[^.!?]*(?:\b(?:not|never|too|lacks?|lacking|"
        r"returned|returning|disappoint\w*|issues?|problems?|bugs?|crash\w*|broken|cheap|awful|terrible|poor|"
        r"(?:came|fell|falling|coming) apart|ripped|tore|torn|broke|shrank|shrunk|faded|pilled|stopped working)\b|"
        r"n't\b)",
    )
]
# inside a request-shaped sentence, these words make it a complaint ("I wish it didn't crash")
MALFUNCTION = re.compile(
    r"\b(?:didn'?t|did not|wouldn'?t|would not|doesn'?t|does not|won'?t|wasn'?t|weren'?t|stop|stopped|crash\w*|"
    r"freez(?:es|ing)\b|freezes? up|bugs?|buggy|broken|fix\w*|glitch\w*|lag\w*|worked|actually work\w*|"
    r"work (?:properly|right|correctly|again|better)|if (?:only )?(?:it|they|this|these) (?:\w+ )?fit)\b",
    re.I,
)
# "no problems", "didn't have any issues", "hassle-free": a problem word, negated. Embeddings (and so the
# classifier) read the problem word and miss the negation; when nothing else in the segment is negative,
# the segment reports that things went well.
NO_PROBLEM = re.compile(
    r"(?:\b(?:no|not|never|without|zero|nothing to)|n't)\s+(?:(?:have|had|having|experience[ds]?|encounter(?:ed)?|"
    r"run into|ran into|see|seen|find|found|any|an?|single|real|major|other|further|service|more)\s+){0,3}"
    r"(?:problems?|issues?|complaints?|troubles?|hassles?|complain(?: about)?)\b|"
    r"\b(?:problem|hassle|trouble)[- ]free\b",
    re.I,
)
# A whole answer that says there is nothing to report ("N/A", "Nothing to improve", "Nothing I'd change") or
# calls things merely adequate ("It was fine", "The staff were ok"): answers to "what could we improve?" are
# full of them, and the classifier reads a short "fine" as a lukewarm complaint ("It was fine": problem).
# They carry no issue, so they are `other`. Only when the whole segment is that, ending in nothing but
# "." or "!": "fine but the car was dirty", "It was ok?", "ok :(" are left to the other rules. A bare
# "Nothing." or "None." is not matched: as the answer to "what did you like?" it is a complaint.
NO_ISSUE = re.compile(
    r"^\s*(?:"
    r"n/?a"
    r"|nothing (?:(?:i|we)(?: would|'d) |that (?:i|we) would |to )"
    r"(?:improve|change|add|report|mention|complain about|fix)(?: (?:really|at all|here))?"
    r"|(?:(?:it|this|that|they|everything|all|all of it|(?:the|my|our) \w+(?: \w+)?) "
    r"(?:was|were|is|are|went|seemed|has been|have been) |(?:it|that)'s )?"
    r"(?:(?:just|all|totally|perfectly|quite) )?"
    r"(?:fine|ok|okay|alright|all right|good enough|satisfactory|acceptable|adequate|as expected)"
    r"(?: (?:overall|thanks|thank you))?"
    r")[\s.!]*$",
    re.I,
)
# Bump when a cue rule changes what a text is typed: an incremental run keeps last run's type for unchanged
# segments only when the same weights *and* rules typed them (``FeedbackTypeModel.key_``).
RULES_VERSION = 2
NEGATIVE_REST = re.compile(
    r"\b(?:not|no|never|nothing|nobody|none|bad|poor|rude|wait\w*|slow\w*|dirty|late|wrong|terrible|awful|"
    r"horrible|worst|hate\w*|disappoint\w*|but|except|however|although|though|until|unfortunately|expensive|"
    r"broke\w*|fail\w*|crash\w*|problems?|issues?)\b|n't\b",
    re.I,
)
# A "would" that looks back or imagines someone else, not one that asks: a past counterfactual ("I would've
# walked past it"), an expectation ("I thought these would be great") or advice on whom a thing suits ("would
# look better on a taller woman"), and talk of a wish list or of having "all I need". The classifier reads
# "would" + a feature word as a request; these forms never are one. The expectation also vetoes a cue.
EXPECTATION = re.compile(
    r"(?<!one )(?<!a )(?<!my )\b(?:thought|expected|assumed|figured|imagined|believed)\b(?!\s*(?:though|:|,))"
    r"[^.!?]*\b(?:would|'d|will|could)\b",
    re.I,
)
NOT_REQUEST = re.compile(
    r"\bwould(?:'ve| have)\b|\b(?:i|we|you|they|it)'d have\b|"
    r"\b(?:would|might|could|will)\s+(?:\w+\s+)?(?:be|look|work|fit|suit)\s+(?:\w+\s+){0,3}?(?:on|for)\s+"
    r"(?:an?\s+|someone|anyone|women|people|those|girls|ladies|me\b|you\b|her\b|petite|tall|short|small|large|"
    r"curvy|thin|slim|busty)|"
    r"\bwish ?list\b|\b(?:exactly|everything|all|just) (?:what )?(?:i|we|you) (?:need|want|wanted|needed)\b",
    re.I,
)
QUESTION_START = re.compile(
    r"^\s*(?:how|what|when|where|which|who|why|any(?:one|body) know|(?:is|are|does|do|did|can|could|will|should|"
    r"has|have)\s+(?:i|we|you|it|this|that|these|they|the|there|anyone|anybody|my|your)\b)",
    re.I,
)
# one search per list instead of one per pattern (the typing step's cost at 1M segments was these
# searches); any(p.search(s) for p in LIST) and the alternation match exactly the same sentences
ANY_PROBLEM_CUE = re.compile("|".join(f"(?:{p.pattern})" for p in PROBLEM_CUES), re.I)
ANY_REQUEST_CUE = re.compile("|".join(f"(?:{p.pattern})" for p in REQUEST_CUES), re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str) -> list[str]:
    """Sentences of a segment (a cheap split: cues only need clause-sized pieces)."""
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def sentence_cue(sentence: str) -> str | None:
    """'request', 'problem' or 'question' when the phrasing decides the type, else None."""
    s = sentence.replace("\u2019", "'").strip()
    if ANY_PROBLEM_CUE.search(s):
        return "problem"
    if not EXPECTATION.search(s) and ANY_REQUEST_CUE.search(s):
        return "problem" if MALFUNCTION.search(s) else "request"
    if s.rstrip(" )!.\"'").endswith("?") or (QUESTION_START.match(s) and not s.endswith((".", "!"))):
        return "question"
    return None


def no_problem(text: str) -> bool:
    """True when the text negates a problem ("no issues at all") and says nothing else negative."""
    t = text.replace("\u2019", "'")
    return bool(NO_PROBLEM.search(t)) and not NEGATIVE_REST.search(NO_PROBLEM.sub(" ", t))


def text_cues(texts: list[str]) -> list[str | None]:
    """``text_cue`` of each text (what a ``textpool`` worker runs over a chunk)."""
    return [text_cue(t) for t in texts]


def text_cue(text: str) -> str | None:
    """The cue of a whole segment: `other` when all it says is that there is nothing to report
    (``NO_ISSUE``), else request > problem > question > praise (a negated problem with nothing else
    negative, ``no_problem``); see the module docstring."""
    if NO_ISSUE.match(text.replace("\u2019", "'")):
        return "other"
    cues = {sentence_cue(s) for s in sentences(text)}
    cue = next((c for c in ("request", "problem", "question") if c in cues), None)
    return cue or ("praise" if no_problem(text) else None)


@dataclass
class FeedbackTypeModel:
    """Parameters
    ----------
    path : the ``.npz`` with ``coef`` (5 × d), ``intercept`` (5), ``classes`` and ``model``.
    use_rules : combine the cue rules with the classifier (False = classifier only, for comparison).

    Attributes
    ----------
    coef_, intercept_, classes_, model_name_ : loaded by ``fit()``.
    key_ : the embedding model, a digest of the weights file and the cue rules' ``RULES_VERSION``. Runs
        record it (``runs.stats.type_model``); an incremental run keeps last run's type of an unchanged
        segment only when the same key typed it, so new weights or rules retype every segment once.
    """

    path: Path = WEIGHTS
    use_rules: bool = True

    def fit(self) -> FeedbackTypeModel:
        """Load the weights, once per path and rules setting: a run fits to read ``key_`` before it
        types, and typing fits again."""
        if getattr(self, "_loaded_as", None) == (self.path, self.use_rules):
            return self
        raw = Path(self.path).read_bytes()
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            self.coef_ = data["coef"].astype(np.float32)
            self.intercept_ = data["intercept"].astype(np.float32)
            self.classes_ = tuple(str(c) for c in data["classes"])
            self.model_name_ = str(data["model"])
        if set(self.classes_) != set(TYPES):
            raise ValueError(f"{self.path} holds classes {self.classes_}, expected {TYPES}")
        rules = f":rules{RULES_VERSION}" if self.use_rules else ":no-rules"
        self.key_ = f"{self.model_name_}:{hashlib.sha256(raw).hexdigest()[:12]}{rules}"
        self._loaded_as = (self.path, self.use_rules)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Classifier probabilities (columns in ``classes_`` order), rules not applied."""
        if not hasattr(self, "coef_"):
            self.fit()
        if X.ndim != 2 or X.shape[1] != self.coef_.shape[1]:
            raise ValueError(
                f"feedback-type weights expect {self.coef_.shape[1]}-d vectors of "
                f"{self.model_name_!r}, got shape {X.shape}"
            )
        logits = X.astype(np.float32) @ self.coef_.T + self.intercept_
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray, texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """Type per row and a confidence in 0..1.

        ``X`` holds the embeddings of ``texts`` (same order). Without a cue the classifier decides and
        the confidence is its probability. A request/problem cue decides alone; its confidence is
        ``(1 + p) / 2`` with p the classifier's probability of that type, so a cue the embedding also
        supports scores higher; so does the `other` cue (``NO_ISSUE``: nothing to report). A question cue
        loses to a confident problem/praise reading (rhetorical questions: "why are the settings never
        saved??").
        """
        if len(X) != len(texts):
            raise ValueError(f"{len(X)} vectors for {len(texts)} texts")
        if len(X) == 0:
            return [], np.zeros(0)
        p = self.predict_proba(X)
        idx = {c: i for i, c in enumerate(self.classes_)}
        tops = [self.classes_[j] for j in p.argmax(axis=1).tolist()]
        cues = map_texts(text_cues, texts) if self.use_rules else [None] * len(texts)
        labels, conf = [], np.empty(len(X))
        for i, (text, top, cue) in enumerate(zip(texts, tops, cues, strict=True)):
            if cue == "question" and top in ("problem", "praise") and p[i, idx[top]] >= RHETORICAL_MIN_P:
                cue = None
            if cue is None and top in ("question", "request"):
                # these types are a matter of form: without a cue, a question is never one, and a request only
                # when the classifier is sure and nothing says it is a complaint or a hypothetical
                allowed = ["problem", "praise", "other"]
                if (
                    p[i, idx["request"]] >= REQUEST_MIN_P
                    and not MALFUNCTION.search(text)
                    and not any(r.search(text.replace("\u2019", "'")) for r in (NOT_REQUEST, EXPECTATION))
                ):
                    allowed.append("request")
                top = max(allowed, key=lambda c: p[i, idx[c]])
            label = cue or top
            labels.append(label)
            conf[i] = p[i, idx[label]] if cue is None else (1 + p[i, idx[label]]) / 2
        return labels, conf


# A theme is praise when most of it is praise or positive in tone, or when its praise outnumbers both
# its complaints and its requests (a theme of "It was fine" answers, a few praising, one complaining, is
# not a pain point); a request theme when requests lead it and make at least this share; everything else
# is a pain point — neutral-toned problems (support contact reasons, "how do I reset my password")
# included, since a PM acts on those too.
PRAISE_MIN_SHARE = 0.5
REQUEST_MIN_SHARE = 0.4


@dataclass(frozen=True)
class ThemeType:
    """A theme's type and the mix behind it (shares of its segments)."""

    theme_type: str  # problem | request | praise
    problem_share: float
    request_share: float
    praise_share: float
    positive_share: float


def theme_types(labels: np.ndarray, types: Sequence[str], sentiment: Sequence[str], n_themes: int) -> list[ThemeType]:
    """Per theme index (``labels`` = theme index per segment, −1 unassigned): its ``ThemeType``. Counted
    with one ``bincount`` per type over all segments (a mask per theme was O(segments × themes))."""
    labels = np.asarray(labels)
    member = labels >= 0

    def per_theme(mask: np.ndarray) -> np.ndarray:
        return np.bincount(labels[member & mask], minlength=n_themes)[:n_themes].astype(float)

    size = np.maximum(per_theme(np.ones(len(labels), dtype=bool)), 1)
    share = {k: per_theme(mask_of(types, k)) / size for k in ("problem", "request", "praise")}
    positive = per_theme(mask_of(sentiment, "positive")) / size
    out = []
    for t in range(n_themes):
        problem, request, praise = (float(share[k][t]) for k in ("problem", "request", "praise"))
        if praise >= PRAISE_MIN_SHARE or positive[t] >= PRAISE_MIN_SHARE or praise > max(problem, request):
            kind = "praise"
        elif request >= REQUEST_MIN_SHARE and request >= problem:
            kind = "request"
        else:
            kind = "problem"
        out.append(ThemeType(kind, problem, request, praise, float(positive[t])))
    return out
