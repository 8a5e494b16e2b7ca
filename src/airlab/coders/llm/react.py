"""The ReAct operator (AIRA_2 style): a multi-step tool loop that ends with a submitted script.

Each step the model replies with a short thought and ONE fenced ```json object
``{"thought": ..., "tool": ..., "args": {...}}``; the tool runs and its result goes back as the
next user message (the observation). Tools: ``run_python`` and ``run_shell`` (executed in the same
sandbox as candidates: a fresh process per call, no network, a clean environment, the public files
read-only), ``list_files``, ``read_file`` and ``preview_data`` (read on the host, confined to the
node's workspace and the public files), and ``submit``. Files written in one step are visible in
the next: every node gets its own scratch workspace (``<tmp>/airlab-react-<node>-*/workspace``),
removed when the node's script is chosen.

The submitted script becomes the node's code; the harness then runs it for real, so a node's score
always comes from the grader, never from what the agent printed. The loop is bounded by
``max_steps`` tool steps and ``step_time_limit`` seconds per step (never above the task's
per-node limit). When the steps run out without a submit the model is asked once for the final
script; a reply with no script then fails the node with the reason (:class:`CoderError`).

Tokens and cost of every call are summed onto the node, and the whole conversation (messages,
tool calls, observations, timings) is kept in ``node.meta['transcript']``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from airlab.coders.base import CodeRequest, CoderError, Proposal
from airlab.coders.llm.backends import BaseBackend
from airlab.coders.llm.coder import CoderOptions, LLMCoder, Usage, options_from
from airlab.coders.llm.parsing import _PY_LANGS, ParseError, code_blocks, is_usable, parse_reply
from airlab.coders.llm.prompts import Prompt, Section, build_prompt, clip
from airlab.coders.llm.taxonomy import family_of
from airlab.errors import AirlabError
from airlab.execution.sandbox import SANDBOX_KINDS, RunResult, Sandbox, SandboxJob, make_sandbox
from airlab.tasks.prediction.submission import SUBMISSION_FILE
from airlab.tasks.program.task import ProgramPreview
from airlab.tasks.spec import Limits

TOOLS = ("run_python", "run_shell", "list_files", "read_file", "preview_data", "submit")

# ReAct options that may also come from the environment (the CLI passes no free-form options)
ENV_OPTIONS = {
    "max_steps": "AIRLAB_REACT_MAX_STEPS",
    "step_time_limit": "AIRLAB_REACT_STEP_TIME_LIMIT",
    "observation_chars": "AIRLAB_REACT_OBSERVATION_CHARS",
    "sandbox": "AIRLAB_REACT_SANDBOX",
    "workspace_root": "AIRLAB_REACT_WORKSPACE_ROOT",
}
_SANDBOX_TOKEN = re.compile(r"(AIRLAB_SANDBOX_TOKEN=)\w+")
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)


class ReActOptions(BaseModel):
    max_steps: int = Field(8, ge=1, le=100)
    step_time_limit: float = Field(60.0, gt=0)  # seconds; capped by the task's per-node limit
    observation_chars: int = Field(4000, ge=200, le=100_000)
    sandbox: str = "auto"  # auto | warm | bwrap | plain (auto: as for nodes, resolve_sandbox_kind)
    public_dir: str | None = None  # the run's folder of agent-visible files
    workspace_root: str | None = None  # parent of the per-node scratch folders (default: the temp dir)
    keep_workspace: bool = False  # keep the scratch folder after the node (for inspection)

    @field_validator("sandbox")
    @classmethod
    def _known_sandbox(cls, value: str) -> str:
        if value not in SANDBOX_KINDS:
            raise ValueError(f"must be one of {', '.join(SANDBOX_KINDS)}")
        return value

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ReActOptions:
        return options_from(cls, options, ENV_OPTIONS, "react")


# -- the reply format --------------------------------------------------------------------------

def tools_text(max_steps: int, step_seconds: float, files: str = "train.csv, predict.csv, sample_submission.csv",
               entry: str = "solution.py", scored: str = f"scores what it writes to {SUBMISSION_FILE}") -> str:
    return f"""You work in steps inside a workspace folder that holds {files}
