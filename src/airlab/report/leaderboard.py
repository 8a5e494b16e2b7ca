"""The leaderboard of a bench folder: rankings with confidence intervals, a performance profile,
a task x agent heat map and the per-task winners, in one self-contained HTML page.

The scores ranked are test scores (each run's selected node, scored once after the run). An
(agent, task) pair without a valid seed counts as the worst result on that task, so an agent
cannot climb by failing hard tasks.

Rankings: this module computes two simple, well-understood tables itself — Borda (per task, the
share of other agents beaten; ties count half) and the mean per-task normalised score (0 = worst
agent on the task, 1 = best) — with 95% bootstrap intervals over tasks — and, beside them, the tables of ``airlab rank``
(:func:`airlab.ranking.rank`: Borda, Copeland, Schulze, Kemeny with bootstrap intervals).

What the suites report (:func:`suite_summary`), shown when the table has such rows: per agent,
MLE-bench's medal and above-median rates over its runs of MLE-bench tasks, the mean AIRS-Bench
normalised score over AIRS tasks, and the share of program-task runs that beat the starter code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from airlab.errors import AirlabError
from airlab.report.html import esc, fmt, page, table
from airlab.report.plots import PALETTE, Series, line_plot

LEADERBOARD_FILE = "leaderboard.html"
RESULTS_FILE = "results.csv"
SCORE_COLUMN = "test_score"
N_BOOTSTRAP = 1000


def is_bench_dir(path: Path) -> bool:
    return (path / RESULTS_FILE).is_file()


def read_bench(folder: Path) -> pd.DataFrame:
    """The results table of a bench folder (via :mod:`airlab.store.results` when present)."""
    try:
        from airlab.store.results import read_results
    except ImportError:  # the results store is optional for reading: a plain CSV is enough
        path = folder / RESULTS_FILE
        if not path.is_file():
            raise AirlabError(f"no results table at {path}") from None
        frame = pd.read_csv(path, dtype={"agent": str, "task": str})
        for col in ("higher_is_better", "valid"):
            frame[col] = frame[col].map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))
        return frame
    return read_results(folder)


@dataclass
class Matrix:
    """Mean valid test score per (agent, task); NaN where an agent has no valid seed."""

    agents: list[str]
    tasks: list[str]
    scores: np.ndarray  # (agents, tasks), in each task's own direction
    higher: np.ndarray  # (tasks,)
    valid_runs: np.ndarray  # (agents, tasks)
    runs: np.ndarray  # (agents, tasks)
    metrics: list[str]

    @property
    def oriented(self) -> np.ndarray:
        return self.scores * np.where(self.higher, 1.0, -1.0)[None, :]


def score_matrix(frame: pd.DataFrame, column: str = SCORE_COLUMN) -> Matrix:
    need = {"agent", "task", "higher_is_better", column}
    missing = need - set(frame.columns)
    if missing:
        raise AirlabError(f"the results table lacks column(s) {', '.join(sorted(missing))}")
    if frame.empty:
        raise AirlabError("the results table has no rows")
    agents = list(dict.fromkeys(frame["agent"].astype(str)))
    tasks = list(dict.fromkeys(frame["task"].astype(str)))
    scores = np.full((len(agents), len(tasks)), np.nan)
    valid_runs = np.zeros_like(scores)
    runs = np.zeros_like(scores)
    higher = np.ones(len(tasks), dtype=bool)
    metrics = []
    valid = frame["valid"].astype(bool) if "valid" in frame.columns else pd.Series(True, index=frame.index)
    for j, task in enumerate(tasks):
        rows = frame[frame["task"].astype(str) == task]
        higher[j] = bool(rows["higher_is_better"].iloc[0])
        metrics.append(str(rows["metric"].iloc[0]) if "metric" in rows.columns else "score")
        for i, agent in enumerate(agents):
            sub = rows[rows["agent"].astype(str) == agent]
            runs[i, j] = len(sub)
            values = pd.to_numeric(sub[column], errors="coerce")[valid.loc[sub.index]].dropna()
            valid_runs[i, j] = len(values)
            if len(values):
                scores[i, j] = float(values.mean())
    return Matrix(agents, tasks, scores, higher, valid_runs, runs, metrics)


def normalised(m: Matrix) -> np.ndarray:
    """Per task: 0 = worst valid agent, 1 = best; a missing result is 0; all-equal tasks are 1."""
    o = m.oriented
    out = np.zeros_like(o)
    for j in range(o.shape[1]):
        col = o[:, j]
        ok = ~np.isnan(col)
        if not ok.any():
            continue
        lo, hi = col[ok].min(), col[ok].max()
        out[ok, j] = 1.0 if hi == lo else (col[ok] - lo) / (hi - lo)
    return out


def borda_points(m: Matrix) -> np.ndarray:
    """Per task: the share of other agents beaten (ties half, missing = worst), shape (agents, tasks)."""
    o = np.where(np.isnan(m.oriented), -np.inf, m.oriented)
    n = o.shape[0]
    if n < 2:
        return np.ones_like(o)
    wins = (o[:, None, :] > o[None, :, :]).sum(axis=1) + 0.5 * ((o[:, None, :] == o[None, :, :]).sum(axis=1) - 1)
    return wins / (n - 1)


@dataclass
class RankRow:
    agent: str
    rank: int
    score: float
    ci_low: float
    ci_high: float


def _rank_rows(agents: list[str], per_task: np.ndarray, rng: np.random.Generator) -> list[RankRow]:
    """Mean over tasks, with a percentile bootstrap interval over tasks (resampled with repeats)."""
    mean = per_task.mean(axis=1)
    n_tasks = per_task.shape[1]
    idx = rng.integers(0, n_tasks, size=(N_BOOTSTRAP, n_tasks))
    boots = per_task[:, idx].mean(axis=2)  # (agents, B)
    low, high = np.percentile(boots, [2.5, 97.5], axis=1)
    order = sorted(range(len(agents)), key=lambda i: (-mean[i], i))
    rows: list[RankRow] = []
    for pos, i in enumerate(order):
        # Competition ranking: equal means share a rank.
        rank = pos + 1 if pos == 0 or mean[i] != mean[order[pos - 1]] else rows[-1].rank
        rows.append(RankRow(agents[i], rank, float(mean[i]), float(low[i]), float(high[i])))
    return rows


def rankings(m: Matrix, seed: int = 0) -> dict[str, list[RankRow]]:
    rng = np.random.default_rng(seed)
    return {
        "Borda (share of agents beaten per task)": _rank_rows(m.agents, borda_points(m), rng),
        "Mean normalised score (0 = worst, 1 = best per task)": _rank_rows(m.agents, normalised(m), rng),
    }


def performance_profile(m: Matrix, taus: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dolan–Moré style profile: for each agent, the share of tasks where its score is within a
    relative gap ``tau`` of the best agent's (a missing result is never within any gap).
    """
    o = m.oriented
    best = np.nanmax(np.where(np.isnan(o), -np.inf, o), axis=0)
    scale = np.maximum(np.abs(best), 1e-12)
    gap = np.where(np.isnan(o), np.inf, (best[None, :] - o) / scale[None, :])
    finite = gap[np.isfinite(gap)]
    if taus is None:
        top = float(finite.max()) if finite.size else 1.0
        taus = np.unique(np.concatenate([[0.0], np.sort(finite), [max(top * 1.1, 1e-6)]]))
    profile = (gap[:, None, :] <= taus[None, :, None] + 1e-12).mean(axis=2)
    return taus, profile


