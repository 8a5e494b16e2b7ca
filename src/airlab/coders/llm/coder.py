"""The prompted LLM coder: one chat per operator call, with bounded repair turns.

A reply without usable code gets a repair turn (the reply and the reason are sent back); after
``parse_retries`` repairs the node is recorded as failed with the reason. Tokens and cost of every
call are summed onto the node, and the whole conversation is kept in ``node.meta['transcript']``.
The model's own printed metric is never read: the grader scores the submission.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from airlab.coders.base import CodeRequest, CoderError, Proposal
from airlab.coders.llm.backends import BACKENDS, BackendOptions, BaseBackend, ChatReply, ChatRequest
from airlab.coders.llm.cache import ResponseCache, default_cache_dir
from airlab.coders.llm.parsing import ParseError, parse_reply
from airlab.coders.llm.pricing import PriceTable
from airlab.coders.llm.prompts import build_prompt
from airlab.coders.llm.taxonomy import family_of
from airlab.errors import AirlabError

# coder options that may also come from the environment (the CLI passes no free-form options)
OptionsT = TypeVar("OptionsT", bound=BaseModel)

ENV_OPTIONS = {
    "max_tokens": "AIRLAB_LLM_MAX_TOKENS",
    "temperature": "AIRLAB_LLM_TEMPERATURE",
    "parse_retries": "AIRLAB_LLM_PARSE_RETRIES",
    "cache_dir": "AIRLAB_LLM_CACHE_DIR",
    "cache": "AIRLAB_LLM_CACHE",
}


class CoderOptions(BackendOptions):
    max_tokens: int = Field(4096, ge=16)
    temperature: float = Field(0.7, ge=0, le=2)
    parse_retries: int = Field(2, ge=0, le=10)
    cache: bool = True
    cache_dir: str | None = None
    prices: str | None = None  # a YAML/JSON price file
    operator_mode: str = "prompt"

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> CoderOptions:
        return options_from(cls, options, ENV_OPTIONS, "coder")


def options_from(model: type[OptionsT], options: dict[str, Any], env: dict[str, str], label: str) -> OptionsT:
    """Build an options model: environment variables first, explicit options over them."""
    merged: dict[str, Any] = {key: os.environ[var] for key, var in env.items() if os.environ.get(var)}
    merged.update({k: v for k, v in options.items() if k in model.model_fields and v is not None})
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise AirlabError(f"bad {label} option {'.'.join(map(str, err['loc']))}: {err['msg']}") from exc


def make_backend(provider: str, model: str, opts: CoderOptions) -> BaseBackend:
    cache = None
    if opts.cache:
        cache = ResponseCache(Path(opts.cache_dir).expanduser() if opts.cache_dir else default_cache_dir())
    backend_kwargs = opts.model_dump(include=set(BackendOptions.model_fields))
    return BACKENDS[provider](model, cache=cache, prices=PriceTable(path=opts.prices), **backend_kwargs)


@dataclass
class Usage:
    """What a node's calls cost, and its conversation."""

    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0
    transcript: list[dict[str, Any]] = field(default_factory=list)

    def add(self, reply: ChatReply) -> None:
        self.tokens_in += reply.tokens_in
        self.tokens_out += reply.tokens_out
        self.cost_usd += reply.cost_usd
        self.calls += 1
        self.cached_calls += int(reply.cached)

    def meta(self, backend: BaseBackend) -> dict[str, Any]:
        return {
            "llm": {"provider": backend.provider, "model": backend.model, "calls": self.calls,
                    "cached_calls": self.cached_calls},
            "transcript": self.transcript,
        }

    def attach(self, exc: CoderError, backend: BaseBackend) -> CoderError:
        """Put the usage on an error, so a failed node still records its tokens and cost."""
        exc.tokens_in = self.tokens_in
        exc.tokens_out = self.tokens_out
        exc.cost_usd = round(self.cost_usd, 8)
        exc.meta = self.meta(backend)
        return exc


def reply_entry(reply: ChatReply) -> dict[str, Any]:
    return {"role": "assistant", "content": reply.text, "tokens_in": reply.tokens_in, "tokens_out": reply.tokens_out,
            "cost_usd": reply.cost_usd, "cached": reply.cached, "finish_reason": reply.finish_reason,
            "seconds": reply.seconds}


class LLMCoder:
    """Fills draft / improve / debug / crossover with a chat model."""

    modes: tuple[str, ...] = ("prompt",)  # the operator modes this class serves (react: ReActCoder)

    def __init__(self, provider: str, backend: BaseBackend, options: CoderOptions):
        self.backend = backend
        self.options = options
        self.name = f"{provider}:{backend.model}"
        if options.operator_mode not in ("prompt", "react"):
            raise AirlabError(f"unknown operator mode '{options.operator_mode}'; use prompt or react")
        if options.operator_mode not in self.modes:
            raise AirlabError(f"{type(self).__name__} does not serve --operator {options.operator_mode}; "
                              "build LLM coders with make_llm_coder")

    def write(self, request: CodeRequest) -> Proposal:
        return self.write_prompted(request)

    def chat(self, system: str, messages: list[dict[str, str]], seed: int, usage: Usage) -> ChatReply:
        request = ChatRequest(
            model=self.backend.model, system=system, messages=messages, max_tokens=self.options.max_tokens,
            temperature=self.options.temperature, seed=seed,
        )
        try:
            reply = self.backend.complete(request)
        except CoderError as exc:
            raise usage.attach(exc, self.backend) from exc
        usage.add(reply)
        usage.transcript.append(reply_entry(reply))
        return reply

    def write_prompted(self, request: CodeRequest) -> Proposal:
        prompt = build_prompt(request)
        messages = [{"role": "user", "content": prompt.render()}]
        usage = Usage(transcript=[{"role": "system", "content": prompt.system}, dict(messages[0])])
        reason = ""
        for attempt in range(self.options.parse_retries + 1):
            reply = self.chat(prompt.system, messages, request.seed + attempt, usage)
            try:
                parsed = parse_reply(reply.text)
            except ParseError as exc:
                reason = str(exc)
                if reply.finish_reason == "length":
                    reason += " (the reply hit the token limit)"
                if attempt == self.options.parse_retries:
                    break
                repair = (f"Your reply could not be used: {reason}. Reply again with a short plan and the complete "
                          "script in one ```python code block.")
                messages = [*messages, {"role": "assistant", "content": reply.text}, {"role": "user", "content": repair}]
                usage.transcript.append({"role": "user", "content": repair})
                continue
            return Proposal(
                plan=parsed.plan, code=parsed.code, family=family_of(parsed.plan, parsed.code),
                meta={**usage.meta(self.backend), "parse_attempts": attempt + 1,
                      "prompt_sections": prompt.titles},
                tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, cost_usd=round(usage.cost_usd, 8),
            )
        raise usage.attach(CoderError(f"no usable code after {self.options.parse_retries + 1} replies: {reason}"),
                           self.backend)


def make_llm_coder(provider: str, model: str, options: dict[str, Any]) -> LLMCoder:
    if not model:
        raise AirlabError(f"name a model: --coder {provider}:MODEL")
    opts = CoderOptions.from_options(options)
    if opts.operator_mode == "react":
        from airlab.coders.llm.react import ReActCoder, ReActOptions

        react = ReActOptions.from_options(options)
        return ReActCoder(provider, make_backend(provider, model, opts), opts, react)
    return LLMCoder(provider, make_backend(provider, model, opts), opts)