and description.md (read-only). Each step you call ONE tool and then see its result. Tools:
- run_python {{"code": "..."}}: run a Python snippet in the workspace (a fresh process each step; files you write
  persist between steps; no network; at most {step_seconds:g} s per step). Print what you want to see.
- run_shell {{"command": "..."}}: run a shell command (/bin/sh -c) in the workspace, same limits.
- list_files {{"path": "."}}: list the files of the workspace.
- read_file {{"path": "...", "max_chars": 4000}}: read a text file of the workspace.
- preview_data {{"file": "train.csv"}}: shape, column types, first rows, missing values and statistics of a CSV.
- submit {{"code": "...", "plan": "..."}} or {{"path": "{entry}", "plan": "..."}}: submit the final, complete
  content of {entry} (a path names a file you wrote in the workspace). This ends your work: the harness runs
  it on its own in a fresh copy of the workspace and {scored}.

Reply format: one or two sentences of reasoning, then exactly ONE ```json block holding one object:
```json
{{"thought": "why this step", "tool": "run_python", "args": {{"code": "import pandas as pd\\nprint(pd.read_csv('train.csv').shape)"}}}}
```
For run_python and submit you may leave "code" out of args and put the code in ONE ```python block after
the JSON block instead. You have at most {max_steps} steps: test your script, then submit it before they run out."""


@dataclass
class Action:
    tool: str
    args: dict[str, Any]
    thought: str = ""


class ActionError(ValueError):
    """A reply that names no usable tool call; the message says why (and goes back to the model)."""


def _json_objects(text: str) -> list[tuple[dict[str, Any], int]]:
    """JSON objects of a reply, with their offsets: fenced ones first, else bare ones in the prose."""
    found: list[tuple[dict[str, Any], int]] = []
    for block in code_blocks(text):
        if block.lang not in ("json", "jsonc", "") or not block.code.strip().startswith("{"):
            continue
        try:
            obj = json.loads(block.code, strict=False)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            found.append((obj, block.start))
    if found:
        return found
    decoder = json.JSONDecoder(strict=False)
    pos = text.find("{")
    while pos != -1:
        try:
            obj, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(obj, dict):
            found.append((obj, pos))
        pos = text.find("{", end)
    return found


def _python_blocks(text: str) -> list[str]:
    blocks = []
    for block in code_blocks(text):
        if block.lang not in _PY_LANGS or not block.code.strip() or block.code.strip().startswith("{"):
            continue
        if is_usable(block.code):
            blocks.append(block.code.rstrip() + "\n")
    return blocks


def parse_action(text: str, allow_bare_code: bool = False) -> Action:
    """The tool call of a reply, or :class:`ActionError`.

    Lenient where it is safe: a bare JSON object (no fence) is read; ``action``/``name`` stand in
    for ``tool`` and ``arguments``/``input`` for ``args``; a run_python or submit call without code
    takes the ```python block of the reply. With ``allow_bare_code`` (the last step, or the final
    ask) a reply that is just a script is read as ``submit``.
    """
    if not text.strip():
        raise ActionError("the reply was empty")
    python = _python_blocks(text)
    calls = [obj for obj, _ in _json_objects(text) if any(k in obj for k in ("tool", "action", "name"))]
    if calls:
        obj = calls[0]
        tool = str(obj.get("tool") or obj.get("action") or obj.get("name") or "").strip()
        args = obj.get("args", obj.get("arguments", obj.get("input", {})))
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise ActionError(f"'args' must be a JSON object, got {type(args).__name__}")
        if tool not in TOOLS:
            raise ActionError(f"unknown tool '{tool}'; the tools are {', '.join(TOOLS)}")
        args = dict(args)
        if tool in ("run_python", "submit") and not args.get("code") and not args.get("path") and python:
            args["code"] = max(python, key=len)
        return Action(tool=tool, args=args, thought=str(obj.get("thought", "") or ""))
    if allow_bare_code:
        try:
            parsed = parse_reply(text)
        except ParseError as exc:
            raise ActionError(f"no tool call and no script: {exc}") from exc
        return Action(tool="submit", args={"code": parsed.code, "plan": parsed.plan}, thought=parsed.plan)
    if python:
        raise ActionError("the reply has a ```python block but no ```json tool call; to run it use "
                          '{"tool": "run_python"}, to submit it use {"tool": "submit"}')
    raise ActionError("the reply has no ```json block with a tool call")


