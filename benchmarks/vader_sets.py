"""VADER's human-rated sentiment sets: 4,200 tweets and three sets of review and editorial snippets.

Hutto & Gilbert, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text"
(ICWSM 2014). Each text carries the mean of about 20 independent raters' scores on VADER's −4..+4 scale.
The files ship in the ``vaderSentiment`` source distribution on PyPI (MIT license, © 2016 C.J. Hutto;
``additional_resources/hutto_ICWSM_2014.tar.gz``); painpoints already depends on that package, so the sets
come with its licence and need no other download site. Nothing is copied into this repository:
``folder()`` reads ``$PAINPOINTS_VADER_DATA`` (a folder holding the ``*_GroundTruth.txt`` files) or
fetches the sdist once with pip into ``$TMPDIR/painpoints-vader``.

Three classes from a mean rating: the scale's nearest point (``three_class``) — neutral when the raters'
mean rounds to 0 (|mean| < 0.5), else its sign. Chosen before any figure was looked at: it is the
raters' own verdict on their own scale, with no tuning room.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "3.3.2"  # the vaderSentiment release whose sdist holds the sets
FILES = {
    "tweets": "tweets_GroundTruth.txt",
    "amazon_snippets": "amazonReviewSnippets_GroundTruth.txt",
    "movie_snippets": "movieReviewSnippets_GroundTruth.txt",
    "nyt_snippets": "nytEditorialSnippets_GroundTruth.txt",
}
NEUTRAL_BAND = 0.5  # |mean rating| below this rounds to the scale's 0


def folder() -> Path:
    """The folder with the ground-truth files: ``$PAINPOINTS_VADER_DATA``, else a cache under ``TMPDIR``
    filled from the ``vaderSentiment`` sdist (pip, the configured index) on first use."""
    given = os.environ.get("PAINPOINTS_VADER_DATA")
    if given:
        return Path(given)
    cache = Path(tempfile.gettempdir()) / "painpoints-vader" / VERSION
    if all((cache / f).exists() for f in FILES.values()):
        return cache
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"vaderSentiment=={VERSION}", "--dest", tmp],
            check=True,
        )  # fmt: skip
        with tarfile.open(next(Path(tmp).glob("vaderSentiment-*.tar.gz"))) as sdist:
            inner = next(m for m in sdist.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
            blob = sdist.extractfile(inner)
            assert blob is not None, inner.name
            with tarfile.open(fileobj=blob) as sets:
                cache.mkdir(parents=True, exist_ok=True)
                for member in sets.getmembers():
                    name = Path(member.name).name
                    if name in FILES.values() and (data := sets.extractfile(member)) is not None:
                        (cache / name).write_bytes(data.read())
    return cache


def load(name: str, where: Path | None = None) -> list[tuple[str, float]]:
    """``(text, mean rating)`` per row of set ``name`` (a key of ``FILES``): tab-separated id, mean, text."""
    path = (where or folder()) / FILES[name]
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and parts[2].strip():
            rows.append((parts[2].strip(), float(parts[1])))
    return rows


def three_class(mean: float) -> str:
    """The raters' verdict: their mean rating rounded to the scale's nearest point, by sign."""
    if mean <= -NEUTRAL_BAND:
        return "negative"
    return "positive" if mean >= NEUTRAL_BAND else "neutral"
