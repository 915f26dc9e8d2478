"""Call and chat transcripts → the customer's side, cut into segments that each carry one point.

Formats: WebVTT (``<v Speaker>`` tags or ``Speaker: text`` cues, as Zoom writes them), SRT, plain
``Speaker: text`` lines (``USR:``/``SYS:``, ``Customer:``/``Agent:``, ``Dana Whitfield:``), JSON turn lists
(``[{"speaker": .., "text": ..}]``, ``[["customer", "text"], ..]``) and Gong's call-transcript JSON
(``connectors.gong``). A file holds one conversation (a Gong file: one per call); a tabular file
(CSV/JSON/JSONL/Parquet) may instead hold one conversation per row in its text column.

Who the customer is comes from ``connectors.speakers`` (roster, role words, affiliation, company, else a
heuristic); where one problem ends and the next starts from ``connectors.problems``. See docs/transcripts.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from painpoints.connectors.base import FeedbackRecord, Item, Rejected
from painpoints.connectors.files import ColumnMap, FileConnector, detect_encoding, parse_time
from painpoints.connectors.gong import gong_calls, is_gong
from painpoints.connectors.problems import FILLER, customer_problems
from painpoints.connectors.speakers import AGENT_ROLES, CUSTOMER_ROLES, SpeakerRules, Turn, attribute

__all__ = ["AGENT_ROLES", "CUSTOMER_ROLES", "FILLER", "TranscriptConnector", "Turn", "customer_segments", "parse_turns"]

# a label is a name, a role, "Marco Ruiz (Acme)" or an e-mail: up to 40 characters before the first colon
SPEAKER_LINE = re.compile(r"^\s*([^\W\d_][\w .'()@&+-]{0,40}?)\s*:\s?(.*)$")
TIMING = re.compile(r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}")
VOICE = re.compile(r"<v(?:\.[\w.]+)?\s+([^>]+)>(.*?)(?:</v>|$)", re.S)
TAG = re.compile(r"</?[^>]+>")


def parse_turns(text: str) -> tuple[list[Turn], list[str]]:
    """Detect the format and return the turns plus a list of problems (e.g. broken cue timings)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("WEBVTT"):
        return _parse_cues(stripped, vtt=True)
    if re.match(r"^\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}\s*-->", stripped):
        return _parse_cues(stripped, vtt=False)
    if stripped[:1] in "[{":
        try:
            return _json_turns(json.loads(stripped)), []
        except (json.JSONDecodeError, RecursionError, ValueError):
            pass
    return _speaker_lines(stripped), []


def _json_turns(data: Any) -> list[Turn]:
    if isinstance(data, dict):
        data = next(
            (
                v
                for k, v in data.items()
                if k in ("turns", "messages", "original", "dialogue", "utterances", "transcript")
            ),
            None,
        )
    if not isinstance(data, list):
        raise ValueError("no turn list")
    turns = []
    for t in data:
        if isinstance(t, dict):
            spk = t.get("speaker") or t.get("role") or t.get("from") or t.get("author")
            txt = t.get("text") or t.get("content") or t.get("message") or t.get("utterance")
        elif isinstance(t, (list, tuple)) and len(t) >= 2:
            spk, txt = t[0], t[1]
        else:
            raise ValueError("turn is neither an object nor a pair")
        if isinstance(txt, str):
            turns.append(Turn(str(spk) if spk is not None else None, txt))
    return turns


def _speaker_lines(text: str) -> list[Turn]:
    turns: list[Turn] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        m = SPEAKER_LINE.match(line)
        if m and not m.group(1).strip().isdigit():
            turns.append(Turn(m.group(1).strip(), m.group(2).strip()))
        elif turns:  # continuation of the previous turn
            turns[-1].text = f"{turns[-1].text} {line.strip()}".strip()
        else:
            turns.append(Turn(None, line.strip()))
    return turns


