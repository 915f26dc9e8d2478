"""VADER's human-rated sentiment sets: 4,200 tweets and three sets of review and editorial snippets.

Hutto & Gilbert, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text"
(ICWSM 2014). Each text carries the mean of about 20 independent raters' scores on VADER's −4..+4 scale.
The files ship in the ``vaderSentiment`` source distribution on PyPI (``additional_resources/
hutto_ICWSM_2014.tar.gz``; the package is MIT, © 2016 C.J. Hutto; the rated texts are tweets, review and
editorial snippets its authors published as research data), which painpoints already depends on, so they
need no other download site. Nothing is copied into this repository:
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


ROWS = {"tweets": 4200, "amazon_snippets": 3708, "movie_snippets": 10605, "nyt_snippets": 5190}  # a complete copy


def folder() -> Path:
    """The folder with the ground-truth files: ``$PAINPOINTS_VADER_DATA``, else a cache under ``TMPDIR``
    filled from the ``vaderSentiment`` sdist (pip, the configured index) on first use. The cache is
    written to a fresh folder and renamed into place once every file is in it with its row count, so an
    interrupted fetch leaves no half cache behind."""
    given = os.environ.get("PAINPOINTS_VADER_DATA")
    if given:
        return Path(given)
    cache = Path(tempfile.gettempdir()) / "painpoints-vader" / VERSION
    if cache.is_dir():
        return cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache.parent) as tmp:
        fetched = Path(tmp) / "fetched"
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                 f"vaderSentiment=={VERSION}", "--dest", str(fetched)],
                check=True,
            )  # fmt: skip
        except (OSError, subprocess.CalledProcessError) as e:
            raise RuntimeError(
                f"could not fetch the vaderSentiment {VERSION} sdist with pip ({e}); put its "
                "additional_resources/hutto_ICWSM_2014/*_GroundTruth.txt in a folder and set PAINPOINTS_VADER_DATA"
            ) from e
        staged = Path(tmp) / "sets"
        staged.mkdir()
        with tarfile.open(next(fetched.glob("vaderSentiment-*.tar.gz"))) as sdist:
            inner = [m for m in sdist.getmembers() if m.isfile() and m.name.endswith("hutto_ICWSM_2014.tar.gz")]
            blob = sdist.extractfile(inner[0]) if inner else None
            if blob is None:
                raise RuntimeError(f"vaderSentiment {VERSION} sdist has no hutto_ICWSM_2014.tar.gz")
            with tarfile.open(fileobj=blob) as sets:
                for member in sets.getmembers():  # only the known file names are written, never a tar path
                    name = Path(member.name).name
                    data = sets.extractfile(member) if member.isfile() and name in FILES.values() else None
                    if data is not None:
                        (staged / name).write_bytes(data.read())
        for key in FILES:
            if len(load(key, staged)) != ROWS[key]:
                raise RuntimeError(f"{FILES[key]} from the vaderSentiment {VERSION} sdist: expected {ROWS[key]} rows")
        os.replace(staged, cache)  # atomic: the cache is whole or absent
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
