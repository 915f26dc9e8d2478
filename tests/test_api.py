"""The Python API (issue 20): ``painpoints.connect(db)`` reads the views as DataFrames and ingests and
runs through the CLI's own code paths."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import painpoints
from painpoints.discovery.search import COLUMNS
from painpoints.discovery.store import StoreError
from tests.conftest import DATA
from tests.helpers import rows as q


def test_reads_are_dataframes_of_the_views(golden_db: Path) -> None:
    pp = painpoints.connect(golden_db)
    pains = pp.pain_points()
    assert isinstance(pains, pd.DataFrame) and list(pains["rank"]) == list(range(1, len(pains) + 1))
    assert list(pains["label"]) == [label for (label,) in q(golden_db, "select label from pain_points order by rank")]
    assert len(pp.pain_points(limit=3)) == 3
    area = pains["area_id"].iloc[0]
    assert set(pp.pain_points(area=area)["area_id"]) == {area}
    top = pains["theme_id"].iloc[0]
    assert pp.theme(top)["label"].tolist() == [pains["label"].iloc[0]] and pp.theme("T999").empty
    segments = pp.feedback_themes(top)
    assert set(segments["theme_id"]) == {top} and len(pp.feedback_themes()) > len(segments)
    assert {"feature_requests", "praise", "themes", "areas"} <= set(dir(pp))
    assert len(pp.themes()) >= len(pains) and not pp.areas().empty
    found = pp.search("money back for my order", limit=5)
    assert list(found.columns) == list(COLUMNS) and len(found) == 5
    assert pp.query("select count(*) as n from feedback")["n"].iloc[0] > 0
    with pytest.raises(StoreError):
        pp.query("drop view pain_points")  # read-only, as `painpoints query`


def test_ingest_dataframe_and_run_take_the_cli_paths(prefect_harness, tmp_path: Path) -> None:
    pp = painpoints.connect(tmp_path / "new.duckdb")
    with pytest.raises(StoreError, match="ingest_dataframe"):
        pp.pain_points()
    df = pd.read_json(DATA / "reviews.jsonl", lines=True).rename(columns={"text": "review", "id": "review_id"})
    df["stars"] = [1 + i % 5 for i in range(len(df))]
    counts = pp.ingest_dataframe(df, source="play", text="review", id="review_id", rating="stars")
    assert counts.read == len(df) and counts.stored > 100 and counts.rejected == 0  # the sample repeats 2 texts
    again = pp.ingest_dataframe(df, source="play", text="review", id="review_id", rating="stars")
    assert again.stored == 0 and again.duplicates == len(df)  # same ids: idempotent, as the CLI
    assert q(pp.db, "select count(rating) from feedback") == [(counts.stored,)]
    run_id = pp.run()
    assert q(pp.db, "select status from runs where run_id = ?", [run_id]) == [("success",)]
    assert not pp.themes().empty  # happy app reviews: their complaints are facets of praised topics
    assert len(pp.pain_points()) + len(pp.pain_facets()) > 0
    assert q(pp.db, "select status from runs where run_id = ?", [pp.run()]) == [("skipped",)]  # nothing new