def _profile_plot(m: Matrix) -> str:
    taus, prof = performance_profile(m)
    series = [Series(agent, [(float(t), float(p)) for t, p in zip(taus, prof[i], strict=True)],
                     PALETTE[i % len(PALETTE)], step=True) for i, agent in enumerate(m.agents)]
    return line_plot(series, "relative gap to the best agent on the task (τ)", "share of tasks within τ",
                     css_class="plot profile", y_range=(0.0, 1.05))


def _heat_colour(t: float) -> str:
    light, dark = (255, 255, 255), (56, 142, 60)
    rgb = tuple(round(a + (b - a) * t) for a, b in zip(light, dark, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _heatmap(m: Matrix) -> str:
    norm = normalised(m)
    o = np.where(np.isnan(m.oriented), -np.inf, m.oriented)
    head = "".join(f"<th>{esc(a)}</th>" for a in m.agents)
    rows = []
    for j, task in enumerate(m.tasks):
        arrow = "↑" if m.higher[j] else "↓"
        cells = []
        best = o[:, j].max()
        for i in range(len(m.agents)):
            value = m.scores[i, j]
            runs = f"{int(m.valid_runs[i, j])}/{int(m.runs[i, j])}"
            if np.isnan(value):
                cells.append(f'<td class="cell missing" title="no valid run ({runs} valid)">– <small>{runs}</small></td>')
                continue
            cls = "cell best" if o[i, j] == best else "cell"
            colour = _heat_colour(0.15 + 0.85 * float(norm[i, j]))
            text_colour = "#fff" if norm[i, j] > 0.6 else "#111"
            cells.append(f'<td class="{cls}" style="background:{colour};color:{text_colour}" '
                         f'title="{esc(f"{m.agents[i]} on {task}: {value:.5g} ({runs} valid runs)")}">'
                         f"{fmt(float(value), 4)} <small>{runs}</small></td>")
        rows.append(f"<tr><th>{esc(task)} <small>{esc(m.metrics[j])} {arrow}</small></th>{''.join(cells)}</tr>")
    return (f'<table class="heat"><thead><tr><th>task \\ agent</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            '<p class="note">Mean test score over valid seeds (valid/total runs); shade: per-task '
            "normalised score; outlined: the task's best.</p>")


def winners(m: Matrix) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    o = m.oriented
    for j, task in enumerate(m.tasks):
        col = o[:, j]
        ok = ~np.isnan(col)
        if not ok.any():
            out.append({"task": task, "winners": [], "score": None, "runner_up": None, "margin": None})
            continue
        best = col[ok].max()
        win = [m.agents[i] for i in range(len(m.agents)) if ok[i] and col[i] == best]
        rest = sorted((col[i], m.agents[i]) for i in range(len(m.agents)) if ok[i] and col[i] < best)
        runner = rest[-1] if rest else None
        out.append({"task": task, "winners": win, "score": float(m.scores[m.agents.index(win[0]), j]),
                    "runner_up": runner[1] if runner else None,
                    "margin": float(best - runner[0]) if runner else None})
    return out


def _winners_table(m: Matrix) -> str:
    rows = [[esc(w["task"]), esc(", ".join(w["winners"]) or "no valid run"), fmt(w["score"]),
             esc(w["runner_up"] or "–"), fmt(w["margin"], 3)] for w in winners(m)]
    return table(["task", "winner", "test score", "runner-up", "margin"], rows, "winners")


def _rank_table(rows: list[RankRow], m: Matrix, frame: pd.DataFrame) -> str:
    body = []
    for r in rows:
        i = m.agents.index(r.agent)
        valid_rate = m.valid_runs[i].sum() / max(1.0, m.runs[i].sum())
        sub = frame[frame["agent"].astype(str) == r.agent]
        cost = pd.to_numeric(sub["cost"], errors="coerce").mean() if "cost" in sub.columns else float("nan")
        body.append([str(r.rank), esc(r.agent), f"{r.score:.3f}", f"[{r.ci_low:.3f}, {r.ci_high:.3f}]",
                     f"{valid_rate:.0%}", "–" if np.isnan(cost) else f"${cost:.4f}"])
    return table(["rank", "agent", "score", "95% CI (bootstrap over tasks)", "valid runs", "mean cost"],
                 body, "ranking")


PACKAGE_METHODS = ("borda", "copeland", "schulze", "kemeny")  # fast enough to bootstrap on every render
PACKAGE_BOOTSTRAP = 200


def package_rankings(frame: pd.DataFrame) -> dict[str, Any]:
    """The ``airlab rank`` tables (:func:`airlab.ranking.rank`) on the same test scores."""
    from airlab.ranking import rank

    table_in = frame.drop(columns=["score"], errors="ignore").rename(columns={SCORE_COLUMN: "score"})
    keep = [c for c in ("agent", "task", "score", "higher_is_better", "seed", "valid") if c in table_in.columns]
    return rank(table_in[keep], list(PACKAGE_METHODS), bootstrap=PACKAGE_BOOTSTRAP)


def _mlgym_profile(frame: pd.DataFrame) -> str:
    """MLGym's performance profiles and AUP (from :mod:`airlab.ranking.profiles`) as SVG + table."""
    from airlab.ranking import load_results
    from airlab.ranking.profiles import performance_profile_svg, performance_profiles

    table_in = frame.drop(columns=["score"], errors="ignore").rename(columns={SCORE_COLUMN: "score"})
    keep = [c for c in ("agent", "task", "score", "higher_is_better", "seed", "valid") if c in table_in.columns]
    profiles = performance_profiles(load_results(table_in[keep]).matrix("mean"))
    svg = performance_profile_svg(profiles)
    svg = svg[svg.index("<svg"):]  # drop the XML prologue: the SVG is inlined in the page
    order = np.argsort(-profiles.aup)
    rows = [[str(i + 1), esc(profiles.agents[j]), fmt(float(profiles.aup[j]), 4)] for i, j in enumerate(order)]
    return (f'<div class="plot profile">{svg}</div>'
            + table(["rank", "agent", "AUP"], rows, "area under the performance profile (MLGym)"))


def _package_tables(frame: pd.DataFrame) -> str:
    parts = []
    for name, res in package_rankings(frame).items():
        rows = [[str(a.rank), esc(a.agent), fmt(a.score, 4), f"[{fmt(a.ci_low, 4)}, {fmt(a.ci_high, 4)}]"]
                for a in res.agents]
        parts.append(f"<h3>{esc(name)} <small>{esc(res.description)}</small></h3>"
                     + table(["rank", "agent", "score", f"95% CI ({PACKAGE_BOOTSTRAP} bootstrap draws)"],
                             rows, "ranking package"))
    return "".join(parts)


@dataclass
class SuiteRow:
    """One agent's numbers as its tasks' suites report them; None where it has no such task."""

    agent: str
    mle_runs: int = 0
    any_medal: float | None = None
    gold: float | None = None
    above_median: float | None = None
    airs_tasks: int = 0
    airs_score: float | None = None
    program_runs: int = 0
    beats_starter: float | None = None


def _reports(frame: pd.DataFrame) -> list[dict[str, Any]]:
    if "report" not in frame.columns:
        return [{} for _ in range(len(frame))]
    from airlab.store.results import parse_report

    return [parse_report(v) for v in frame["report"]]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def suite_summary(frame: pd.DataFrame) -> list[SuiteRow]:
    """Per agent: MLE-bench's headline rates, AIRS-Bench's mean normalised score and the share of
    program-task runs beating the starter code; ``[]`` when no row has a report or a baseline.

    As the suites count them: the MLE-bench rates are over all of the agent's runs of MLE-bench
    tasks (a run without a medal in its report, or without a report, has none); the AIRS-Bench
    score averages each AIRS task's runs (a run without a normalised score is 0, a task the agent
    did not run is 0) and then the tasks; a program-task run beats the starter code when it is
    valid and its test score is strictly better than the starter code's in the same run.
    """
    if frame.empty:
        return []
    reports = _reports(frame)
    tasks = frame["task"].astype(str).to_numpy()
    agents_col = frame["agent"].astype(str).to_numpy()
    is_mle = np.array([r.get("suite") == "mlebench" or "any_medal" in r for r in reports], dtype=bool)
    is_airs = np.array(["airs_normalised_score" in r for r in reports], dtype=bool)
    baseline = (pd.to_numeric(frame["baseline_test_score"], errors="coerce").to_numpy(dtype=float)
                if "baseline_test_score" in frame.columns else np.full(len(frame), np.nan))
    is_program = ~np.isnan(baseline)
    if not (is_mle.any() or is_airs.any() or is_program.any()):
        return []
    mle_tasks, airs_tasks = set(tasks[is_mle]), list(dict.fromkeys(tasks[is_airs]))
    program_tasks = set(tasks[is_program])
    test = pd.to_numeric(frame[SCORE_COLUMN], errors="coerce").to_numpy(dtype=float)
    valid = frame["valid"].astype(bool).to_numpy() if "valid" in frame.columns else np.ones(len(frame), bool)
    higher = frame["higher_is_better"].astype(bool).to_numpy()
    with np.errstate(invalid="ignore"):
        beats = valid & np.where(higher, test > baseline, test < baseline)  # NaN compares False
    airs_ns = np.array([_number(r.get("airs_normalised_score")) for r in reports])
    airs_ns = np.where(np.isfinite(airs_ns), airs_ns, 0.0)

    def share(mask: np.ndarray, key: str) -> float:
        return float(np.mean([bool(reports[k].get(key)) for k in np.flatnonzero(mask)]))

    out = []
    for agent in dict.fromkeys(agents_col):
        row = SuiteRow(agent)
        mine = agents_col == agent
        mle = mine & np.isin(tasks, list(mle_tasks))
        if mle.any():
            row.mle_runs = int(mle.sum())
            row.any_medal, row.gold = share(mle, "any_medal"), share(mle, "gold_medal")
            row.above_median = share(mle, "above_median")
        if airs_tasks and (mine & np.isin(tasks, airs_tasks)).any():
            per_task = [float(airs_ns[mine & (tasks == t)].mean()) if (mine & (tasks == t)).any() else 0.0
                        for t in airs_tasks]
            row.airs_tasks, row.airs_score = len(airs_tasks), float(np.mean(per_task))
        program = mine & np.isin(tasks, list(program_tasks))
        if program.any():
            row.program_runs, row.beats_starter = int(program.sum()), float(beats[program].mean())
        out.append(row)
    return out


def _suites_table(frame: pd.DataFrame) -> str:
    """The "What the suites report" table, or "" when no row has a suite report or a baseline."""
    rows = suite_summary(frame)
    if not rows:
        return ""

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value:.1%}"

    mle = any(r.mle_runs for r in rows)
    airs = any(r.airs_tasks for r in rows)
    program = any(r.program_runs for r in rows)
    headers = ["agent"]
    headers += ["MLE-bench runs", "any medal", "gold", "above median"] if mle else []
    headers += ["AIRS-Bench tasks", "mean normalised score"] if airs else []
    headers += ["program-task runs", "beat the starter code"] if program else []
    body = []
    for r in rows:
        cells = [esc(r.agent)]
        if mle:
            cells += [str(r.mle_runs), pct(r.any_medal), pct(r.gold), pct(r.above_median)]
        if airs:
            cells += [str(r.airs_tasks) if r.airs_tasks else "–",
                      "–" if r.airs_score is None else f"{r.airs_score:.3f}"]
        if program:
            cells += [str(r.program_runs), pct(r.beats_starter)]
        body.append(cells)
    notes = []
    if mle:
        notes.append("MLE-bench: share of the agent's runs of MLE-bench tasks whose test submission "
                     "earns any medal, gold, or beats the median of the competition's leaderboard.")
    if airs:
        notes.append("AIRS-Bench: normalised score (0 = worst, 1 = state of the art) averaged over each "
                     "task's runs, then over the AIRS tasks; a run without a score and a task not run count 0.")
    if program:
        notes.append("Program tasks: share of runs with a valid test score strictly better than the "
                     "starter code's, scored in the same run.")
    return (table(headers, body, "suites")
            + "".join(f'<p class="note">{esc(n)}</p>' for n in notes))


def render_leaderboard(folder: Path, frame: pd.DataFrame | None = None, back_link: bool = False) -> str:
    frame = read_bench(folder) if frame is None else frame
    m = score_matrix(frame)
    sections = []
    for title, rows in rankings(m).items():
        sections.append(f"<h3>{esc(title)}</h3>{_rank_table(rows, m, frame)}")
    sections.append(_package_tables(frame))
    n_runs = len(frame)
    suites = _suites_table(frame)
    suites_section = (f'<section class="card" id="suites"><h2>What the suites report</h2>{suites}</section>'
                      if suites else "")
    back = '<a class="back" href="/">← all runs</a>' if back_link else ""
    body = (
        f"<header><h1>Leaderboard · {esc(folder.name or str(folder))}</h1>{back}</header><div class=\"page\">"
        f'<section class="card"><p>{len(m.agents)} agents × {len(m.tasks)} tasks, {n_runs} runs. '
        "Scores are test scores of each run's selected node; an agent without a valid run on a task "
        "counts as the worst there.</p></section>"
        f'<section class="card" id="rankings"><h2>Rankings</h2>{"".join(sections)}</section>'
        f"{suites_section}"
        f'<section class="card" id="profile"><h2>Performance profile (MLGym: ratio to the best feasible '
        f'agent per task, ε = 0.05 penalty, log τ grid)</h2>{_mlgym_profile(frame)}'
        f'<h3>Relative gap to the best agent</h3>{_profile_plot(m)}</section>'
        f'<section class="card" id="heatmap"><h2>Task × agent</h2>{_heatmap(m)}</section>'
        f'<section class="card" id="winners"><h2>Per-task winners</h2>{_winners_table(m)}</section></div>'
    )
    return page(f"airlab leaderboard · {folder.name}", body, {"data-page": "leaderboard"})


def write_leaderboard(folder: Path, out: Path | None = None) -> Path:
    target = out or folder / LEADERBOARD_FILE
    target.write_text(render_leaderboard(folder), encoding="utf-8")
    return target
