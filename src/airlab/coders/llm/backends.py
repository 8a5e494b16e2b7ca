"""Chat backends: an OpenAI-compatible one (any ``base_url``) and an Anthropic one.

Both share one contract (:meth:`Backend.complete`) and one wrapper that adds what the SDKs do not
decide for us: the response cache, the hard cost cap (checked before a call starts, against the
worst case of the call), a concurrency limit, and bounded retries with exponential backoff and
full jitter on rate limits, 5xx, timeouts, dropped connections and malformed replies. Auth
failures and unknown models are not retried: they raise an :class:`AirlabError` that names the
fix, because every later call would fail the same way.

API keys are read from the providers' usual variables (a ``.env`` file is honoured) and live only
in the SDK client; they are never written to a request, a reply, the cache or a node.
"""

from __future__ import annotations

import importlib
import inspect
import os
import random
import threading
import time
from typing import Any, Protocol

from pydantic import BaseModel, Field

from airlab.coders.base import CoderError
from airlab.coders.llm.cache import ResponseCache, request_key
from airlab.coders.llm.pricing import Price, PriceTable
from airlab.errors import AirlabError, optional_import_error


class ChatRequest(BaseModel):
    """Everything that determines a reply (and so the cache key)."""

    model: str
    system: str
    messages: list[dict[str, str]]  # {"role": "user"|"assistant", "content": ...}
    max_tokens: int = 2048
    temperature: float = 0.7
    seed: int | None = None


class ChatReply(BaseModel):
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str | None = None
    model: str = ""
    cached: bool = False
    cost_usd: float = 0.0
    seconds: float = 0.0
    attempts: int = 1


class AuthError(AirlabError):
    """The provider refused the key: retrying cannot help."""


class UnknownModelError(AirlabError):
    """The provider does not serve this model."""


class BudgetExhausted(CoderError):
    """The next call could exceed ``max_cost``; no call was made.

    It stops the run: the engine ends it cleanly instead of recording more failed nodes.
    """

    def __init__(self, message: str, **usage: Any):
        super().__init__(message, **{**usage, "stops_run": True})


class LLMCallError(CoderError):
    """A call failed after all retries (or with a non-retryable request error)."""


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Backend(Protocol):
    provider: str
    model: str
    spent_usd: float

    def complete(self, request: ChatRequest) -> ChatReply: ...


def load_dotenv_once() -> None:
    """Honour a ``.env`` file in the working directory (or a parent); never overrides the env."""
    global _DOTENV_LOADED
    if _DOTENV_LOADED:
        return
    _DOTENV_LOADED = True
    try:
        import dotenv
    except ImportError:
        return
    path = dotenv.find_dotenv(usecwd=True)
    if path:
        dotenv.load_dotenv(path, override=False)


_DOTENV_LOADED = False


