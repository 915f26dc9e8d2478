"""App-store review exports load as they come, with no column flags: Google Play Console review CSVs
(UTF-16, their own headers, title + text) and App Store Connect ``customerReviews`` JSON:API pages
(fields under ``data[].attributes``). Plus the general mechanisms behind them: dotted-path mapping of
nested records, text joined from several columns, the alias table, per-row rejections."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main
from painpoints.connectors.base import FeedbackRecord, Rejected
from painpoints.connectors.files import ColumnMap, ConnectorError, FileConnector, detect_columns, flatten, parse_rating
from tests.helpers import rows

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"
PLAY = EXPORTS / "play_reviews_202403.csv"
APP_STORE = EXPORTS / "app_store_customer_reviews.json"
NESTED = EXPORTS / "nested_tickets.jsonl"


def ingest(db: Path, path: Path, source: str, *flags: str) -> str:
    result = CliRunner().invoke(main, ["ingest", str(path), "--source", source, "--db", str(db), *flags])
    assert result.exit_code == 0, result.output
    return result.output


def stored(db: Path, source: str) -> list[tuple]:
    return rows(
        db,
        "select external_id, text, created_at, rating, author, metadata from feedback where source = ? "
        "order by created_at",
        [source],
    )


def test_play_console_csv_is_utf16_with_its_own_headers() -> None:
    raw = PLAY.read_bytes()
    assert raw.startswith(b"\xff\xfe")  # the sample is what Play Console writes: UTF-16 with a BOM
    header = raw.decode("utf-16").splitlines()[0]
    assert header.startswith("Package Name,App Version Code,App Version Name,Reviewer Language,Device,")
    assert "Review Submit Date and Time" in header and header.endswith("Review Link")


def test_play_console_export_loads_with_no_flags(db: Path) -> None:
    out = ingest(db, PLAY, "google_play")
    assert out.startswith("read 5, stored 5, duplicates 0, rejected 0"), out
    got = stored(db, "google_play")
    assert len(got) == 5
    assert all(created is not None and rating is not None for _, _, created, rating, _, _ in got)
    ext, text, created, rating, _, meta = got[0]
    assert text == (
        "Crashes on launch\nSince the last update the app closes as soon as I open it. Reinstalling did not help."
    )
    assert created == datetime(2024, 3, 2, 11, 22, 33) and rating == 1.0
    assert ext.startswith("https://play.google.com/console/") and "reviewId=gp:" in ext
    meta = json.loads(meta)
    assert meta["App Version Name"] == "4.1.2" and meta["Device"] == "a52q"
    assert meta["Developer Reply Text"].startswith("Sorry about that")  # the reply is not customer text
    assert "Review Title" not in meta and "Review Text" not in meta and "Star Rating" not in meta
    texts = [t for _, t, *_ in got]
    assert texts[1].startswith("Love the new widget")  # empty title: the text alone
    assert texts[2] == "Sync is broken"  # empty text: the title alone
    assert texts[3] == "Widget lädt nicht\nDas Widget bleibt leer, bis ich die App öffne. Schade, sonst super."
    assert 'I set one for "9:00"' in texts[4]  # quoted multi-line cell survives UTF-16 decoding


def test_app_store_connect_json_loads_with_no_flags(db: Path) -> None:
    out = ingest(db, APP_STORE, "app_store")
    assert out.startswith("read 4, stored 4, duplicates 0, rejected 0"), out
    got = stored(db, "app_store")
    assert len(got) == 4 and all(c is not None and r is not None for _, _, c, r, _, _ in got)
    ext, text, created, rating, author, meta = got[0]
    assert ext == "00000041-8a6f-4c19-b7d2-6e1f0c3a9b01"
    assert text.startswith("Lost all my lists\nAfter updating to 4.1 every list I had was gone.")
    assert created == datetime(2024, 3, 2, 19, 22, 33)  # -08:00 stored as UTC
    assert (rating, author) == (1.0, "tired_planner")
    meta = json.loads(meta)
    assert meta["attributes.territory"] == "USA" and meta["type"] == "customerReviews"
    assert not any(k in meta for k in ("attributes.body", "attributes.title", "attributes.rating", "id"))
    # the JSON:API page's own links/meta are not feedback rows
    assert rows(db, "select count(*) from rejected_rows") == [(0,)]
    # a scalar field kept from a nested record is usable like any other metadata field
    assert rows(db, "select count(*) from feedback where metadata->>'$.\"attributes.territory\"' = 'DEU'") == [(1,)]


@pytest.mark.parametrize("path,source", [(PLAY, "google_play"), (APP_STORE, "app_store")])
def test_second_ingest_stores_nothing_new(db: Path, path: Path, source: str) -> None:
    ingest(db, path, source)
    ids = rows(db, "select feedback_id from feedback order by 1")
    out = ingest(db, path, source)
    n = len(ids)
    assert out.startswith(f"read {n}, stored 0, duplicates {n}, rejected 0"), out
    assert rows(db, "select feedback_id from feedback order by 1") == ids


def test_malformed_store_rows_are_rejected_with_reasons(db: Path) -> None:
    out = ingest(db, EXPORTS / "play_reviews_malformed.csv", "google_play")
    assert out.startswith("read 3, stored 1, duplicates 0, rejected 2"), out
    assert "rejected 1: unparseable rating" in out and "rejected 1: empty text" in out
    reasons = dict(rows(db, "select reason, raw from rejected_rows"))
    assert set(reasons) == {"unparseable rating: 'five' in column 'Star Rating'", "empty text"}
    assert "Best todo app I have used." in reasons["unparseable rating: 'five' in column 'Star Rating'"]
    assert rows(db, "select rating from feedback") == [(4.0,)]


def test_app_store_item_with_a_word_for_rating_is_rejected(db: Path, tmp_path: Path) -> None:
    doc = json.loads(APP_STORE.read_text())
    doc["data"][1]["attributes"]["rating"] = "five"
    doc["data"][2]["attributes"].update(title="", body="")
    path = tmp_path / "page.json"
    path.write_text(json.dumps(doc))
    out = ingest(db, path, "app_store")
    assert out.startswith("read 4, stored 2, duplicates 0, rejected 2"), out
    assert sorted(r for (r,) in rows(db, "select reason from rejected_rows")) == [
        "empty text",
        "unparseable rating: 'five' in column 'attributes.rating'",
    ]


def test_dotted_path_flags_on_nested_jsonl(db: Path) -> None:
    flags = ["--text", "content.subject+content.body", "--id", "ticket.key", "--time", "ticket.opened"]
    flags += ["--rating", "survey.csat", "--author", "ticket.requester.name", "--kind", "ticket"]
    out = ingest(db, NESTED, "helpdesk", *flags)
    assert out.startswith("read 3, stored 3, duplicates 0, rejected 0"), out
    got = stored(db, "helpdesk")
    assert [(e, r, a) for e, _, _, r, a, _ in got] == [
        ("HD-1041", 2.0, "Priya N."),
        ("HD-1042", 1.0, "Tom B."),
        ("HD-1043", 4.0, "Lena K."),
    ]
    assert got[0][1] == "Export to CSV fails\nEvery export over 1,000 rows stops at 99% and never downloads."
    assert got[2][1] == "Dark mode request"  # empty body: the subject alone
    assert got[0][2] == datetime(2024, 3, 1, 9, 12)
    assert json.loads(got[0][5]) == {"channel": "email"}
    again = ingest(db, NESTED, "helpdesk", *flags)
    assert again.startswith("read 3, stored 0, duplicates 3, rejected 0"), again


def test_dotted_path_in_the_library_column_map_and_a_single_field(tmp_path: Path) -> None:
    recs = list(FileConnector(NESTED, "s", "ticket", ColumnMap(text="content.body", time="ticket.opened")))
    assert isinstance(recs[0], FeedbackRecord) and recs[0].text.startswith("Every export over 1,000 rows")
    assert recs[0].created_at == datetime(2024, 3, 1, 9, 12)
    assert recs[0].metadata["content.subject"] == "Export to CSV fails"  # unmapped: kept as metadata
    assert isinstance(recs[2], Rejected) and recs[2].reason == "empty text"  # empty body, no title asked for


def test_unknown_dotted_path_and_object_text_are_clear_errors(db: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["ingest", str(NESTED), "--source", "s", "--text", "content.nope", "--db", str(db)]
    )
    assert result.exit_code != 0 and "--text column 'content.nope' not found" in result.output
    result = CliRunner().invoke(
        main, ["ingest", str(NESTED), "--source", "s", "--text", "content.body+content.nope", "--db", str(db)]
    )
    assert result.exit_code != 0 and "'content.nope' not found" in result.output
    p = tmp_path / "r.jsonl"
    p.write_text(json.dumps({"id": 1, "review": {"title": "t", "body": "slow"}}) + "\n")
    with pytest.raises(ConnectorError, match="'review' holds an object; .* dotted path: review.title, review.body"):
        list(FileConnector(p, "s", "review", ColumnMap(text="review")))
    # an object where the first rows held text is rejected for that row, with the way out
    p.write_text(json.dumps({"id": 1, "review": "slow"}) + "\n" + json.dumps({"id": 2, "review": {"body": "x"}}))
    ok, bad = FileConnector(p, "s", "review", ColumnMap(text="review"))
    assert isinstance(ok, FeedbackRecord) and isinstance(bad, Rejected)
    assert "dotted path such as 'review.body'" in bad.reason


def test_flatten_keeps_lists_and_survives_deep_nesting() -> None:
    assert flatten({"a": {"b": {"c": 1}, "d": [{"e": 2}]}, "f": {}}) == {"a.b.c": 1, "a.d": [{"e": 2}], "f": {}}
    deep: dict = {"x": "leaf"}
    for _ in range(5_000):
        deep = {"n": deep}
    (key,) = flatten(deep)
    assert key.endswith(".x") and key.count(".") == 5_000


def test_alias_table_detects_known_export_headers() -> None:
    play = [
        "Package Name",
        "Review Submit Date and Time",
        "Review Last Update Date and Time",
        "Star Rating",
        "Review Title",
        "Review Text",
        "Developer Reply Text",
        "Review Link",
    ]
    sample = [dict.fromkeys(play, "x") | {"Star Rating": "4"}]
    assert detect_columns(play, sample, ColumnMap()) == ColumnMap(
        text="Review Title+Review Text", id="Review Link", time="Review Submit Date and Time", rating="Star Rating"
    )
    app_store = ["type", "id", "attributes.rating", "attributes.title", "attributes.body"]
    app_store += ["attributes.reviewerNickname", "attributes.createdDate", "attributes.territory"]
    sample = [dict.fromkeys(app_store, "x") | {"attributes.rating": 5}]
    assert detect_columns(app_store, sample, ColumnMap()) == ColumnMap(
        text="attributes.title+attributes.body",
        id="id",
        time="attributes.createdDate",
        rating="attributes.rating",
        author="attributes.reviewerNickname",
    )


def test_given_text_is_not_joined_with_a_title_and_a_label_column_is_no_rating() -> None:
    cols = ["title", "comment", "score"]
    sample = [{"title": "t", "comment": "c", "score": "positive"}, {"title": "u", "comment": "d", "score": "negative"}]
    assert detect_columns(cols, sample, ColumnMap(text="comment")) == ColumnMap(text="comment")
    assert detect_columns(cols, sample, ColumnMap()).rating is None
    with pytest.raises(ConnectorError, match="--rating column 'stars' not found"):
        detect_columns(cols, sample, ColumnMap(rating="stars"))


@pytest.mark.parametrize(
    "value,expected",
    [(4, 4.0), ("4", 4.0), ("4.5", 4.5), ("4,5", 4.5), ("4/5", 4.0), ("4 stars", 4.0), ("★★★☆☆", 3.0)]
    + [("five", None), ("", None), (None, None), (float("nan"), None), (True, None)],
)
def test_parse_rating(value: object, expected: float | None) -> None:
    assert parse_rating(value) == expected