# -- the tools ---------------------------------------------------------------------------------

@dataclass
class ToolResult:
    observation: str
    seconds: float = 0.0
    exit_code: int | None = None
    limit_hit: str | None = None
    code: str | None = None  # set by submit
    plan: str = ""


@dataclass
class Workbench:
    """The tools of one node: a scratch workspace, the public files, a sandbox and a step limit."""

    root: Path
    public_dir: Path
    sandbox: Sandbox
    limits: Limits  # per step: the time is the step limit
    observation_chars: int = 4000
    secrets: list[str] = field(default_factory=list)
    steps_run: int = 0

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.inputs = {path.name: path for path in sorted(self.public_dir.iterdir()) if path.is_file()}

    def call(self, action: Action) -> ToolResult:
        handler = getattr(self, f"tool_{action.tool}")
        start = time.monotonic()
        try:
            result: ToolResult = handler(**action.args)
        except (TypeError, ValueError) as exc:  # wrong argument names or values
            result = ToolResult(f"error: bad arguments for {action.tool}: {exc}".replace("tool_", ""))
        except ToolError as exc:
            result = ToolResult(f"error: {exc}")
        except OSError as exc:
            result = ToolResult(f"error: {action.tool} failed: {type(exc).__name__}: {exc.strerror or exc}")
        if not result.seconds:
            result.seconds = round(time.monotonic() - start, 3)
        result.observation = self.redact(clip(result.observation, self.observation_chars))
        return result

    def redact(self, text: str) -> str:
        """Defence in depth: the sandbox env is clean, but never echo a secret of the harness."""
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        # the sandbox's per-run token is random: hiding it keeps observations (and so the response
        # cache keys of the following calls) the same when a run is repeated
        return _SANDBOX_TOKEN.sub(r"\1…", text)

    # -- running code in the sandbox --------------------------------------------------------------
    def _run(self, code: str, argv: list[str] | None, suffix: str) -> ToolResult:
        self.steps_run += 1
        script = f".react_step_{self.steps_run:02d}{suffix}"
        self._clear_mount_points()
        job = SandboxJob(code=code, input_files=dict(self.inputs), workdir=self.workspace, limits=self.limits,
                         log_dir=self.root / "logs" / f"step-{self.steps_run:02d}", argv=argv, script_name=script)
        try:
            run = self.sandbox.run(job)
        finally:
            (self.workspace / script).unlink(missing_ok=True)
            self._clear_mount_points()
        return ToolResult(self._describe_run(run), seconds=round(run.seconds, 3), exit_code=run.exit_code,
                          limit_hit=run.limit_hit)

    def _clear_mount_points(self) -> None:
        # the sandboxes put the read-only inputs into the workspace (bind mounts or copies); drop
        # them between steps so each run starts clean and host-side reads go to the public folder
        for name in self.inputs:
            path = self.workspace / name
            if path.is_symlink() or path.is_file():
                path.unlink(missing_ok=True)

    def _describe_run(self, run: RunResult) -> str:
        half = self.observation_chars // 2
        if run.limit_hit == "time":
            head = f"TIMEOUT: the step hit the step time limit of {self.limits.time_seconds:g} s and was stopped"
        elif run.limit_hit:
            head = f"stopped: the step hit the {run.limit_hit} limit"
        else:
            head = f"exit code {run.exit_code}"
        parts = [head]
        if run.stdout_tail.strip():
            parts.append("--- stdout ---\n" + clip(run.stdout_tail.rstrip(), half, keep="tail"))
        if run.stderr_tail.strip():
            parts.append("--- stderr ---\n" + clip(run.stderr_tail.rstrip(), half, keep="tail"))
        if len(parts) == 1:
            parts.append("(no output)")
        return "\n".join(parts)

    def tool_run_python(self, code: str = "") -> ToolResult:
        if not str(code).strip():
            raise ToolError("run_python needs args.code (or a ```python block after the JSON)")
        return self._run(str(code), None, ".py")

    def tool_run_shell(self, command: str = "") -> ToolResult:
        if not str(command).strip():
            raise ToolError("run_shell needs args.command")
        return self._run("", ["/bin/sh", "-c", str(command)], ".sh")

    # -- host-side reads, confined to the workspace and the public files ---------------------------
    def _resolve(self, path: str) -> Path:
        name = str(path).strip() or "."
        for prefix in ("/workspace/", "./"):
            if name.startswith(prefix):
                name = name[len(prefix):] or "."
        if name in ("/workspace", "."):
            return self.workspace
        if name in self.inputs:
            return self.inputs[name]
        candidate = (self.workspace / name).resolve()
        if not candidate.is_relative_to(self.workspace.resolve()):
            raise ToolError(f"'{path}' is outside the workspace")
        if not candidate.exists():
            raise ToolError(f"'{path}' does not exist in the workspace")
        return candidate

    def _regular_file(self, path: str) -> Path:
        target = self._resolve(path)
        if not stat.S_ISREG(target.stat().st_mode):
            raise ToolError(f"'{path}' is not a regular file")
        return target

    def tool_list_files(self, path: str = ".") -> ToolResult:
        folder = self._resolve(path)
        if not folder.is_dir():
            raise ToolError(f"'{path}' is not a folder")
        lines: list[str] = []
        if folder == self.workspace:
            lines += [f"{name}  {src.stat().st_size} bytes  (read-only input)" for name, src in self.inputs.items()]
        entries = sorted(folder.rglob("*"))
        for entry in entries[:200]:
            rel = entry.relative_to(folder)
            if folder == self.workspace and str(rel) in self.inputs:
                continue
            info = entry.lstat()
            if stat.S_ISLNK(info.st_mode):
                lines.append(f"{rel} -> {os.readlink(entry)}")
            elif stat.S_ISDIR(info.st_mode):
                lines.append(f"{rel}/")
            else:
                lines.append(f"{rel}  {info.st_size} bytes")
        if len(entries) > 200:
            lines.append(f"... and {len(entries) - 200} more")
        return ToolResult("\n".join(lines) or "(empty)")

    def tool_read_file(self, path: str = "", max_chars: int = 4000) -> ToolResult:
        if not str(path).strip():
            raise ToolError("read_file needs args.path")
        target = self._regular_file(path)
        limit = max(100, min(int(max_chars), self.observation_chars))
        with open(target, "rb") as handle:
            data = handle.read(limit * 4 + 1)
        if b"\0" in data[:4096]:
            return ToolResult(f"'{path}' is a binary file ({target.stat().st_size} bytes)")
        text = data.decode("utf-8", errors="replace")
        size = target.stat().st_size
        if len(text) > limit or size > len(data):
            text = text[:limit] + f"\n…(cut: the file has {size} bytes)"
        return ToolResult(text)

    def tool_preview_data(self, file: str = "train.csv", rows: int = 5) -> ToolResult:
        import pandas as pd

        target = self._regular_file(file)
        if target.stat().st_size > 200 * 1024 * 1024:
            raise ToolError(f"'{file}' is too large to preview")
        try:
            frame = pd.read_csv(target)
        except Exception as exc:
            raise ToolError(f"could not read '{file}' as CSV: {type(exc).__name__}: {exc}") from exc
        rows = max(1, min(int(rows), 20))
        with pd.option_context("display.width", 160, "display.max_columns", 30):
            parts = [
                f"{file}: shape {frame.shape} ({frame.shape[0]} rows, {frame.shape[1]} columns)",
                "dtypes:\n" + frame.dtypes.astype(str).to_string(),
                f"first {rows} rows:\n" + frame.head(rows).to_string(),
            ]
            missing = frame.isna().sum()
            missing = missing[missing > 0]
            parts.append("missing values:\n" + (missing.to_string() if len(missing) else "none"))
            numeric = frame.select_dtypes("number")
            if numeric.shape[1]:
                parts.append("numeric summary:\n" + numeric.describe().T.round(4).to_string())
            for col in frame.select_dtypes(exclude="number").columns[:10]:
                counts = frame[col].value_counts()
                if len(counts) <= 20:
                    parts.append(f"values of {col}:\n" + counts.to_string())
                else:
                    parts.append(f"{col}: {len(counts)} distinct values")
        return ToolResult("\n\n".join(parts))

    def tool_submit(self, code: str = "", path: str = "", plan: str = "") -> ToolResult:
        if not str(code).strip() and str(path).strip():
            target = self._regular_file(path)
            code = target.read_text(errors="replace")
        code = str(code)
        if not code.strip():
            raise ToolError("submit needs args.code, args.path or a ```python block after the JSON")
        if not is_usable(code):
            raise ToolError("the submitted code holds no runnable Python; submit the complete script")
        return ToolResult("submitted", code=code.rstrip() + "\n", plan=str(plan or ""))