def _sdk(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise optional_import_error(module, "llm") from exc


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class BaseBackend:
    """Cache, budget, concurrency and retries around one provider call (:meth:`_call`)."""

    provider = "base"
    key_env = ""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str | None = None,
        timeout: float = 120.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        concurrency: int = 4,
        cache: ResponseCache | None = None,
        prices: PriceTable | None = None,
        max_cost: float | None = None,
        spent_usd: float = 0.0,
        rng: random.Random | None = None,
        sleep: Any = time.sleep,
    ):
        if not model:
            raise AirlabError(f"name a model, e.g. --coder {self.provider}:MODEL")
        self.model = model
        self.base_url = base_url
        self.key_env = api_key_env or self.key_env
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.cache = cache
        self.prices = prices or PriceTable()
        self.price: Price | None = self.prices.lookup(model)
        self.max_cost = max_cost
        self.spent_usd = spent_usd
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        if max_cost is not None and self.price is None and base_url is None:
            raise AirlabError(
                f"--max-cost needs a price for '{model}', which is not in the price table; add it in a "
                "YAML file {model: {input: USD_per_1M_tokens, output: USD_per_1M_tokens}} named by AIRLAB_PRICES"
            )

    # -- the contract --------------------------------------------------------------------------
    def complete(self, request: ChatRequest) -> ChatReply:
        key = request_key({"provider": self.provider, "base_url": self.base_url, **request.model_dump()})
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return ChatReply.model_validate({**hit, "cached": True, "cost_usd": 0.0, "seconds": 0.0})
        self._reserve(request)
        start = time.monotonic()
        with self._slots:
            reply = self._with_retries(request)
        reply.seconds = round(time.monotonic() - start, 3)
        reply.cost_usd = self.price.cost(reply.tokens_in, reply.tokens_out) if self.price else 0.0
        with self._lock:
            self.spent_usd += reply.cost_usd
        if self.cache is not None:
            self.cache.put(key, reply.model_dump(include={"text", "tokens_in", "tokens_out", "finish_reason", "model"}))
        return reply

    def worst_case_cost(self, request: ChatRequest) -> float:
        """An upper estimate of a call: ~3 characters per prompt token, every output token used."""
        if self.price is None:
            return 0.0
        chars = len(request.system) + sum(len(m["content"]) for m in request.messages)
        return self.price.cost(chars // 3 + 16, request.max_tokens)

    def _reserve(self, request: ChatRequest) -> None:
        if self.max_cost is None:
            return
        estimate = self.worst_case_cost(request)
        with self._lock:
            if self.spent_usd + estimate > self.max_cost:
                raise BudgetExhausted(
                    f"the LLM budget is spent: ${self.spent_usd:.4f} of ${self.max_cost:.2f} used and the next "
                    f"call could cost up to ${estimate:.4f}"
                )

    def _with_retries(self, request: ChatRequest) -> ChatReply:
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                reply = self._call(request)
                reply.attempts = attempt + 1
                return reply
            except _Transient as exc:
                last = str(exc)
                if attempt == self.max_retries:
                    break
                delay = self._rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt))
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, self.backoff_cap))
                self._sleep(delay)
        raise LLMCallError(f"{self.provider}:{self.model} failed after {self.max_retries + 1} attempts: {last}")

    def _call(self, request: ChatRequest) -> ChatReply:
        raise NotImplementedError

    # -- error mapping shared by both SDKs (same class names) ------------------------------------
    def _map_error(self, sdk: Any, exc: Exception) -> Exception:
        where = f" at {self.base_url}" if self.base_url else ""
        if isinstance(exc, sdk.APITimeoutError):
            return _Transient(f"timed out after {self.timeout:g} s")
        if isinstance(exc, sdk.APIConnectionError):
            return _Transient(f"connection failed{where}: {exc}")
        if isinstance(exc, sdk.APIStatusError):
            status = exc.status_code
            message = str(getattr(exc, "message", exc))[:300]
            if status in (401, 403):
                return AuthError(
                    f"{self.provider} rejected the API key{where} (HTTP {status}); check {self.key_env} "
                    f"(environment or .env): {message}"
                )
            if status == 404 or (status == 400 and "model" in message.lower()
                                 and ("not found" in message.lower() or "does not exist" in message.lower())):
                return UnknownModelError(f"{self.provider} does not serve the model '{self.model}'{where}: {message}")
            if status in (408, 409, 425, 429) or status >= 500:
                return _Transient(f"HTTP {status}: {message}", _retry_after(exc))
            return LLMCallError(f"{self.provider}:{self.model} rejected the request (HTTP {status}): {message}")
        if isinstance(exc, (getattr(sdk, "APIResponseValidationError", ValueError), ValueError)):
            return _Transient(f"malformed response: {exc}")
        return exc


