"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: ``/v1/chat/completions`` and
``/v1/models``, scriptable per request and recording everything it receives.

Script entries (consumed one per chat request; when empty, a well-formed answer is generated):
``{"status": 429, "headers": {"Retry-After": "0"}}``, ``{"status": 500}``, ``{"raw": "garbage"}``,
``{"content": "text the model says"}``, ``{"delay": 2.0}``. ``reject_json_schema = True`` makes it
answer ``response_format: json_schema`` with HTTP 500, as llama.cpp's server does.

Tool calling (``painpoints ask``): ``{"tool_calls": [{"name": "search_feedback", "arguments": {...}}]}``
answers with an assistant message holding those calls (``finish_reason: tool_calls``); ``content`` may
also be a function of the request body (to cite what an earlier tool answer returned); ``{"usage":
{...}}`` overrides the token counts. Unscripted requests that offer ``tools`` get a plausible agent:
first a ``search_feedback`` for the question, then an answer citing the first result.
"""

from __future__ import annotations

import json
import re
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.http_servers import _Server


class FakeLLM(_Server):
    def __init__(self) -> None:
        self.reject_json_schema = False
        super().__init__()

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    @staticmethod
    def agent(body: dict[str, Any]) -> dict[str, Any]:
        """The unscripted tool-calling model: search for the question, then cite the first hit with
        its own first sentence (so the citation is real and supporting)."""
        tool_answers = [m for m in body["messages"] if m["role"] == "tool"]
        if not tool_answers and body.get("tool_choice") != "none":
            question = next(m["content"] for m in body["messages"] if m["role"] == "user")
            return {"tool_calls": [{"name": "search_feedback", "arguments": {"query": question, "limit": 3}}]}
        results = json.loads(tool_answers[-1]["content"]).get("results") if tool_answers else None
        if not results:
            return {"content": "I found no feedback about this."}
        first = re.split(r"(?<=[.!?])\s+", results[0]["text"])[0]
        return {"content": f"One customer wrote: {first} [{results[0]['feedback_id']}]"}

    @staticmethod
    def answer(body: dict[str, Any]) -> str:
        """A plausible reply: a label from the theme's first phrase, or a keyword-based sentiment per
        text for sentiment requests."""
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        texts = re.search(r"<texts>(.*)</texts>", user, re.S)
        if texts:
            negative = re.compile(r"crash|never|late|slow|bug|broken|can't|cannot|not|worst|fee", re.I)
            return json.dumps(
                {"sentiments": ["negative" if negative.search(t) else "positive" for t in json.loads(texts.group(1))]}
            )
        data = json.loads(re.search(r"<theme_data>(.*)</theme_data>", user, re.S).group(1))
        phrase = (data["phrases"] or ["general issue"])[0]
        return json.dumps(
            {
                "label": f"Trouble with {phrase}",
                "description": f"Customers report {phrase}.",
                "sentiment": "negative",
                "severity": "medium",
                "category": "Product",
            }
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, payload: str, headers: dict[str, str] | None = None) -> None:
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                fake.requests.append({"path": self.path, "method": "GET"})
                self._send(200, json.dumps({"object": "list", "data": [{"id": "fake-model", "object": "model"}]}))

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake.lock:
                    fake.requests.append(
                        {
                            "path": self.path,
                            "method": "POST",
                            "body": body,
                            "authorization": self.headers.get("Authorization"),
                        }
                    )
                    step = fake.script.pop(0) if fake.script else {}
                if step.get("delay"):
                    time.sleep(step["delay"])
                if fake.reject_json_schema and (body.get("response_format") or {}).get("type") == "json_schema":
                    return self._send(500, json.dumps({"error": {"message": "json_schema not supported"}}))
                if "status" in step:
                    return self._send(
                        step["status"], json.dumps({"error": {"message": "scripted"}}), step.get("headers")
                    )
                if "raw" in step:
                    return self._send(200, step["raw"])
                if body.get("tools") and not {"content", "tool_calls"} & set(step):
                    step = {**step, **fake.agent(body)}
                message: dict[str, Any] = {"role": "assistant", "content": None}
                if step.get("tool_calls"):
                    message["tool_calls"] = [
                        {
                            "id": f"call_{len(fake.requests)}_{i}",
                            "type": "function",
                            "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])},
                        }
                        for i, c in enumerate(step["tool_calls"])
                    ]
                content = step.get("content")
                message["content"] = content(body) if callable(content) else content
                if not step.get("tool_calls") and message["content"] is None:
                    message["content"] = fake.answer(body)
                usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120, **step.get("usage", {})}
                self._send(
                    200,
                    json.dumps(
                        {
                            "id": "chatcmpl-test",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": body.get("model", "fake-model"),
                            "choices": [
                                {
                                    "index": 0,
                                    "finish_reason": "tool_calls" if step.get("tool_calls") else "stop",
                                    "message": message,
                                }
                            ],
                            "usage": usage,
                        }
                    ),
                )

        return Handler
