"""Cost, the hard cost cap, the response cache and the prompted coder, on recorded conversations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airlab.coders.base import CoderError, make_coder
from airlab.coders.llm.backends import BudgetExhausted, ChatRequest, OpenAIBackend
from airlab.coders.llm.cache import ResponseCache
from airlab.coders.llm.coder import LLMCoder
from airlab.coders.llm.pricing import Price, PriceTable
from airlab.errors import AirlabError
from airlab.search.memory import Memory
from airlab.search.node import Node, NodeStatus, Operator
from airlab.store.run_store import RunStore
from tests.coders.llm.conftest import make_request
from tests.coders.llm.fake_server import Answer, FakeLLM, fake_llm, openai_body
from tests.conftest import run_json

# a reply recorded from SmolLM2-135M-Instruct through llama.cpp (draft on a small tabular task)
RECORDED_DRAFT = """Here's a simple plan: load the data, fit a random forest and write the predictions.
```python
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

train = pd.read_csv('train.csv')
test = pd.read_csv('predict.csv')
X = train.drop(columns=['species'])
y = train['species']
model = RandomForestClassifier(n_estimators=100)
model.fit(X, y)
pd.DataFrame({'id': test['id'], 'species': model.predict(test.drop(columns=['id']))}).to_csv('submission.csv', index=False)
print("Validation accuracy: 0.99")
```"""
RECORDED_NO_CODE = "To solve this problem we should first understand the data and then pick a model that fits it well."


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("AIRLAB_PRICES", raising=False)
    monkeypatch.chdir(tmp_path)


def chat(text: str = "hi", max_tokens: int = 100, seed: int | None = None) -> ChatRequest:
    return ChatRequest(model="gpt-4.1-mini", system="s", messages=[{"role": "user", "content": text}],
                       max_tokens=max_tokens, seed=seed)


def backend(fake: FakeLLM, **kw: Any) -> OpenAIBackend:
    return OpenAIBackend("gpt-4.1-mini", base_url=f"{fake.url}/v1", max_retries=0, **kw)


def test_price_table_lookup_and_user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = PriceTable()
    assert table.lookup("claude-sonnet-4-5-20250929") == table.lookup("claude-sonnet-4-5")
    assert table.lookup("gpt-4.1-mini") == Price(input=0.4, output=1.6)  # not gpt-4.1's price
    assert table.lookup("qwen2.5-coder") is None
    (tmp_path / "prices.yaml").write_text("qwen2.5-coder: {input: 0.1, output: 0.2}\ngpt-4.1-mini: {input: 1, output: 2}\n")
    monkeypatch.setenv("AIRLAB_PRICES", str(tmp_path / "prices.yaml"))
    table = PriceTable()
    assert table.lookup("qwen2.5-coder") == Price(input=0.1, output=0.2)
    assert table.lookup("gpt-4.1-mini") == Price(input=1, output=2)
    (tmp_path / "bad.json").write_text(json.dumps({"m": {"input": -1, "output": 1}}))
    with pytest.raises(AirlabError, match="bad price for 'm'"):
        PriceTable(path=tmp_path / "bad.json")


def test_tokens_and_cost_per_call(fake: FakeLLM) -> None:
    fake.then(Answer(200, openai_body("a", 1000, 500)))
    reply = backend(fake).complete(chat())
    assert (reply.tokens_in, reply.tokens_out) == (1000, 500)
    assert reply.cost_usd == pytest.approx((1000 * 0.4 + 500 * 1.6) / 1e6)


def test_max_cost_is_a_hard_cap_checked_before_each_call(fake: FakeLLM) -> None:
    # one call costs at most ~(20 in + 1000 out tokens) = $0.0016; after a $0.0014 call the next could exceed
    fake.then(Answer(200, openai_body("a", 1000, 625)))
    b = backend(fake, max_cost=0.0025)
    b.complete(chat(max_tokens=1000))
    assert b.spent_usd == pytest.approx(0.0014)
    with pytest.raises(BudgetExhausted, match="budget is spent") as info:
        b.complete(chat("second", max_tokens=1000))
    assert info.value.stops_run and isinstance(info.value, CoderError)
    assert len(fake.requests) == 1  # no call started
    with pytest.raises(BudgetExhausted):  # a call that alone exceeds the cap never starts either
        backend(fake, max_cost=0.0001).complete(chat(max_tokens=1000))
    assert len(fake.requests) == 1


def test_max_cost_needs_a_known_price() -> None:
    with pytest.raises(AirlabError, match="AIRLAB_PRICES"):
        OpenAIBackend("my-private-model", max_cost=1.0)


def test_cache_replays_the_same_request_without_a_call(fake: FakeLLM, tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c")
    first = backend(fake, cache=cache).complete(chat(seed=1))
    again = backend(fake, cache=cache).complete(chat(seed=1))
    assert len(fake.requests) == 1 and again.cached and not first.cached
    assert again.text == first.text and again.tokens_in == first.tokens_in and again.cost_usd == 0.0
    backend(fake, cache=cache).complete(chat(seed=2))  # any change to the request is a new call
    assert len(fake.requests) == 2
    reopened = ResponseCache(tmp_path / "c")  # on disk: a new process replays too
    assert len(reopened) == 2 and backend(fake, cache=reopened).complete(chat(seed=1)).cached


def llm_coder(fake: FakeLLM, tmp_path: Path, **options: Any) -> LLMCoder:
    coder = make_coder("openai:gpt-4.1-mini", {"base_url": f"{fake.url}/v1", "cache_dir": str(tmp_path / "cache"),
                                               "max_retries": 0, **options})
    assert isinstance(coder, LLMCoder)
    return coder


def test_prompted_draft_records_plan_code_family_tokens_and_transcript(fake: FakeLLM, tmp_path: Path) -> None:
    fake.then(Answer(200, openai_body(RECORDED_DRAFT, 900, 200)))
    coder = llm_coder(fake, tmp_path, max_tokens=700)
    proposal = coder.write(make_request())
    assert coder.name == "openai:gpt-4.1-mini"
    assert proposal.plan.startswith("Here's a simple plan") and "RandomForestClassifier(" in proposal.code
    assert proposal.family == "trees"
    assert (proposal.tokens_in, proposal.tokens_out) == (900, 200) and proposal.cost_usd > 0
    roles = [t["role"] for t in proposal.meta["transcript"]]
    assert roles == ["system", "user", "assistant"] and proposal.meta["llm"]["calls"] == 1
    sent = fake.requests[0]
    assert sent["max_tokens"] == 700 and sent["seed"] == 7
    assert "## Data preview" in sent["messages"][1]["content"]
    # a re-run replays from the cache without a call, with the same proposal
    again = llm_coder(fake, tmp_path, max_tokens=700).write(make_request())
    assert len(fake.requests) == 1 and again.code == proposal.code and again.meta["llm"]["cached_calls"] == 1


def test_a_reply_without_code_is_repaired_then_fails_with_the_reason(fake: FakeLLM, tmp_path: Path) -> None:
    fake.then(Answer(200, openai_body(RECORDED_NO_CODE, 500, 30)), Answer(200, openai_body(RECORDED_DRAFT, 600, 200)))
    proposal = llm_coder(fake, tmp_path, parse_retries=1).write(make_request())
    assert proposal.meta["parse_attempts"] == 2 and proposal.tokens_in == 1100
    repair = fake.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": RECORDED_NO_CODE}
    assert "no ```python code block" in repair[-1]["content"]
    fake.then(*[Answer(200, openai_body(RECORDED_NO_CODE, 10, 5))] * 3)
    with pytest.raises(CoderError, match="no usable code after 3 replies") as info:
        llm_coder(fake, tmp_path, parse_retries=2).write(make_request(seed=99))
    assert info.value.tokens_in == 30 and len(info.value.meta["transcript"]) == 2 + 3 + 2  # type: ignore[attr-defined]


def test_budget_stop_carries_the_usage_of_the_node(fake: FakeLLM, tmp_path: Path) -> None:
    fake.then(Answer(200, openai_body(RECORDED_NO_CODE, 1000, 1000)))
    coder = llm_coder(fake, tmp_path, max_cost=0.004, max_tokens=1000, parse_retries=3)
    with pytest.raises(BudgetExhausted) as info:
        coder.write(make_request())
    assert len(fake.requests) == 1 and info.value.tokens_out == 1000  # type: ignore[attr-defined]


def test_debug_prompt_gets_the_error_and_the_chain(fake: FakeLLM, tmp_path: Path) -> None:
    parent = Node(id=3, operator=Operator.DRAFT, plan="knn", code="import pandas\nboom()\n", status=NodeStatus.BUGGY,
                  error="exit code 1:\nNameError: name 'boom' is not defined", output_tail="Traceback ...")
    memory = Memory(ancestral_bugs=["node 1 (buggy): KeyError: 'target'", "node 3 (buggy): NameError"])
    llm_coder(fake, tmp_path).write(make_request(Operator.DEBUG, [parent], memory))
    prompt = fake.requests[0]["messages"][1]["content"]
    assert "boom()" in prompt and "NameError: name 'boom' is not defined" in prompt
    assert "KeyError: 'target'" in prompt


def test_unknown_operator_mode_and_missing_model(fake: FakeLLM, tmp_path: Path) -> None:
    with pytest.raises(AirlabError, match="operator mode"):
        llm_coder(fake, tmp_path, operator_mode="swarm")
    with pytest.raises(AirlabError, match=r"needs the run's public folder"):
        llm_coder(fake, tmp_path, operator_mode="react")
    with pytest.raises(AirlabError, match="name a model"):
        make_coder("openai", {})


def test_a_run_with_a_cost_cap_stops_at_it_and_records_why(fake: FakeLLM, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ``airlab run --max-cost``: each reply of the (priced) model costs $0.002; before a
    call whose worst case could pass the cap, the run stops cleanly with status ``budget_cost``."""
    monkeypatch.setenv("AIRLAB_LLM_CACHE_DIR", str(tmp_path / "llm-cache"))  # a cache hit would be free
    monkeypatch.setenv("AIRLAB_LLM_MAX_TOKENS", "1000")
    monkeypatch.setenv("AIRLAB_LLM_PARSE_RETRIES", "0")
    fake.then(*[Answer(200, openai_body(RECORDED_DRAFT, 1000, 1000)) for _ in range(10)])
    per_call = (1000 * 0.4 + 1000 * 1.6) / 1e6
    result = run_json("run", "iris", "--coder", "openai:gpt-4.1-mini", "--base-url", f"{fake.url}/v1",
                      "--max-cost", "0.005", "--budget-nodes", "10", "--eval-folds", "1",
                      "--out", str(tmp_path / "runs"))
    assert result["status"] == "budget_cost" and result["budget"]["max_cost"] == 0.005
    calls = len(fake.requests)
    assert 1 <= calls < 10 and result["n_nodes"] == calls + 1  # the node that found the budget spent
    assert result["cost_usd"] == pytest.approx(calls * per_call) and result["cost_usd"] <= 0.005
    run_dir = tmp_path / "runs" / result["run_id"]
    assert json.loads((run_dir / "result.json").read_text())["status"] == "budget_cost"
    store = RunStore(run_dir / "journal.sqlite", readonly=True)
    assert store.meta()["status"] == "budget_cost"
    nodes = store.nodes()
    store.close()
    last = nodes[-1]
    assert last.status == NodeStatus.FAILED and last.cost_usd == 0.0
    assert last.error is not None and "the LLM budget is spent" in last.error
    assert all(n.status != NodeStatus.FAILED and n.cost_usd == pytest.approx(per_call) for n in nodes[:-1])
