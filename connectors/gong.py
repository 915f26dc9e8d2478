"""Gong call transcripts (``POST /v2/calls/transcript``) as conversations of named turns.

The transcript API gives monologues by ``speakerId`` only::

    {"callTranscripts": [{"callId": "7782…", "transcript": [
        {"speakerId": "6432…", "topic": "Pricing", "sentences": [{"start": 460, "end": 1580, "text": "…"}]}]}]}

Who a speaker is lives in the call's ``parties`` (``/v2/calls/extensive``: ``{"id", "speakerId", "name",
"emailAddress", "affiliation": "Internal"|"External"|"Unknown"}``). A file may carry them beside the
transcripts — ``parties`` on each call transcript or at the top, or a ``calls`` list as the extensive
endpoint returns it (``{"metaData": {"id", "started"}, "parties": [...]}``) — so that names, e-mails and
affiliation (Internal = the company side) reach speaker attribution. Without parties the speaker id
stands in as the name and the heuristic decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from painpoints.connectors.speakers import Turn


@dataclass(slots=True)
class GongCall:
    call_id: str
    turns: list[Turn]
    started: str | None = None  # ISO time from the call's metaData, when the file carries it
    topics: list[str] | None = None


def is_gong(data: Any) -> bool:
    """Does this parsed JSON look like Gong's transcript payload (or one call of it)?"""
    if isinstance(data, dict):
        return isinstance(data.get("callTranscripts"), list) or ("callId" in data and "transcript" in data)
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(c, dict) and "callId" in c and "transcript" in c for c in data)
    )


def _parties(data: Any) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Parties shared by every call in the file, and per call id the extensive ``calls`` entries."""
    top: dict[str, Any] = data if isinstance(data, dict) else {}
    shared = top.get("parties") if isinstance(top.get("parties"), list) else []
    per_call: dict[str, dict[str, Any]] = {}
    calls = top.get("calls")
    for call in calls if isinstance(calls, list) else []:
        if not isinstance(call, dict):
            continue
        meta: dict[str, Any] = call["metaData"] if isinstance(call.get("metaData"), dict) else call
        parties: list[Any] = call["parties"] if isinstance(call.get("parties"), list) else []
        if meta.get("id") is not None:
            per_call[str(meta["id"])] = {"parties": parties, "started": meta.get("started")}
    return [p for p in shared or [] if isinstance(p, dict)], per_call


def gong_calls(data: Any) -> list[GongCall]:
    """Every call transcript in a Gong payload, speakers resolved through the parties when given."""
    if isinstance(data, dict) and isinstance(data.get("callTranscripts"), list):
        transcripts = data["callTranscripts"]
    elif isinstance(data, dict):
        transcripts = [data]
    else:
        transcripts = data
    shared, per_call = _parties(data)
    calls = []
    for tr in transcripts:
        if not isinstance(tr, dict):
            continue
        call_id = str(tr.get("callId", ""))
        extensive = per_call.get(call_id, {})
        own: list[Any] = tr["parties"] if isinstance(tr.get("parties"), list) else []
        known: list[Any] = extensive.get("parties") or []
        by_speaker = {
            str(p["speakerId"]): p
            for p in [*shared, *known, *own]
            if isinstance(p, dict) and p.get("speakerId") is not None
        }
        turns: list[Turn] = []
        topics: list[str] = []
        for mono in tr.get("transcript") or []:
            if not isinstance(mono, dict):
                continue
            sid = str(mono.get("speakerId", ""))
            party = by_speaker.get(sid, {})
            sentences = mono.get("sentences") or []
            text = " ".join(
                s["text"].strip() for s in sentences if isinstance(s, dict) and isinstance(s.get("text"), str)
            )
            name = party.get("name") or party.get("emailAddress") or (f"Gong speaker {sid}" if sid else None)
            turns.append(Turn(name, text, email=party.get("emailAddress"), affiliation=party.get("affiliation")))
            if isinstance(mono.get("topic"), str) and mono["topic"] not in topics:
                topics.append(mono["topic"])
        calls.append(GongCall(call_id, turns, extensive.get("started"), topics or None))
    return calls