def _parse_cues(text: str, vtt: bool) -> tuple[list[Turn], list[str]]:
    turns: list[Turn] = []
    problems: list[str] = []
    for block in re.split(r"\r?\n\s*\r?\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines or lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, ln in enumerate(lines[:3]) if "-->" in ln), None)
        if timing_at is None or not TIMING.match(lines[timing_at]):
            problems.append(f"cue without a valid timing line: {block.strip()[:200]!r}")
            continue
        body = " ".join(lines[timing_at + 1 :]).strip()
        voice = VOICE.search(body) if vtt else None
        if voice:
            turns.append(Turn(voice.group(1).strip(), TAG.sub("", voice.group(2)).strip()))
            continue
        body = TAG.sub("", body).strip()
        m = SPEAKER_LINE.match(body)
        turns.append(Turn(m.group(1).strip(), m.group(2).strip()) if m else Turn(None, body))
    return turns, problems


def customer_segments(
    turns: list[Turn], customer_roles: frozenset[str] = CUSTOMER_ROLES, agent_roles: frozenset[str] = AGENT_ROLES
) -> list[str]:
    """The customer's blocks (consecutive turns joined, filler dropped), problems flattened; speakers
    attributed by role words, else by the heuristic of ``connectors.speakers``."""
    rules = SpeakerRules(customer_roles=customer_roles, agent_roles=agent_roles)
    return [block for problem in customer_problems(turns, attribute(turns, rules).is_customer) for block in problem]


@dataclass
class TranscriptConnector:
    """Transcripts from one file: a whole conversation (.vtt/.srt/.txt, JSON turns, a Gong payload of
    one or more calls) or a table whose text column holds one conversation per row.

    ``speakers`` tells agent from customer (roster, company, role words; see ``connectors.speakers``).
    Each record's ``text`` holds one problem per paragraph (blank line between problems, one customer
    block per line), which ``discovery.normalize`` keeps apart; ``segments`` lists the blocks, and
    ``metadata['speakers']`` records who was judged the agent and why."""

    path: Path
    source: str
    columns: ColumnMap = ColumnMap()
    customer_roles: frozenset[str] = CUSTOMER_ROLES
    agent_roles: frozenset[str] = AGENT_ROLES
    cursor: str | None = None
    speakers: SpeakerRules | None = None
    kind: str = field(default="transcript", init=False)

    def __iter__(self) -> Iterator[Item]:
        path = Path(self.path)
        suffix = path.suffix.lower()
        if suffix == ".json" and (calls := self._gong(path)) is not None:
            for call in calls:
                extra = {"gong_topics": call.topics} if call.topics else {}
                yield from self._turns(
                    call.turns, [], call.call_id or path.stem, str(path), None, None, call.started, extra=extra
                )
            return
        if suffix in (".vtt", ".srt") or (suffix in (".txt", ".json") and self._is_conversation(path)):
            text = path.read_text(encoding=detect_encoding(path), errors="replace")
            yield from self._conversation(text, external_id=path.stem, file=str(path), line=1, base=None)
            return
        for item in FileConnector(path, self.source, "transcript", self.columns):
            if isinstance(item, Rejected):
                yield item
            else:
                yield from self._conversation(item.text, item.external_id, str(path), None, base=item)

    @staticmethod
    def _gong(path: Path) -> list[Any] | None:
        """The calls of a Gong transcript payload, or None when the file is something else."""
        try:
            data = json.loads(path.read_text(encoding=detect_encoding(path), errors="replace"))
        except (json.JSONDecodeError, RecursionError):
            return None
        return gong_calls(data) if is_gong(data) else None

    @staticmethod
    def _is_conversation(path: Path) -> bool:
        """Is this .txt/.json file one conversation (speaker lines, a turn list) or a table of them?"""
        if path.suffix.lower() == ".txt":
            head = path.open("rb").read(4096).decode("utf-8", "replace").lstrip("\ufeff \r\n\t")
            first = head.splitlines()[0] if head else ""
            return bool(SPEAKER_LINE.match(first)) or head.startswith("WEBVTT")
        try:
            data = json.loads(path.read_text(encoding=detect_encoding(path), errors="replace"))
        except (json.JSONDecodeError, RecursionError):
            return False
        if isinstance(data, dict):
            return any(k in data for k in ("turns", "messages", "dialogue", "utterances"))
        item = data[0] if isinstance(data, list) and data else None
        if isinstance(item, dict):
            return any(k in item for k in ("speaker", "role", "from")) and not any(
                isinstance(v, list) for v in item.values()
            )
        # a pair list: ["customer", "text"] is a turn, ["SYS: … USR: …", "label"] a table row
        return (
            isinstance(item, list)
            and len(item) >= 2
            and isinstance(item[0], str)
            and len(item[0]) <= 30
            and "\n" not in item[0]
        )

    def _rules(self) -> SpeakerRules:
        if self.speakers is not None:
            return self.speakers
        return SpeakerRules(customer_roles=self.customer_roles, agent_roles=self.agent_roles)

    def _conversation(
        self, text: str, external_id: str | None, file: str, line: int | None, base: FeedbackRecord | None
    ) -> Iterator[Item]:
        if is_gong(data := _json_or_none(text)):  # a Gong payload in a table cell: its first call
            calls = gong_calls(data)
            turns, problems = (calls[0].turns if calls else []), list[str]()
        else:
            turns, problems = parse_turns(text)
        yield from self._turns(turns, problems, external_id, file, line, base, None, raw=text)

    def _turns(
        self,
        turns: list[Turn],
        problems: list[str],
        external_id: str | None,
        file: str,
        line: int | None,
        base: FeedbackRecord | None,
        started: str | None,
        raw: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Iterator[Item]:
        for problem in problems:
            yield Rejected(self.source, problem.split(":")[0], problem, file, line)
        attribution = attribute(turns, self._rules())
        cut = customer_problems(turns, attribution.is_customer)
        if not cut:
            raw_text = raw if raw is not None else "\n".join(f"{t.speaker}: {t.text}" for t in turns)
            yield Rejected(self.source, "no customer turns with content", raw_text[:10_000], file, line)
            return
        record = base or FeedbackRecord(source=self.source, kind="transcript", text="")
        record.kind = "transcript"
        record.external_id = external_id
        record.text = "\n\n".join("\n".join(blocks) for blocks in cut)
        record.segments = [block for blocks in cut for block in blocks]
        if started and record.created_at is None:
            record.created_at = parse_time(started)
        record.metadata = {
            **record.metadata,
            "turns": len(turns),
            "problems": len(cut),
            "speakers": attribution.metadata(turns),
            **(extra or {}),
        }
        yield record


def _json_or_none(text: str) -> Any:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] not in "[{":
        return None
    try:
        return json.loads(stripped)
    except (json.JSONDecodeError, RecursionError, ValueError):
        return None
