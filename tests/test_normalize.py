"""Cleaning, segmentation and PII redaction."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from painpoints.discovery.normalize import (
    clean_text,
    content_hash,
    cut_at_contrast,
    segment_feedback,
    split_segments,
    unaddressed,
)
from painpoints.discovery.redact import iban_ok, luhn_ok, redact

DATA = Path(__file__).resolve().parent / "data"


def test_clean_text_removes_markup_signatures_and_invisible_characters() -> None:
    raw = "<p>Hello&nbsp;team,</p>\r\n\r\nThe export\u200b   fails.\x07\n\n--\nJane\nACME Corp"
    assert clean_text(raw) == "Hello team,\n\nThe export fails."


def test_social_posts_lose_handles_and_links_but_keep_their_problem() -> None:
    assert unaddressed("@united my bag is lost #fail http://t.co/AbC12x") == "my bag is lost fail"
    assert unaddressed("RT @JetBlue: RT @bob: best crew ever!") == "best crew ever!"
    assert unaddressed(".@AmericanAir why the delay?") == "why the delay?"
    assert unaddressed("@Delta thanks @united for losing my bag.") == "thanks for losing my bag."
    assert unaddressed("@a see https://medium.com/@user/post-1 for details") == "see for details"
    # a text that does not open as a post passes unchanged: tickets, reviews, chats
    for text in [
        "write to jane@example.com about order #12345",
        "Reference #INC0012345",
        "npm install @angular/core fails",
        "The @Override annotation is ignored",
        "Retina @2x images are blurry",
        "RT-PCR test results were delayed",
        "I checked my CREDIT REPORT , and found errors .",
        "visit www.acmebrands.com and check",
        "the C# SDK fails",
        "meet @ 5pm",
    ]:
        assert unaddressed(text) == text
    # the same problem addressed to two brands is one segment text: one vector, one theme
    a = segment_feedback("review", "@united my checked bag never arrived in Denver")
    b = segment_feedback("review", "@Delta @united my checked bag never arrived in Denver https://t.co/x")
    assert [s.text for s in a] == [s.text for s in b] == ["my checked bag never arrived in Denver"]
    assert content_hash(a[0].text) == content_hash(b[0].text)
    assert segment_feedback("review", "@united #fail") == []  # nothing left to say


def test_content_hash_ignores_case_and_whitespace() -> None:
    assert content_hash("App  Crashes\n") == content_hash("app crashes")
    assert content_hash("app crashes") != content_hash("app crashed")


def test_long_text_is_cut_into_points_and_short_tails_stay_attached() -> None:
    text = (
        "The app crashes whenever I open the camera. It happened five times today. I reinstalled.\n\n"
        "Separately, billing charged me twice for March and support never answered my emails about it."
    )
    segs = split_segments(clean_text(text), max_chars=100)
    assert len(segs) == 2 and segs[0].endswith("I reinstalled.") and segs[1].startswith("Separately")
    assert split_segments("short", 100) == ["short"]


def test_segments_are_redacted_and_uninformative_ones_dropped() -> None:
    text = "My refund never arrived for account number 33489175.\n\njane@x.org 555 123 4567"
    assert (
        segment_feedback("ticket", text)[0].text == "My refund never arrived for account number [ID]. [EMAIL] [PHONE]"
    )
    segs = segment_feedback("ticket", text, max_chars=40)
    assert [s.text for s in segs] == ["My refund never arrived for account number [ID]."]
    assert segs[0].original_text.endswith("33489175.") and segs[0].pii_found == ["id"]


def test_transcript_turns_are_grouped_up_to_the_limit() -> None:
    turns = "I need to return an item.\nIt is the wrong colour.\n" + "x" * 30 + " long turn " * 30
    segs = segment_feedback("transcript", turns, max_chars=120)
    assert segs[0].text == "I need to return an item. It is the wrong colour."
    assert len(segs) >= 2


def test_redaction_kinds() -> None:
    text, kinds = redact(
        "mail a.b+c@mail.example.com, call +1 (415) 555-0134, card 4111-1111-1111-1111, "
        "iban DE89 3704 0044 0532 0130 00, lives at 6821 1st Ave, username: jdoe77, paid $25"
    )
    assert "a.b+c" not in text and "555-0134" not in text and "4111" not in text and "DE89" not in text
    assert "6821" not in text and "jdoe77" not in text and "$25" in text
    assert kinds == ["address", "card", "email", "iban", "id", "phone"]


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")
    text, kinds = redact("ref 4111 1111 1111 1112")  # fails Luhn: not a card, still a long number
    assert "card" not in kinds


def test_no_email_or_phone_from_real_chats_survives() -> None:
    with (DATA / "chats_labelled.csv").open(newline="") as fh:
        chats = [r["transcript"] for r in csv.DictReader(fh)]
    emails = re.compile(r"[\w.+-]+@[\w-]+\.\w+")
    phones = re.compile(r"\(\d{3}\) \d{3}-\d{4}")
    assert sum(len(emails.findall(c)) for c in chats) > 20  # the sample really holds PII
    for chat in chats:
        for seg in segment_feedback("transcript", chat.replace("\n\n", "\n")):
            assert not emails.search(seg.text) and not phones.search(seg.text), seg.text


def test_person_names_from_chat_cues_are_redacted_everywhere_in_the_item() -> None:
    chat = "I forgot my password.\nOkay.  Albert Sanders.\nsure, albert is my first name. my name is crystal minh too"
    text = " ".join(s.text for s in segment_feedback("transcript", chat))
    assert "Albert" not in text and "albert" not in text and "Sanders" not in text and "crystal" not in text
    assert "[NAME]" in text and "forgot my password" in text
    review = segment_feedback("review", "Works great. Highly Recommended. I'm Dana Scully by the way")
    assert "Highly Recommended" in review[0].text and "Dana" not in review[0].text


def test_text_without_spaces_in_cjk_scripts_is_kept() -> None:
    from painpoints.discovery.normalize import informative

    assert informative("应用每次付款时都会崩溃。") and informative("アプリが支払いのたびにクラッシュします。")
    assert informative("앱이 결제할 때마다 멈춰요") and not informative("好") and not informative("[EMAIL]")


def test_a_mixed_review_is_cut_where_praise_turns_into_a_problem() -> None:
    assert cut_at_contrast("Great app but it crashes on login every time.") == [
        "Great app",
        "but it crashes on login every time.",
    ]
    assert cut_at_contrast("Love the colour, but it runs two sizes small. Returned it.") == [
        "Love the colour",
        "but it runs two sizes small. Returned it.",
    ]
    assert cut_at_contrast("This print is beautiful. My only complaint is that it runs huge.") == [
        "This print is beautiful.",
        "My only complaint is that it runs huge.",
    ]
    assert cut_at_contrast("The staff were friendly, however the wait was over an hour.") == [
        "The staff were friendly",
        "however the wait was over an hour.",
    ]


def test_contrasts_that_do_not_turn_praise_into_a_problem_stay_whole() -> None:
    for text in (
        "I tried resetting my password but it still fails.",  # two halves of one problem
        "It runs a bit short but looks amazing with leggings.",  # a problem, then praise
        "Not great but not terrible either, it works.",  # the first clause is negated
        "The fabric is thin and cheap but the colour is lovely.",  # a problem word before the contrast
        "Love it but meh",  # a fragment after it
        "Nice but short",  # too short to be two points
    ):
        assert cut_at_contrast(text) == [text], text


def test_the_contrast_cut_applies_to_reviews_and_tickets_when_asked_and_never_to_transcripts() -> None:
    text = "Beautiful dress but too long for me, I had to return it."
    assert [s.text for s in segment_feedback("review", text)] == [text]  # off by default
    assert [s.text for s in segment_feedback("review", text, contrast=True)] == [
        "Beautiful dress",
        "but too long for me, I had to return it.",
    ]
    assert [s.position for s in segment_feedback("ticket", text, contrast=True)] == [0, 1]
    assert [s.text for s in segment_feedback("transcript", text, contrast=True)] == [text]
