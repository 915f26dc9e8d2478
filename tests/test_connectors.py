"""File and transcript connectors: formats, dialects, encodings, mapping, rejections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from painpoints.connectors.base import FeedbackRecord, Rejected
from painpoints.connectors.files import ColumnMap, ConnectorError, FileConnector, parse_time
from painpoints.connectors.transcripts import TranscriptConnector, customer_segments, parse_turns


def items(path: Path, kind: str = "review", **cols: str) -> tuple[list[FeedbackRecord], list[Rejected]]:
    conn = (
        TranscriptConnector(path, "s", ColumnMap(**cols))
        if kind == "transcript"
        else FileConnector(path, "s", kind, ColumnMap(**cols))
    )
    out = list(conn)
    return [i for i in out if isinstance(i, FeedbackRecord)], [i for i in out if isinstance(i, Rejected)]


def test_csv_autodetects_columns_and_keeps_the_rest_as_metadata(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text(
        "review_id,Review Text,Stars,Date,app_version\n"
        "a1,Crashes on start,1,2024-03-01,2.1\n"
        'a2,"Login fails, again",2,03/02/2024,2.2\n'
    )
    recs, rej = items(p)
    assert not rej
    assert [r.text for r in recs] == ["Crashes on start", "Login fails, again"]
    assert recs[0].external_id == "a1" and recs[0].rating == 1.0
    assert recs[0].created_at.isoformat() == "2024-03-01T00:00:00"
    assert recs[1].created_at.isoformat() == "2024-03-02T00:00:00"
    assert recs[0].metadata == {"app_version": "2.1"}


def test_id_and_time_columns_named_after_their_object_are_found_by_shape(tmp_path: Path) -> None:
    """A tweet export names no column as the alias table does: ``tweet_id`` is its id (distinct values),
    ``tweet_created`` its time (values parse; ``user_timezone`` does not); ``Clothing ID`` repeats across
    rows and is no id of the review."""
    p = tmp_path / "tweets.csv"
    p.write_text(
        "tweet_id,airline,Clothing ID,user_timezone,tweet_created,text\n"
        "5703,United,7,Eastern Time (US & Canada),2015-02-24 11:35:52 -0800,@united my bag never arrived\n"
        "5704,Delta,8,Eastern Time (US & Canada),Tue Feb 24 11:40:00 +0000 2015,@Delta two hours on hold\n"
    )
    recs, rej = items(p)
    assert not rej
    assert [r.external_id for r in recs] == ["5703", "5704"]
    assert [r.created_at.isoformat() for r in recs] == ["2015-02-24T19:35:52", "2015-02-24T11:40:00"]
    assert recs[0].metadata == {"airline": "United", "Clothing ID": "7", "user_timezone": "Eastern Time (US & Canada)"}
    q = tmp_path / "reviews.csv"
    q.write_text("Clothing ID,Review Text\n7,runs small\n8,lovely fabric\n")
    assert [r.external_id for r in items(q)[0]] == [None, None]  # not an id of the review
    # a comments export: the comment's id, not its post's (distinct in a sample, repeated further down);
    # a duration is no time, a creation time is
    c = tmp_path / "comments.csv"
    c.write_text(
        "post_id,comment_id,handle_time,posted_on,body\n"
        "p1,c1,120,2024-05-01 10:00:00,the app logs me out\n"
        "p2,c2,90,2024-05-02 11:00:00,search finds nothing\n"
        "p1,c3,30,2024-05-03 12:00:00,same here on android\n"
    )
    recs, rej = items(c)
    assert not rej and [r.external_id for r in recs] == ["c1", "c2", "c3"]
    assert [r.created_at.day for r in recs] == [1, 2, 3] and recs[0].metadata["handle_time"] == "120"


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_csv_dialects_are_sniffed(tmp_path: Path, sep: str) -> None:
    p = tmp_path / "r.csv"
    p.write_text(f"id{sep}comment{sep}x\n1{sep}too slow to load{sep}a\n2{sep}great support{sep}b\n")
    recs, rej = items(p)
    assert [r.text for r in recs] == ["too slow to load", "great support"] and not rej


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1", "utf-8-sig"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "r.csv"
    p.write_bytes("id,text\n1,Café très lent à charger\n2,Ça plante\n".encode(encoding))
    recs, _ = items(p)
    assert recs[0].text == "Café très lent à charger" and recs[1].text == "Ça plante"


def test_bad_rows_are_rejected_with_reasons_and_good_rows_kept(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_bytes(
        "id,text,n\n1,fine row: café crème,1\n".encode()
        + b"2,,2\n3,too,many,fields\n4,bad \xff\xfe bytes in \xc3 utf8,4\n5,ok\x00 nul,5\n"
    )
    recs, rej = items(p)
    assert [r.external_id for r in recs] == ["1", "5"]
    assert recs[1].text == "ok nul"
    reasons = sorted(r.reason for r in rej)
    assert reasons == ["empty text", "expected 3 fields, got 4", "undecodable bytes in text"]
    assert all(r.raw for r in rej)


def test_explicit_mapping_and_unknown_column(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_text(json.dumps({"key": "T-1", "body": "refund never arrived", "when": 1700000000, "who": "ann"}) + "\n")
    recs, _ = items(p, "ticket", text="body", id="key", time="when", author="who")
    assert recs[0].external_id == "T-1" and recs[0].author == "ann" and recs[0].created_at.year == 2023
    with pytest.raises(ConnectorError, match="--text column 'nope' not found"):
        items(p, text="nope")


def test_jsonl_invalid_lines_and_wrong_types_rejected(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"text": "good one"}\n{not json\n[1,2]\n{"text": {"nested": 1}}\n\n')
    recs, rej = items(p)
    assert [r.text for r in recs] == ["good one"]
    assert len(rej) == 3 and any("invalid JSON" in r.reason for r in rej)


def test_json_array_and_wrapped_list(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([{"comment": "x is broken"}, "oops"]))
    b.write_text(json.dumps({"data": [{"comment": "y is broken"}]}))
    assert [r.text for r in items(a)[0]] == ["x is broken"] and len(items(a)[1]) == 1
    assert [r.text for r in items(b)[0]] == ["y is broken"]


def test_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({"id": [1, 2], "content": ["slow sync", None], "score": [2.0, 5.0]}), p)
    recs, rej = items(p)
    assert [r.text for r in recs] == ["slow sync"] and recs[0].rating == 2.0 and rej[0].reason == "empty text"


def test_unsupported_file_type(tmp_path: Path) -> None:
    p = tmp_path / "r.xlsx"
    p.write_text("x")
    with pytest.raises(ConnectorError, match="unsupported file type"):
        items(p)


def test_parse_time_variants() -> None:
    assert parse_time("2019/9/24").isoformat() == "2019-09-24T00:00:00"
    assert parse_time("2024-01-02T03:04:05Z").isoformat() == "2024-01-02T03:04:05"
    assert parse_time(1700000000000).year == 2023
    assert parse_time("not a date") is None
    assert parse_time("Tue Feb 24 11:35:52 +0000 2015").isoformat() == "2015-02-24T11:35:52"  # Twitter
    assert parse_time("2015-02-24 11:35:52 -0800").isoformat() == "2015-02-24T19:35:52"  # to UTC
    assert parse_time("24/02/2015") is None  # day first is not guessed row by row (kept as *_unparsed)
    assert parse_time("Feb 24, 2015 11:35 AM").isoformat() == "2015-02-24T11:35:00"


# ---------------------------------------------------------------------------------- transcripts
ABCD_STYLE = """SYS:Hello. How may I help you today?

