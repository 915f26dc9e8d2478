"""Transcripts whose speakers are named by person (issue 20 item 4): the agent's turns are dropped,
each customer problem is its own segment, and the attribution is recorded in the item's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.connectors.base import FeedbackRecord, Rejected
from painpoints.connectors.problems import customer_problems
from painpoints.connectors.speakers import SpeakerRules, Turn, attribute
from painpoints.connectors.transcripts import TranscriptConnector, parse_turns
from painpoints.discovery import store
from painpoints.discovery.ingest import ingest_paths
from painpoints.discovery.normalize import segment_feedback
from painpoints.discovery.pipeline import prepare_segments
from painpoints.discovery.settings import load_settings
from painpoints.discovery.source_config import FileSource
from painpoints.discovery.sources import pull_source
from tests.helpers import rows

AGENT = "Marco Ruiz"
CUSTOMER = "Dana Whitfield"
# the call from the issue: a support agent, a customer with two unrelated problems
CALL = [
    (AGENT, "Thanks for calling Acme support, my name is Marco. How can I help you today?"),
    (
        CUSTOMER,
        "Hi Marco. Our scheduled CSV exports have been failing every night since Monday. The job times out "
        "and the finance team gets nothing in the morning.",
    ),
    (AGENT, "I'm sorry to hear that. Let me check our status page for incidents with the export service."),
    (CUSTOMER, "Sure. It only fails for our largest workspace, the small ones still export fine."),
    (
        AGENT,
        "I see a known issue with large exports. I've escalated it to our engineering team. "
        "Is there anything else I can help you with?",
    ),
    (
        CUSTOMER,
        "Yes, another thing. The dashboard has been painfully slow for two weeks, the revenue report "
        "takes almost a minute to load.",
    ),
    (AGENT, "Thanks for flagging that, I'll add it to the ticket and follow up by email."),
    (CUSTOMER, "Great, thanks. Bye."),
]
AGENT_WORDS = ("sorry to hear", "status page", "escalated", "How can I help", "follow up")


def vtt(turns: list[tuple[str, str]], voice: bool = False) -> str:
    """A Zoom-style WebVTT: numbered cues, "Name: text" bodies (or ``<v Name>`` voice tags)."""
    cues = ["WEBVTT", ""]
    for i, (who, text) in enumerate(turns, 1):
        body = f"<v {who}>{text}</v>" if voice else f"{who}: {text}"
        cues += [str(i), f"00:00:{i * 5:02d}.000 --> 00:00:{i * 5 + 4:02d}.500", body, ""]
    return "\n".join(cues)


def read(path: Path, speakers: SpeakerRules | None = None) -> tuple[list[FeedbackRecord], list[Rejected]]:
    items = list(TranscriptConnector(path, "calls", speakers=speakers))
    return [i for i in items if isinstance(i, FeedbackRecord)], [i for i in items if isinstance(i, Rejected)]


def segments(record: FeedbackRecord) -> list[str]:
    """The segments discovery will embed (the real normaliser, PII redaction off for readability)."""
    return [s.text for s in segment_feedback("transcript", record.text, redact_pii=False)]


def assert_two_problems(record: FeedbackRecord) -> None:
    segs = segments(record)
    assert len(segs) == 2, segs
    assert "exports have been failing" in segs[0] and "largest workspace" in segs[0] and "dashboard" not in segs[0]
    assert "dashboard has been painfully slow" in segs[1] and "export" not in segs[1]
    for phrase in AGENT_WORDS:
        assert phrase not in record.text


def test_zoom_vtt_heuristic_drops_the_agent_and_splits_the_two_problems(tmp_path: Path) -> None:
    p = tmp_path / "zoom_call.vtt"
    p.write_text(vtt(CALL))
    (record,), rejected = read(p)
    assert not rejected and record.external_id == "zoom_call"
    assert_two_problems(record)
    who = record.metadata["speakers"]
    assert (who["method"], who["agents"], who["customers"]) == ("heuristic", [AGENT], [CUSTOMER])
    assert "greeting 'Thanks for calling' in an opening turn" in who["reasons"][AGENT]
    assert who["dropped_turns"] == 4 and record.metadata["problems"] == 2


def test_voice_tags_with_an_agent_roster(tmp_path: Path) -> None:
    p = tmp_path / "call.vtt"
    plain = [(w, t.replace("Thanks for calling Acme support, my name is Marco. ", "")) for w, t in CALL]
    p.write_text(vtt(plain, voice=True))
    (record,), _ = read(p, SpeakerRules.build(agents=["marco RUIZ"]))  # case and spacing do not matter
    assert_two_problems(record)
    assert record.metadata["speakers"]["method"] == "roster"
    assert record.metadata["speakers"]["reasons"][CUSTOMER] == "not a known agent while others are"


def test_customer_roster_decides_the_other_side(tmp_path: Path) -> None:
    p = tmp_path / "call.txt"
    p.write_text("\n".join(f"{w}: {t}" for w, t in CALL))
    (record,), _ = read(p, SpeakerRules.build(customers=[CUSTOMER]))
    assert_two_problems(record)
    assert record.metadata["speakers"]["agents"] == [AGENT]


@pytest.mark.parametrize(
    ("agent_label", "customer_label", "company"),
    [
        ("Marco Ruiz (Acme)", "Dana Whitfield (Globex)", ["Acme"]),
        ("marco@acme.com", "dana@globex.com", ["acme.com"]),
        ("marco@support.acme.com", "dana@globex.com", ["Acme"]),  # a name matches the domain's label
    ],
)
def test_company_name_or_domain_marks_the_agent(
    tmp_path: Path, agent_label: str, customer_label: str, company: list[str]
) -> None:
    # no greeting and no agent phrasing at all: only the label can tell
    plain = [(agent_label if w == AGENT else customer_label, t) for w, t in CALL if w == CUSTOMER]
    plain.insert(1, (agent_label, "Okay, which workspace is it?"))
    plain.insert(3, (agent_label, "Noted. Is there anything else?"))
    p = tmp_path / "call.txt"
    p.write_text("\n".join(f"{w}: {t}" for w, t in plain))
    (record,), _ = read(p, SpeakerRules.build(company=company))
    who = record.metadata["speakers"]
    assert (who["method"], who["agents"], who["customers"]) == ("company", [agent_label], [customer_label])
    assert "which workspace" not in record.text and len(segments(record)) == 2
    (undecided,), _ = read(p)  # the same call without the company setting: nothing to go on
    assert undecided.metadata["speakers"]["method"] == "undecided" and "which workspace" in undecided.text


def gong_payload() -> dict:
    def mono(speaker: str, *sentences: str, topic: str = "Support") -> dict:
        return {
            "speakerId": speaker,
            "topic": topic,
            "sentences": [{"start": i * 1000, "end": i * 1000 + 900, "text": s} for i, s in enumerate(sentences)],
        }

    return {
        "requestId": "4al018gzaztcr8nbukw",
        "records": {"totalRecords": 2, "currentPageSize": 2, "currentPageNumber": 0},
        "callTranscripts": [
            {
                "callId": "7782342274025937895",
                "transcript": [
                    mono("111", "Hi Priya, thanks for joining.", "What would you like to cover?", topic="Call Setup"),
                    mono("222", "We keep hitting the API rate limit during our nightly sync.", "The job dies at 3am."),
                    mono("111", "Got it, I'll check the limits on your plan."),
                    mono(
                        "222",
                        "Also, the SSO login with Okta fails for new users.",
                        "They get an invalid assertion error.",
                        topic="Security",
                    ),
                ],
            },
            {
                "callId": "7782342274025937896",
                "transcript": [
                    mono("333", "Our invoices show the wrong VAT number since the migration."),
                    mono("111", "Thanks, I'll correct it today."),
                ],
            },
        ],
        # as /v2/calls/extensive returns them: who each speakerId is, and which side they are on
        "calls": [
            {
                "metaData": {"id": "7782342274025937895", "started": "2026-11-03T15:00:00Z"},
                "parties": [
                    {
                        "id": "p1",
                        "speakerId": "111",
                        "name": "Sam Lee",
                        "emailAddress": "sam@acme.io",
                        "affiliation": "Internal",
                    },
                    {"id": "p2", "speakerId": "222", "name": "Priya Nair", "affiliation": "External"},
                ],
            },
            {
                "metaData": {"id": "7782342274025937896", "started": "2026-11-04T09:30:00Z"},
                "parties": [
                    {"id": "p3", "speakerId": "111", "name": "Sam Lee", "affiliation": "Internal"},
                    {"id": "p4", "speakerId": "333", "name": "Tom Berg", "affiliation": "External"},
                ],
            },
        ],
    }


def test_gong_transcripts_resolve_speakers_through_parties(tmp_path: Path) -> None:
    p = tmp_path / "gong.json"
    p.write_text(json.dumps(gong_payload()))
    records, rejected = read(p)
    assert not rejected and [r.external_id for r in records] == ["7782342274025937895", "7782342274025937896"]
    first, second = records
    assert first.created_at is not None and first.created_at.isoformat().startswith("2026-11-03T15:00")
    assert first.metadata["speakers"]["method"] == "affiliation"
    assert first.metadata["gong_topics"] == ["Call Setup", "Support", "Security"]
    assert first.metadata["speakers"]["agents"] == ["Sam Lee"]
    assert "thanks for joining" not in first.text and "check the limits" not in first.text
    assert segments(first) == [
        "We keep hitting the API rate limit during our nightly sync. The job dies at 3am.",
        "Also, the SSO login with Okta fails for new users. They get an invalid assertion error.",
    ]
    assert segments(second) == ["Our invoices show the wrong VAT number since the migration."]


def test_gong_without_parties_falls_back_to_the_heuristic(tmp_path: Path) -> None:
    data = gong_payload()
    del data["calls"]
    data["callTranscripts"][0]["transcript"][0]["sentences"][0]["text"] = "Thanks for calling Acme, this is Sam."
    p = tmp_path / "gong.json"
    p.write_text(json.dumps(data))
    first = read(p)[0][0]
    assert first.metadata["speakers"]["method"] == "heuristic"
    assert first.metadata["speakers"]["agents"] == ["Gong speaker 111"]
    assert "check the limits" not in first.text and len(segments(first)) == 2


def test_three_speakers_agent_picked_only_on_clear_evidence(tmp_path: Path) -> None:
    colleague = "Priya Shah"
    call = [
        *CALL[:2],
        (colleague, "Yes, and I'm the one who gets paged when the export job dies at 2am."),
        *CALL[2:],
    ]
    p = tmp_path / "three.vtt"
    p.write_text(vtt(call))
    (record,), _ = read(p)
    who = record.metadata["speakers"]
    assert who["method"] == "heuristic" and who["agents"] == [AGENT] and set(who["customers"]) == {CUSTOMER, colleague}
    assert "paged when the export job dies" in segments(record)[0] and "sorry to hear" not in record.text


def test_three_speakers_without_clear_evidence_keep_every_turn(tmp_path: Path) -> None:
    call = [
        ("Ana Diaz", "Let me check the numbers first."),  # one agent-ish phrase is not clear evidence
        ("Ben Ito", "The export keeps timing out for the big workspace."),
        ("Cy Park", "And the dashboard is slow for everyone on the team too."),
    ]
    p = tmp_path / "three.txt"
    p.write_text("\n".join(f"{w}: {t}" for w, t in call))
    (record,), _ = read(p)
    assert record.metadata["speakers"]["method"] == "undecided"
    assert record.metadata["speakers"]["dropped_turns"] == 0
    assert all(t in record.text for _, t in call)


def test_ambiguous_two_party_call_keeps_all_text_and_says_so(tmp_path: Path) -> None:
    call = [
        ("Jordan Bell", "The sync between our CRM and the billing tool stopped last week."),
        ("Alex Moreno", "We noticed the same thing on the reporting side, numbers are off by a day."),
        ("Jordan Bell", "It might be the time zone setting in the new release."),
    ]
    p = tmp_path / "peer.txt"
    p.write_text("\n".join(f"{w}: {t}" for w, t in call))
    (record,), _ = read(p)
    who = record.metadata["speakers"]
    assert who["method"] == "undecided" and who["agents"] == [] and who["dropped_turns"] == 0
    assert sorted(who["reasons"]) == ["Alex Moreno", "Jordan Bell"]
    for _, text in call:  # nothing is silently lost
        assert text in record.text


def test_problems_in_one_turn_joined_by_also_or_another_thing() -> None:
    turns, _ = parse_turns(
        f"{AGENT}: Thanks for contacting Acme, how can I help?\n"
        f"{CUSTOMER}: Our nightly CSV exports fail with a timeout, and also the dashboard takes a minute to load. "
        "Another thing: the mobile app logs me out every morning.\n"
        f"{AGENT}: I'm sorry about that, let me check."
    )
    problems = customer_problems(turns, attribute(turns).is_customer)
    assert problems == [
        ["Our nightly CSV exports fail with a timeout."],
        ["and also the dashboard takes a minute to load."],
        ["Another thing: the mobile app logs me out every morning."],
    ]


def test_additive_sentence_about_something_new_starts_a_problem_but_details_do_not() -> None:
    turns = [
        Turn(CUSTOMER, "Our CSV exports fail every night since Monday."),
        Turn(AGENT, "Which format do you export to?"),
        Turn(CUSTOMER, "CSV mostly, Excel too."),  # an answer, not a new problem
        Turn(CUSTOMER, "It also fails when I run it by hand."),  # points back: same problem
        Turn(AGENT, "Thanks, I'll look into it."),
        Turn(CUSTOMER, "The dashboard is also really slow this week."),  # something new
    ]
    problems = customer_problems(turns, lambda t: t.speaker == CUSTOMER)
    assert problems == [
        [
            "Our CSV exports fail every night since Monday.",
            "CSV mostly, Excel too. It also fails when I run it by hand.",
        ],
        ["The dashboard is also really slow this week."],
    ]


def test_wrap_up_after_anything_else_is_not_a_new_problem() -> None:
    turns = [
        Turn("Customer", "I can't log in since the password reset."),
        Turn("Agent", "I've reset it again. Is there anything else I can help with?"),
        Turn("Customer", "I'll give it a try later today, appreciate it."),
        Turn("Customer", "No, that's all, thanks!"),
    ]
    problems = customer_problems(turns, attribute(turns).is_customer)
    assert problems == [
        ["I can't log in since the password reset.", "I'll give it a try later today, appreciate it."],
    ]


def test_end_to_end_ingest_stores_one_segment_per_problem(tmp_path: Path, db: Path) -> None:
    p = tmp_path / "zoom_call.vtt"
    p.write_text(vtt(CALL))
    settings = load_settings(db=db)
    counts = ingest_paths(settings, [p], "calls", "transcript", speakers=SpeakerRules.build(agents=[AGENT]))
    assert (counts.stored, counts.rejected) == (1, 0)
    with store.connect(db) as con:
        assert prepare_segments(con, settings) == 2
    segs = rows(db, "select segment, text from segments order by segment")
    assert "exports have been failing" in segs[0][1] and "dashboard" not in segs[0][1]
    assert "dashboard has been painfully slow" in segs[1][1] and "export" not in segs[1][1]
    assert not any(phrase in text for _, text in segs for phrase in AGENT_WORDS)
    ((method, agents, dropped),) = rows(
        db,
        "select metadata->'speakers'->>'method', metadata->'speakers'->>'agents', "
        "metadata->'speakers'->>'dropped_turns' from feedback",
    )
    assert (method, json.loads(agents), int(dropped)) == ("roster", [AGENT], 4)


def test_declared_source_and_cli_take_the_company(tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAINPOINTS_CONFIG", str(tmp_path / "painpoints.toml"))
    greeting = "Thanks for calling Acme support, "  # removed: only the "(Acme)" label may decide
    labelled = [(f"{w} (Acme)" if w == AGENT else w, t.replace(greeting, "")) for w, t in CALL]
    (tmp_path / "calls").mkdir()
    (tmp_path / "calls" / "c1.txt").write_text("\n".join(f"{w}: {t}" for w, t in labelled))
    (tmp_path / "painpoints.toml").write_text(
        '[[sources]]\nname = "calls"\nkind = "transcript"\npaths = ["calls/*.txt"]\ncompany = ["Acme"]\n'
    )
    src = load_settings(db=db).sources[0]
    assert isinstance(src, FileSource) and src.speakers.company == ("acme",)
    assert pull_source(load_settings(db=db), src, base=tmp_path).stored == 1
    ((meta,),) = rows(db, "select metadata->'speakers'->>'method' from feedback")
    assert meta == "company"

    from painpoints.cli import main

    other = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(
        main,
        ["ingest", str(tmp_path / "calls" / "c1.txt"), "--source", "c", "--kind", "transcript", "--company", "Acme"]
        + ["--db", str(other)],
    )
    assert result.exit_code == 0, result.output
    assert "stored 1" in result.output
    ((text,),) = rows(other, "select text from feedback")
    assert "sorry to hear" not in text and "\n\n" in text


@pytest.mark.slow
def test_ingest_flow_takes_the_agent_roster(prefect_harness, tmp_path: Path) -> None:
    from painpoints.flows.ingest import ingest_flow

    p = tmp_path / "zoom_call.vtt"
    p.write_text(vtt([(w, t.replace("Thanks for calling Acme support, ", "")) for w, t in CALL]))
    db = tmp_path / "flow.duckdb"
    counts = ingest_flow(db=str(db), paths=[str(p)], source="calls", kind="transcript", agents=[AGENT])
    assert counts["stored"] == 1
    ((text, method),) = rows(db, "select text, metadata->'speakers'->>'method' from feedback")
    assert method == "roster" and "sorry to hear" not in text and text.count("\n\n") == 1


def test_heuristic_on_real_chats_with_the_roles_renamed_to_people() -> None:
    """The bundled ABCD chats (real customer-service conversations) with SYS/USR replaced by names: the
    heuristic must never pick the customer as the agent, and must decide most chats."""
    import csv

    outcome: dict[str, int] = {"correct": 0, "undecided": 0, "wrong": 0}
    with (Path(__file__).resolve().parent / "data" / "chats_labelled.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            turns, _ = parse_turns(row["transcript"])
            named = [
                Turn(AGENT if t.speaker == "SYS" else CUSTOMER, t.text) for t in turns if t.speaker in ("SYS", "USR")
            ]
            decision = attribute(named)
            key = "undecided" if not decision.decided else "correct" if decision.agents == [AGENT] else "wrong"
            outcome[key] += 1
    assert outcome["wrong"] == 0 and outcome["correct"] >= 0.85 * sum(outcome.values()), outcome
