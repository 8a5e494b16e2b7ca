"""Backends through the real SDKs against a local HTTP server answering 429 / 5xx / slow / garbage."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airlab.coders.base import CoderError
from airlab.coders.llm.backends import (
    AnthropicBackend,
    AuthError,
    ChatRequest,
    LLMCallError,
    OpenAIBackend,
    UnknownModelError,
)
from tests.coders.llm.fake_server import (
    Answer,
    FakeLLM,
    anthropic_body,
    error_body,
    fake_llm,
    openai_body,
)

KEY = "sk-user-secret-key-1234"


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.chdir(tmp_path)  # no stray .env


def request(text: str = "hi", **kw: Any) -> ChatRequest:
    return ChatRequest(model="fake-model", system="sys", messages=[{"role": "user", "content": text}], **kw)


def openai(fake: FakeLLM, sleeps: list[float] | None = None, **kw: Any) -> OpenAIBackend:
    args: dict[str, Any] = dict(base_url=f"{fake.url}/v1", max_retries=4, backoff_base=0.01, backoff_cap=0.05,
                                rng=random.Random(0), timeout=5)
    if sleeps is not None:
        args["sleep"] = sleeps.append
    return OpenAIBackend("fake-model", **{**args, **kw})


def test_retries_rate_limits_and_server_errors_with_backoff(fake: FakeLLM) -> None:
    fake.then(Answer(429, error_body("slow down"), headers={"retry-after": "0.04"}),
              Answer(500, error_body("boom")), Answer(503, error_body("busy")),
              Answer(200, openai_body("done", 12, 3)))
    sleeps: list[float] = []
    reply = openai(fake, sleeps).complete(request())
    assert reply.text == "done" and reply.tokens_in == 12 and reply.tokens_out == 3
    assert reply.attempts == 4 and len(fake.requests) == 4 and len(sleeps) == 3
    assert sleeps[0] >= 0.04  # Retry-After honoured
    assert all(0 <= s <= 0.05 for s in sleeps)  # jittered, capped
    assert fake.requests[0]["messages"][0] == {"role": "system", "content": "sys"}


def test_retries_are_bounded(fake: FakeLLM) -> None:
    fake.then(*[Answer(502, error_body("bad gateway"))] * 10)
    with pytest.raises(LLMCallError, match="failed after 3 attempts: HTTP 502") as info:
        openai(fake, [], max_retries=2).complete(request())
    assert isinstance(info.value, CoderError)  # a failed node, not a crashed run
    assert len(fake.requests) == 3


def test_slow_replies_time_out_and_are_retried(fake: FakeLLM) -> None:
    fake.then(Answer(delay=1.5), Answer(200, openai_body("fast")))
    reply = openai(fake, [], timeout=0.5).complete(request())
    assert reply.text == "fast" and reply.attempts == 2


def test_garbage_replies_are_retried(fake: FakeLLM) -> None:
    fake.then(Answer(200, "this is <html> not json"), Answer(200, {"unexpected": True}),
              Answer(200, openai_body("ok")))
    reply = openai(fake, []).complete(request())
    assert reply.text == "ok" and reply.attempts == 3


def test_auth_failure_is_a_clear_error_without_retries_or_the_key(fake: FakeLLM) -> None:
    fake.then(Answer(401, error_body("Incorrect API key provided", "invalid_request_error")))
    with pytest.raises(AuthError, match="OPENAI_API_KEY") as info:
        openai(fake, []).complete(request())
    assert len(fake.requests) == 1 and KEY not in str(info.value)
    assert fake.headers[0]["authorization"] == f"Bearer {KEY}"  # the key goes to the provider only


def test_unknown_model_is_a_clear_error(fake: FakeLLM) -> None:
    fake.then(Answer(404, error_body("The model `nope` does not exist")))
    with pytest.raises(UnknownModelError, match="does not serve the model 'fake-model'"):
        openai(fake, []).complete(request())
    assert len(fake.requests) == 1


def test_a_bad_request_fails_the_node_without_retries(fake: FakeLLM) -> None:
    fake.then(Answer(400, error_body("context length exceeded")))
    with pytest.raises(LLMCallError, match="HTTP 400"):
        openai(fake, []).complete(request())
    assert len(fake.requests) == 1


def test_missing_key_needs_one_only_for_the_hosted_api(fake: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(AuthError, match="set OPENAI_API_KEY"):
        OpenAIBackend("gpt-4.1-mini")
    assert openai(fake, []).complete(request()).text  # a local server needs no key


def test_dotenv_file_is_honoured(fake: FakeLLM, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import airlab.coders.llm.backends as backends

    monkeypatch.delenv("OPENAI_API_KEY")
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv\n")
    monkeypatch.setattr(backends, "_DOTENV_LOADED", False)
    try:
        OpenAIBackend("gpt-4.1-mini", base_url=f"{fake.url}/v1", max_retries=0).complete(request())
        assert fake.headers[-1]["authorization"] == "Bearer sk-from-dotenv"
    finally:
        import os

        os.environ.pop("OPENAI_API_KEY", None)


def test_concurrency_limit_per_backend(fake: FakeLLM) -> None:
    fake.then(*[Answer(200, openai_body("x"), delay=0.2) for _ in range(6)])
    backend = openai(fake, [], concurrency=2)
    threads = [threading.Thread(target=backend.complete, args=(request(str(i)),)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.requests) == 6 and fake.max_active == 2


def test_anthropic_backend(fake: FakeLLM) -> None:
    fake.then(Answer(529, error_body("overloaded", "overloaded_error")), Answer(200, anthropic_body("claude says", 40, 7)))
    backend = AnthropicBackend("claude-sonnet-4-5", base_url=fake.url, max_retries=3, backoff_base=0.01,
                               sleep=lambda s: None)
    reply = backend.complete(request())
    assert (reply.text, reply.tokens_in, reply.tokens_out, reply.attempts) == ("claude says", 40, 7, 2)
    sent = fake.requests[-1]
    assert sent["path"] == "/v1/messages" and sent["system"] == "sys" and sent["model"] == "fake-model"
    assert any(KEY in value for value in fake.headers[-1].values())
    assert reply.cost_usd == pytest.approx((40 * 3 + 7 * 15) / 1e6)
    fake.then(Answer(401, error_body("invalid x-api-key", "authentication_error")))
    with pytest.raises(AuthError, match="ANTHROPIC_API_KEY"):
        backend.complete(request("other"))


def test_anthropic_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(AuthError, match="set ANTHROPIC_API_KEY"):
        AnthropicBackend("claude-sonnet-4-5")