class OpenAIBackend(BaseBackend):
    """Chat Completions on the ``openai`` SDK: OpenAI, or any compatible server via ``base_url``."""

    provider = "openai"
    key_env = "OPENAI_API_KEY"

    def __init__(self, model: str, **kwargs: Any):
        super().__init__(model, **kwargs)
        sdk = _sdk("openai")
        load_dotenv_once()
        key = os.environ.get(self.key_env)
        if not key:
            if self.base_url is None:
                raise AuthError(f"set {self.key_env} (in the environment or a .env file) to use openai:{model}")
            key = "no-key-needed"  # local servers (llama.cpp, vLLM, Ollama) accept any key
        self._sdk = sdk
        self._client = sdk.OpenAI(api_key=key, base_url=self.base_url, timeout=self.timeout, max_retries=0)

    def _reasoning_model(self) -> bool:
        return self.model.split("/")[-1].startswith(("o1", "o3", "o4", "gpt-5"))

    def _call(self, request: ChatRequest) -> ChatReply:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": [{"role": "system", "content": request.system}, *request.messages],
        }
        if self._reasoning_model():
            kwargs["max_completion_tokens"] = request.max_tokens
        else:
            kwargs["max_tokens"] = request.max_tokens
            kwargs["temperature"] = request.temperature
        if request.seed is not None:
            kwargs["seed"] = request.seed
        try:
            resp = self._client.chat.completions.create(**kwargs)
        except Exception as exc:
            raise self._map_error(self._sdk, exc) from exc
        try:
            choice = resp.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError) as exc:
            raise _Transient(f"malformed response: {type(exc).__name__}: {exc}") from exc
        usage = getattr(resp, "usage", None)
        return ChatReply(
            text=text, tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
            finish_reason=getattr(choice, "finish_reason", None), model=str(getattr(resp, "model", "") or request.model),
        )


class AnthropicBackend(BaseBackend):
    """The Messages API on the ``anthropic`` SDK."""

    provider = "anthropic"
    key_env = "ANTHROPIC_API_KEY"

    def __init__(self, model: str, **kwargs: Any):
        super().__init__(model, **kwargs)
        sdk = _sdk("anthropic")
        load_dotenv_once()
        key = os.environ.get(self.key_env)
        if not key:
            raise AuthError(f"set {self.key_env} (in the environment or a .env file) to use anthropic:{model}")
        self._sdk = sdk
        self._client = sdk.Anthropic(api_key=key, base_url=self.base_url, timeout=self.timeout, max_retries=0)
        # recent SDKs dropped `temperature` from Messages.create; send it only where it is accepted
        self._takes_temperature = "temperature" in inspect.signature(self._client.messages.create).parameters

    def _call(self, request: ChatRequest) -> ChatReply:
        kwargs: dict[str, Any] = {"model": request.model, "system": request.system, "messages": request.messages,
                                  "max_tokens": request.max_tokens}
        if self._takes_temperature:
            kwargs["temperature"] = request.temperature
        try:
            resp = self._client.messages.create(**kwargs)
        except Exception as exc:
            raise self._map_error(self._sdk, exc) from exc
        try:
            text = "".join(block.text for block in resp.content if getattr(block, "type", "") == "text")
            usage = resp.usage
        except (AttributeError, IndexError, TypeError) as exc:
            raise _Transient(f"malformed response: {type(exc).__name__}: {exc}") from exc
        return ChatReply(
            text=text, tokens_in=int(getattr(usage, "input_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "output_tokens", 0) or 0),
            finish_reason=getattr(resp, "stop_reason", None), model=str(getattr(resp, "model", "") or request.model),
        )


BACKENDS: dict[str, type[BaseBackend]] = {"openai": OpenAIBackend, "anthropic": AnthropicBackend}


class BackendOptions(BaseModel):
    """The coder options a backend reads (unknown keys are ignored here)."""

    base_url: str | None = None
    api_key_env: str | None = None
    timeout: float = Field(120.0, gt=0)
    max_retries: int = Field(5, ge=0, le=20)
    backoff_base: float = Field(1.0, ge=0)
    backoff_cap: float = Field(30.0, ge=0)
    concurrency: int = Field(4, ge=1)
    max_cost: float | None = Field(None, ge=0)