USR:I was trying to see my history but I can't remember my username.

SYS:What is your name and email address?

USR:David Williams

USR:davidw33@email.com

ACT:Account has been pulled up for David Williams.

USR:ok

USR:thanks"""


def test_usr_sys_lines_keep_customer_blocks_and_drop_filler() -> None:
    turns, problems = parse_turns(ABCD_STYLE)
    assert not problems and len(turns) == 8
    segs = customer_segments(turns)
    assert segs == [
        "I was trying to see my history but I can't remember my username.",
        "David Williams. davidw33@email.com.",
    ]


def test_vtt_with_voice_tags_and_a_broken_cue(tmp_path: Path) -> None:
    p = tmp_path / "call.vtt"
    p.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Agent>Thanks for calling, how can I help?</v>\n\n"
        "00:00:05.000 --> 00:00:09.000\n<v Customer>My invoice shows a charge I never made.</v>\n\n"
        "00:00:10.000 -> broken\n<v Customer>lost cue</v>\n\n"
        "00:00:11.000 --> 00:00:14.000\n<v Customer>And the app logs me out every day.</v>\n"
    )
    recs, rej = items(p, "transcript")
    assert recs[0].segments == ["My invoice shows a charge I never made. And the app logs me out every day."]
    assert recs[0].external_id == "call" and recs[0].kind == "transcript"
    assert len(rej) == 1 and "timing" in rej[0].reason


def test_srt_with_speaker_prefixes(tmp_path: Path) -> None:
    p = tmp_path / "chat.srt"
    p.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nAgent: Hi there\n\n2\n00:00:03,000 --> 00:00:05,000\n"
        "Customer: The delivery is two weeks late\n\n3\n00:00:06,000 --> 00:00:07,000\nAgent: Sorry\n\n"
        "4\n00:00:08,000 --> 00:00:10,000\nCustomer: I want a refund for shipping\n"
    )
    recs, _ = items(p, "transcript")
    assert recs[0].segments == ["The delivery is two weeks late.", "I want a refund for shipping."]


def test_json_turn_list_and_unknown_speakers(tmp_path: Path) -> None:
    p = tmp_path / "t.json"
    p.write_text(
        json.dumps(
            [
                ["agent", "Hello"],
                ["customer", "My card was declined twice today"],
                {"role": "agent", "content": "Let me check"},
            ]
        )
    )
    assert items(p, "transcript")[0][0].segments == ["My card was declined twice today."]
    turns, _ = parse_turns(
        "Alice: the export button does nothing\nSupport: try again please\nAlice: still nothing happens"
    )
    # no known customer role: every speaker that is not a known agent role is the customer
    assert customer_segments(turns) == ["the export button does nothing.", "still nothing happens."]


def test_transcript_table_one_conversation_per_row(tmp_path: Path) -> None:
    p = tmp_path / "chats.csv"
    p.write_text(
        'id,transcript\nc1,"USR:my order never arrived and tracking is stuck\n\nSYS:sorry"\n'
        'c2,"SYS:hello\n\nSYS:anyone?"\n'
    )
    recs, rej = items(p, "transcript")
    assert recs[0].external_id == "c1" and recs[0].segments == ["my order never arrived and tracking is stuck."]
    assert rej[0].reason == "no customer turns with content"


def test_configured_customer_role(tmp_path: Path) -> None:
    p = tmp_path / "call.txt"
    p.write_text("Dana: welcome to support, what happened?\nRiley: my parcel was delivered to the wrong house\n")
    from painpoints.discovery.ingest import connector_for

    recs = [
        i for i in connector_for(p, "calls", "transcript", customer_roles=["Riley"]) if isinstance(i, FeedbackRecord)
    ]
    assert recs[0].segments == ["my parcel was delivered to the wrong house."]


def test_json_splits_of_pairs_and_headerless_tsv(tmp_path: Path) -> None:
    j = tmp_path / "d.json"
    j.write_text(json.dumps({"train": [["card was declined", "declined"]], "test": [["where is my parcel", "track"]]}))
    recs, _ = items(j)
    assert [(r.text, r.metadata) for r in recs] == [
        ("card was declined", {"column_1": "declined", "_group": "train"}),
        ("where is my parcel", {"column_1": "track", "_group": "test"}),
    ]
    t = tmp_path / "s.txt"
    t.write_text("Wow... Loved this place.\t1\nCrust is not good.\t0\nService was very slow today.\t0\n")
    recs, _ = items(t)
    assert [r.text for r in recs][:2] == ["Wow... Loved this place.", "Crust is not good."]


def test_json_table_of_conversations_is_not_one_conversation(tmp_path: Path) -> None:
    p = tmp_path / "chats.json"
    p.write_text(
        json.dumps(
            [
                ["SYS:Hello\n\nUSR:my promo code is rejected at checkout", "promo_code_invalid"],
                ["SYS:Hi\n\nUSR:the site is really slow today", "slow_speed"],
            ]
        )
    )
    recs, _ = items(p, "transcript")
    assert [r.segments for r in recs] == [
        ["my promo code is rejected at checkout."],
        ["the site is really slow today."],
    ]
    assert recs[0].metadata["column_1"] == "promo_code_invalid"