class ToolError(Exception):
    """A tool call that cannot run; the message becomes the observation."""


def harness_secrets() -> list[str]:
    """Values of the harness's secret-looking variables (API keys), to keep them out of observations."""
    return [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 8]


# -- the loop ----------------------------------------------------------------------------------

def react_prompt(request: CodeRequest, max_steps: int, step_seconds: float) -> Prompt:
    """The task statement: the prompted coder's sections (task, data, parents, errors, memory,
    instructions) with the one-shot response format replaced by how to work with the tools."""
    base = build_prompt(request)
    sections = [s for s in base.sections if s.title != "Response format"]
    entry = request.entry
    if isinstance(request.preview, ProgramPreview):
        files = ", ".join(f for f in request.preview.files if f != "description.md")
        scored = "a hidden evaluator scores it on hidden instances"
        check = "call its functions the way the task description says, and fix what fails"
    else:
        files, scored = "train.csv, predict.csv, sample_submission.csv", f"scores what it writes to {SUBMISSION_FILE}"
        check = f"check {SUBMISSION_FILE}"
    sections.append(Section(title="How to work", body=(
        f"Use the tools to look at the workspace and to write and test your code in it (for example write {entry} "
        f"with run_python, run it with run_shell `python {entry}`, {check}), then submit the complete file. You "
        f"have {max_steps} steps of at most {step_seconds:g} s each; the submitted code gets the full time limit "
        f"above. Reply with ONE ```json tool call per message."
    )))
    return Prompt(system=base.system + "\n\n" + tools_text(max_steps, step_seconds, files, entry, scored),
                  sections=sections)


