"""A real local HTTP server that speaks just enough of the OpenAI and Anthropic APIs.

Each test scripts its answers (status, body, delay, headers); the server records every request,
so tests can count the calls the real SDKs made through our backends.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Answer:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> raw text; None -> the default reply
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def openai_body(text: str, tokens_in: int = 100, tokens_out: int = 50, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "fake-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out},
    }


def anthropic_body(text: str, tokens_in: int = 100, tokens_out: int = 50) -> dict[str, Any]:
    return {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "fake-claude",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }


def error_body(message: str, kind: str = "error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}


class FakeLLM:
    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.default_text = "Plan: a baseline.\n```python\nprint('hello')\n```"
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def then(self, *answers: Answer) -> FakeLLM:
        self.script.extend(answers)
        return self

    def _next(self) -> Answer:
        with self._lock:
            return self.script.pop(0) if self.script else Answer()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                payload = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append({"path": self.path, **payload})
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    fake.active += 1
                    fake.max_active = max(fake.max_active, fake.active)
                try:
                    answer = fake._next()
                    if answer.delay:
                        time.sleep(answer.delay)
                    body = answer.body
                    if body is None:
                        body = (anthropic_body(fake.default_text) if self.path.endswith("/messages")
                                else openai_body(fake.default_text))
                    self._send(answer.status, body, answer.headers)
                finally:
                    with fake._lock:
                        fake.active -= 1

            def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "text/plain" if isinstance(body, str) else "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    try:
        yield fake
    finally:
        fake.close()
