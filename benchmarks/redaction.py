"""How many customer names survive redaction in the ABCD chats?

ABCD's agent tool logs "Account has been pulled up for <name>." in each chat, which gives the name
the customer stated; a conversation leaks when the full name, or any of its parts longer than three
letters, still appears as a word in its redacted customer segments.
Run: ``python -m benchmarks.redaction``.
"""

from __future__ import annotations

import csv
import json
import re

from benchmarks.datasets import DATA
from painpoints.connectors.transcripts import customer_segments, parse_turns
from painpoints.discovery.normalize import segment_feedback


def main() -> None:
    with (DATA / "abcd" / "abcd_valid_test_labeled.csv").open(newline="", encoding="utf-8") as fh:
        chats = [r["transcript"] for r in csv.DictReader(fh)]
    stated = leaked = 0
    for chat in chats:
        names = set(re.findall(r"pulled up for ([A-Za-z][\w' -]+?)\.", chat))
        text = "\n".join(customer_segments(parse_turns(chat)[0]))
        joined = " ".join(s.text for s in segment_feedback("transcript", text)).lower()
        words = set(joined.split())
        for name in names:
            stated += 1
            if name.lower() in joined or any(p.lower() in words for p in name.split() if len(p) > 3):
                leaked += 1
    print(
        json.dumps(
            {
                "conversations": len(chats),
                "conversation_names": stated,
                "leaked": leaked,
                "removed_share": round(1 - leaked / stated, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
