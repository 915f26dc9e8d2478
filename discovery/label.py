"""Offline theme naming: distinctive phrases by class-based TF-IDF, picked with MMR, plus
representative, diverse quotes.

c-TF-IDF treats each theme's segments as one document and weighs an n-gram by how often it occurs in
the theme against how common it is across all themes (BERTopic's formulation). The label is the most
relevant candidate phrase by MMR over phrase embeddings (relevance to the theme centroid, penalised by
similarity to phrases already chosen), so "card never arrived" beats "card" and two synonyms don't both
make it into the label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from painpoints.discovery.columns import take
from painpoints.discovery.lazy_vectors import prefetch
from painpoints.discovery.normalize import PLACEHOLDER
from painpoints.discovery.records import ThemeName

Encode = Callable[[Sequence[str]], np.ndarray]
EXTRA_STOP = {
    "hi",
    "hello",
    "bye",
    "goodbye",
    "thanks",
    "thank",
    "please",
    "just",
    "like",
    "im",
    "ive",
    "dont",
    "app",
    "really",
    "got",
    "get",
    "would",
    "could",
    "also",
    "one",
    "want",
    "need",
    "know",
    "okay",
    "ok",
    "yes",
    "help",
    "hey",
    "wa",
    "ha",
    "let",
    "sure",
    "sir",
    "today",
    "id",
    # narrative words: what the customer did or said, never what the theme is about ("Luggage / went",
    # "Shirt / way", "Bought this skirt")
    "went",
    "gets",
    "said",
    "says",
    "told",
    "think",
    "thing",
    "things",
    "stuff",
    "way",
    "tried",
    "going",
    "came",
    "took",
    "bought",
    "purchased",
    # conversational fillers and bare auxiliaries: "Smooth / yeah", "Works / does", "Apps / gives the option"
    "yeah",
    "yep",
    "yup",
    "nope",
    "does",
    "did",
    "doing",
    "gives",
    "gave",
}


# Words that say how someone feels, not what about: a theme name reads as the thing ("search filters",
# "card never arrived"), so a phrase may not start or end with one ("works great", "best reddit client",
# "terrible customer service" → "customer service"). Sentiment has its own columns.
FILLER = {
    "great", "best", "better", "good", "love", "loved", "loves", "loving", "awesome", "amazing", "excellent",
    "nice", "perfect", "fantastic", "wonderful", "brilliant", "beautiful", "cool", "favorite", "favourite",
    "terrible", "awful", "horrible", "worst", "bad", "hate", "hated", "sucks", "guys", "guy", "lol", "pls",
    "plz", "thx", "omg", "wow", "far", "simply", "totally", "absolutely", "definitely", "greatest", "highly",
    "appreciate", "appreciated", "recommend", "recommended", "enjoy", "enjoyed", "happy", "glad", "super",
    "pretty", "lifesaver", "damn", "crap", "shit", "fuck", "fucking", "freaking",
}  # fmt: skip
STOP_SET = frozenset(ENGLISH_STOP_WORDS | EXTRA_STOP | FILLER)
# a negated auxiliary may start a name ("doesn't work", "won't load") but never end one: "Images won't",
# "Subreddits doesn't" are fragments (spelled without the apostrophe: ``_stop`` looks both spellings up)
NOT_LAST = frozenset(
    "wont cant cannot doesnt didnt isnt wasnt arent werent couldnt wouldnt shouldnt havent hasnt".split()
)
WORD = re.compile(r"(?u)\b[^\W\d_][^\W\d_']*(?:'[^\W\d_]+)?\b")
# never part of a name: masking tokens of redacted exports (CFPB's "XXXX", "XX/XX/2019"), social handles,
# hashtags and links — a theme is a problem, not the account or brand it was addressed to
NOT_NAME = re.compile(r"(?i)\bx{2,}\b|[@#]\w+|\bhttps?://\S+|\bwww\.\S+")


@lru_cache(maxsize=262_144)
def _stop(word: str) -> bool:
    """A word a phrase may not start or end with: stop words (also spelled without their apostrophe,
    "i've" = "ive"), filler, one-letter words. Cached: a corpus repeats its words."""
    return word in STOP_SET or word.replace("'", "") in STOP_SET or len(word) < 2


@lru_cache(maxsize=262_144)
def _not_last(word: str) -> bool:
    """A word a phrase may not end with: ``_stop`` or a negated auxiliary (``NOT_LAST``)."""
    return _stop(word) or word.replace("'", "") in NOT_LAST


def phrases(text: str) -> list[str]:
    """1–3-grams of the text that neither start nor end with a stop word. Stop words inside stay, so
    phrases read naturally ("easy to use", "lack of search") instead of the stop-word-stripped
    n-grams a plain vectorizer makes ("so far so good" → "far good"). Each word is judged once (this
    runs over every sampled text of every run)."""
    out = []
    text = text.replace("\u2019", "'").replace("\u02bc", "'")  # "won’t" is one word, as "won't"
    for part in NOT_NAME.split(PLACEHOLDER.sub(" ", text)):  # no phrase spans a masked token or handle
        words = [w.lower() for w in WORD.findall(part)]
        stop = [_stop(w) for w in words]
        last = [_not_last(w) for w in words]
        for n in (1, 2, 3):
            for i in range(len(words) - n + 1):
                if not stop[i] and not last[i + n - 1]:
                    out.append(" ".join(words[i : i + n]))
    return out


def ctfidf(texts: Sequence[str], labels: np.ndarray, n_themes: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """c-TF-IDF matrix (themes × vocabulary, sparse) over 1–3-word phrases, and the vocabulary.

    Sparse because it is mostly zeros and grows with themes × vocabulary: dense, 300 themes over the
    200,000-phrase cap held ~0.5 GB per copy, and an incremental run that reclustered its leftovers
    into 200 new themes peaked in this function (1.2 GB above the rest of a 600k-segment rerun)."""
    vec = CountVectorizer(analyzer=phrases, min_df=2, max_features=200_000)
    try:
        counts = vec.fit_transform(texts)
    except ValueError:  # empty vocabulary (tiny or degenerate input)
        return sparse.csr_matrix((n_themes, 0)), np.array([], dtype=str)
    labels = np.asarray(labels)
    rows = np.flatnonzero((labels >= 0) & (labels < n_themes))  # unassigned rows shape the vocabulary only
    members = sparse.csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(n_themes, counts.shape[0]))
    tf = (members @ counts).astype(np.float64).tocsr()
    words_per_theme = np.asarray(tf.sum(axis=1)).ravel()
    avg_words = max(words_per_theme.mean(), 1.0) if n_themes else 1.0
    idf = np.log(1 + avg_words / np.maximum(np.asarray(tf.sum(axis=0)).ravel(), 1))
    weights = sparse.diags(1 / np.maximum(words_per_theme, 1)) @ tf @ sparse.diags(idf)
    # the vocabulary as one fixed-width array, not its phrase objects: a few thousand of the millions of
    # small strings the vectorizer made, kept alive, held most of the allocator's pages they sit in
    # (160k synthetic texts: 1,082 → 412 MB held after the call, 2026-12-04; a 3M run's peak did not move)
    return sparse.csr_matrix(weights), np.asarray(vec.get_feature_names_out(), dtype=str)


def top_phrases(weights: sparse.csr_matrix, vocab: np.ndarray, k: int) -> list[list[str]]:
    """Per row of a c-TF-IDF matrix, its ``k`` phrases of highest positive weight, best first (ties:
    vocabulary order)."""
    out = []
    for t in range(weights.shape[0]):
        start, end = weights.indptr[t], weights.indptr[t + 1]
        cols, vals = weights.indices[start:end], weights.data[start:end]
        keep = vals > 0
        cols, vals = cols[keep], vals[keep]
        order = np.lexsort((cols, -vals))[:k]
        out.append([str(vocab[j]) for j in cols[order]])
    return out


def mmr(candidates: np.ndarray, target: np.ndarray, k: int, diversity: float = 0.5) -> list[int]:
    """Maximal marginal relevance: indices of ``k`` rows of ``candidates`` relevant to ``target`` and
    unlike each other (rows and target L2-normalised)."""
    if not len(candidates):
        return []
    relevance = candidates @ target
    chosen = [int(relevance.argmax())]
    while len(chosen) < min(k, len(candidates)):
        redundancy = (candidates @ candidates[chosen].T).max(axis=1)
        score = (1 - diversity) * relevance - diversity * redundancy
        score[chosen] = -np.inf
        chosen.append(int(score.argmax()))
    return chosen


def title(phrase: str) -> str:
    """First letter upper-cased, the rest as written (keeps "iOS", "PayPal")."""
    return phrase[:1].upper() + phrase[1:]


@dataclass
class OfflineLabeler:
    """Names themes without any network call.

    Parameters
    ----------
    n_candidates : top c-TF-IDF phrases per theme considered for the label.
    n_keywords : keywords kept per theme.
    n_quotes : representative quotes per theme (closest to the centroid, diverse by MMR).
    quote_chars : quotes are cut to this length.
    max_texts_per_theme : c-TF-IDF reads at most this many members per theme (a seeded sample): the
        phrase vocabulary of a million texts would not fit in memory, and a theme's top phrases are
        stable well before a thousand members.
    """

    n_candidates: int = 15
    n_keywords: int = 8
    n_quotes: int = 4
    quote_chars: int = 240
    max_texts_per_theme: int = 1_000
    quote_pool: int = 5_000  # vectors not in memory (a run over millions): quotes from a seeded sample this big

    def name(
        self,
        texts: Sequence[str],
        X: np.ndarray,
        labels: np.ndarray,
        centroids: np.ndarray,
        encode: Encode | None = None,
        fixed: dict[int, str] | None = None,
    ) -> list[ThemeName]:
        """One name per theme. ``fixed`` labels (themes kept from earlier runs, curated names) are
        used as they are and never given to another theme; those themes still get fresh keywords
        and quotes."""
        fixed = fixed or {}
        n_themes = len(centroids)
        sample = self._sample(labels, n_themes)
        weights, vocab = ctfidf(take(texts, sample), labels[sample], n_themes)
        cands_per_theme = top_phrases(weights, vocab, self.n_candidates)
        phrase_vecs: dict[str, np.ndarray] = {}
        if encode is not None:
            uniq = sorted({p for cands in cands_per_theme for p in cands})
            if uniq:
                phrase_vecs = dict(zip(uniq, encode(uniq), strict=True))
        names: list[ThemeName] = []
        used: set[str] = {label.lower() for label in fixed.values()}
        pools = self._pools(labels, n_themes, isinstance(X, np.ndarray))
        prefetch(X, np.concatenate(pools) if pools else np.zeros(0, dtype=int))  # one read, not one a theme
        sizes = np.bincount(labels[labels >= 0], minlength=n_themes)  # a pool may be a sample of its theme
        quote_rows = []
        for t, members in enumerate(pools):
            name, picked = self._one(cands_per_theme[t], phrase_vecs, centroids[t], X[members], int(sizes[t]), used)
            quote_rows.append(members[picked])
            if t in fixed:
                name.label = fixed[t]
            used.add(name.label.lower())
            names.append(name)
        # the quotes' texts in one read: a theme's pool is read for its vectors, only its quotes for text
        quotes = iter(take(texts, np.concatenate(quote_rows)) if quote_rows else [])
        for name, rows in zip(names, quote_rows, strict=True):
            name.quotes = [next(quotes)[: self.quote_chars] for _ in rows]
        return names

    def _pools(self, labels: np.ndarray, n_themes: int, all_members: bool) -> list[np.ndarray]:
        """Per theme, the members its quotes are picked from: all of them, or (vectors not in memory) a
        seeded sample of ``quote_pool`` from a larger theme."""
        rng = np.random.default_rng(0)
        pools = []
        for t in range(n_themes):
            members = np.flatnonzero(labels == t)
            if not all_members and len(members) > self.quote_pool:  # read a theme's pool, not all of it
                members = np.sort(rng.choice(members, self.quote_pool, replace=False))
            pools.append(members)
        return pools

    def _sample(self, labels: np.ndarray, n_themes: int) -> np.ndarray:
        """Row indices for c-TF-IDF: every member of a small theme, a seeded sample of a large one."""
        rng = np.random.default_rng(0)
        keep = [np.flatnonzero(labels < 0)[: self.max_texts_per_theme]]
        for t in range(n_themes):
            members = np.flatnonzero(labels == t)
            if len(members) > self.max_texts_per_theme:
                members = np.sort(rng.choice(members, self.max_texts_per_theme, replace=False))
            keep.append(members)
        return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=int)

    def _one(
        self,
        cands: list[str],
        phrase_vecs: dict[str, np.ndarray],
        centroid: np.ndarray,
        member_X: np.ndarray,
        size: int,
        used: set[str],
    ) -> tuple[ThemeName, list[int]]:
        """The theme's name without its quotes, and which of ``member_X``'s rows to quote."""
        if cands and phrase_vecs:
            P = np.stack([phrase_vecs[c] for c in cands])
            # prefer multi-word phrases a little: "card never arrived" reads better than "card"
            boost = np.array([0.04 * min(len(c.split()) - 1, 2) for c in cands])
            order = mmr(P, centroid, k=len(cands), diversity=0.4)
            ranked = [
                cands[i] for i in sorted(order, key=lambda i: -(P[i] @ centroid + boost[i] - 0.002 * order.index(i)))
            ]
            keywords = [cands[i] for i in order][: self.n_keywords]
        else:
            ranked = keywords = cands[: self.n_keywords]
        label = self._compose(ranked, keywords, used)
        picked = mmr(member_X, centroid, self.n_quotes, 0.3)
        shown = ", ".join(f"“{k}”" for k in keywords[:4])
        description = f"{size} segments; customers mention {shown}." if shown else f"{size} segments."
        return ThemeName(label=label, description=description, keywords=keywords, quotes=[]), picked

    @staticmethod
    def _compose(ranked: list[str], keywords: list[str], used: set[str]) -> str:
        """Best phrase, plus a distinct second keyword when it is a single word or already taken by
        another theme (two themes never share a label)."""
        if not ranked:
            return "Miscellaneous feedback"
        best = ranked[0]
        options = [best] if len(best.split()) > 1 else []
        for extra in keywords + ranked:
            if not related(best, extra):
                options.append(f"{best} / {extra}")
        options += ranked[1:]
        for option in options:
            label = title(re.sub(r"\s+", " ", option))[:80]
            if label.lower() not in used:
                return label
        return title(best)[:70] + f" ({len(used) + 1})"


def related(a: str, b: str) -> bool:
    """Same word, or a plural/inflection of it ("podcast" / "podcasts")."""
    wa, wb = a.split(), b.split()
    return any(
        x == y or (min(len(x), len(y)) >= 4 and (x.startswith(y[:4]) and y.startswith(x[:4]))) for x in wa for y in wb
    )
