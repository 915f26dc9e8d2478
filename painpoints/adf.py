"""Markdown → Atlassian Document Format (ADF), for Jira Cloud issue descriptions (REST API v3).

Jira's v3 API takes a description only as an ADF document, not as text. Rather than write a second
renderer of a theme beside ``painpoints/export.py`` (whose Markdown is also Linear's description and
what ``painpoints export`` prints), this converts the small Markdown subset that module writes:
``#``/``##`` headings, ``- `` bullets, ``> `` quotes (``>`` alone separates paragraphs inside one),
paragraphs, and inline ``**bold**``, ``_italic_`` and ```code```. Anything else stays plain text, which
is always valid ADF: customer quotes can hold any characters and must never produce an invalid document.
"""

from __future__ import annotations

import re
from typing import Any

Node = dict[str, Any]
# bold, code, or an _italic_ run not inside a word (snake_case names in quotes stay plain)
INLINE = re.compile(r"\*\*(?P<strong>[^*]+?)\*\*|`(?P<code>[^`]+)`|(?<![\w])_(?P<em>[^_]+?)_(?![\w])")


def document(markdown: str) -> Node:
    """The ADF ``doc`` (version 1) of ``markdown``."""
    content: list[Node] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            i += 1
        elif m := re.match(r"^(#{1,6}) +(.*)$", line):
            content.append({"type": "heading", "attrs": {"level": len(m.group(1))}, "content": inline(m.group(2))})
            i += 1
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append({"type": "listItem", "content": [paragraph(lines[i][2:])]})
                i += 1
            content.append({"type": "bulletList", "content": items})
        elif line.startswith(">"):
            block = []
            while i < len(lines) and lines[i].startswith(">"):
                block.append(lines[i][1:].strip())
                i += 1
            paras = [p for p in _paragraphs(block) if p]
            if paras:
                content.append({"type": "blockquote", "content": [paragraph(p) for p in paras]})
        else:
            block = []
            while i < len(lines) and lines[i].strip() and not re.match(r"^(#{1,6} |- |>)", lines[i]):
                block.append(lines[i].strip())
                i += 1
            content.append(paragraph(" ".join(block)))
    return {"type": "doc", "version": 1, "content": content}


def _paragraphs(lines: list[str]) -> list[str]:
    """Lines of a block joined into paragraphs at blank lines."""
    out: list[list[str]] = [[]]
    for line in lines:
        if line:
            out[-1].append(line)
        else:
            out.append([])
    return [" ".join(p) for p in out]


def paragraph(text: str) -> Node:
    """A paragraph node; an empty one has no content (ADF forbids empty text nodes)."""
    nodes = inline(text.strip())
    return {"type": "paragraph", "content": nodes} if nodes else {"type": "paragraph"}


def inline(text: str) -> list[Node]:
    """Text nodes with ``strong`` / ``em`` / ``code`` marks."""
    nodes: list[Node] = []
    pos = 0
    for m in INLINE.finditer(text):
        if m.start() > pos:
            nodes.append({"type": "text", "text": text[pos : m.start()]})
        kind = next(k for k in ("strong", "code", "em") if m.group(k) is not None)
        nodes.append({"type": "text", "text": m.group(kind), "marks": [{"type": kind}]})
        pos = m.end()
    if pos < len(text):
        nodes.append({"type": "text", "text": text[pos:]})
    return [n for n in nodes if n["text"]]


def plain(node: Node) -> str:
    """The text of an ADF node, for tests and logs."""
    if node.get("type") == "text":
        return str(node["text"])
    sep = "\n" if node.get("type") in ("doc", "blockquote", "bulletList") else ""
    return sep.join(plain(c) for c in node.get("content", []))