class ReActCoder(LLMCoder):
    """Fills draft / improve / debug / crossover with a multi-step, tool-using chat loop."""

    modes = ("react",)

    def __init__(self, provider: str, backend: BaseBackend, options: CoderOptions, react: ReActOptions):
        super().__init__(provider, backend, options)
        if not react.public_dir:
            raise AirlabError("--operator react needs the run's public folder (coder option public_dir); "
                              "airlab run passes it")
        self.public_dir = Path(react.public_dir)
        self.react = react
        self._sandbox: Sandbox | None = None

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = make_sandbox(self.react.sandbox)
        return self._sandbox

    def write(self, request: CodeRequest) -> Proposal:
        step_seconds = min(self.react.step_time_limit, request.limits.time_seconds)
        limits = request.limits.model_copy(update={"time_seconds": step_seconds})
        root_parent = Path(self.react.workspace_root).expanduser() if self.react.workspace_root else None
        if root_parent is not None:
            root_parent.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=f"airlab-react-{request.node_id:04d}-", dir=root_parent))
        bench = Workbench(root=root, public_dir=self.public_dir, sandbox=self.sandbox, limits=limits,
                          observation_chars=self.react.observation_chars, secrets=harness_secrets())
        try:
            return self._loop(request, bench, step_seconds)
        finally:
            if not self.react.keep_workspace:
                shutil.rmtree(root, ignore_errors=True)

    def _loop(self, request: CodeRequest, bench: Workbench, step_seconds: float) -> Proposal:
        max_steps = self.react.max_steps
        prompt = react_prompt(request, max_steps, step_seconds)
        messages = [{"role": "user", "content": prompt.render()}]
        usage = Usage(transcript=[{"role": "system", "content": prompt.system}, dict(messages[0])])
        tools_used: list[str] = []
        first_thought = ""
        for step in range(1, max_steps + 1):
            reply = self.chat(prompt.system, messages, request.seed + step - 1, usage)
            messages.append({"role": "assistant", "content": reply.text})
            last = step == max_steps
            try:
                action = parse_action(reply.text, allow_bare_code=last)
            except ActionError as exc:
                reason = str(exc) + (" (the reply hit the token limit)" if reply.finish_reason == "length" else "")
                result = ToolResult(f"error: your reply could not be used: {reason}. Reply with ONE ```json block "
                                    '{"thought": ..., "tool": ..., "args": {...}}.')
                action = Action(tool="(none)", args={})
            else:
                first_thought = first_thought or action.thought
                result = bench.call(action)
            tools_used.append(action.tool)
            usage.transcript.append({
                "role": "tool", "step": step, "tool": action.tool, "args": action.args, "thought": action.thought,
                "observation": result.observation, "seconds": result.seconds, "exit_code": result.exit_code,
                "limit_hit": result.limit_hit,
            })
            if result.code is not None:
                return self._proposal(result, action, first_thought, usage, prompt, tools_used, step, step_seconds)
            left = max_steps - step
            content = f"Observation (step {step} of {max_steps}, tool {action.tool}):\n{result.observation}"
            if left == 0:
                content += (f"\n\nYou have used all {max_steps} steps. Reply now with the final script: a submit "
                            "tool call, or the complete script in ONE ```python block.")
            else:
                content += f"\n\n({left} step{'s' if left > 1 else ''} left)"
            messages.append({"role": "user", "content": content})
            usage.transcript.append({"role": "user", "content": content})
        # the final ask (sent with the last observation): one more reply, and a script or nothing
        reply = self.chat(prompt.system, messages, request.seed + max_steps, usage)
        reason = ""
        try:
            action = parse_action(reply.text, allow_bare_code=True)
            if action.tool != "submit":
                raise ActionError(f"it called {action.tool} instead of submitting")
            result = bench.call(action)
        except ActionError as exc:
            reason = str(exc)
        else:
            usage.transcript.append({
                "role": "tool", "step": max_steps + 1, "tool": "submit", "args": action.args,
                "thought": action.thought, "observation": result.observation, "seconds": result.seconds,
                "exit_code": None, "limit_hit": None,
            })
            if result.code is not None:
                return self._proposal(result, action, first_thought, usage, prompt, [*tools_used, "submit"],
                                      max_steps + 1, step_seconds)
            reason = result.observation
        raise usage.attach(CoderError(
            f"the ReAct loop used its {max_steps} steps without a submit and the final reply "
            f"held no script ({reason})"), self.backend)

    def _proposal(self, result: ToolResult, action: Action, first_thought: str, usage: Usage, prompt: Prompt,
                  tools_used: list[str], step: int, step_seconds: float) -> Proposal:
        code = result.code or ""
        plan = (result.plan or action.thought or first_thought).strip()[:2000]
        meta = {
            **usage.meta(self.backend),
            "operator_mode": "react",
            "react": {"steps": step, "max_steps": self.react.max_steps, "step_time_limit": step_seconds,
                      "tool_calls": tools_used, "submitted_at_step": step, "sandbox": self.sandbox.name},
            "prompt_sections": prompt.titles,
        }
        return Proposal(plan=plan, code=code, family=family_of(plan, code), meta=meta,
                        tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, cost_usd=round(usage.cost_usd, 8))
