"""airlab.ranking against open-spiel's voting package: speed and accuracy.

Measures, on random preference profiles (4-12 agents, 10-10,000 votes):

* Soft Condorcet Optimization: airlab (full-batch L-BFGS-B on pairwise counts) against
  open-spiel's Python ``SoftCondorcetOptimizer`` and C++ ``pyspiel.sco`` — wall time and the
  normalised Kendall-tau distance of the ratings to the exact Kemeny-Young ranking;
* exact Kemeny-Young: airlab (subset DP / ILP) against open-spiel's brute force over all m!
  orders (run only up to 8 agents, beyond that it takes minutes);
* maximal lotteries: airlab (HiGHS LP + maximum entropy) against open-spiel (cvxpy LP).

Every timing is the median over ``--reps`` profiles of the same size, and every ratio compares
timings from the same run. Peers are timed from their native inputs: open-spiel from a
``PreferenceProfile`` (C++ SCO from its vote tuples), airlab from the rankings array (building
its ballots and pairwise counts is included).

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/ranking_vs_openspiel.py            # print markdown
    PYTHONPATH=src .venv/bin/python benchmarks/ranking_vs_openspiel.py --update BENCHMARKS.md
"""

from __future__ import annotations

import os

# Small dense problems: single-threaded BLAS for everyone (must precede the numpy import).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyspiel  # noqa: E402
from _common import write_section  # noqa: E402
from open_spiel.python.voting import base  # noqa: E402
from open_spiel.python.voting import kemeny_young as os_kemeny  # noqa: E402
from open_spiel.python.voting import soft_condorcet_optimization as os_sco  # noqa: E402

from airlab.ranking.ballots import ballots_from_rankings  # noqa: E402
from airlab.ranking.kemeny import kemeny  # noqa: E402
from airlab.ranking.lotteries import maximal_lotteries  # noqa: E402
from airlab.ranking.sco import soft_condorcet_optimization  # noqa: E402

SECTION = "## Ranking methods against open-spiel"
PEER_SCO = {
    "batch_size": 4,
    "iterations": 10_000,
    "learning_rate": 0.01,
    "temperature": 1.0,
    "lower": -100.0,
    "upper": 100.0,
}
SCO_GRID = [(m, v) for m in (4, 8, 12) for v in (10, 100, 1_000, 10_000)]
KEMENY_GRID = [(m, 1_000) for m in (4, 6, 8, 10, 12, 14, 16)]
BRUTE_FORCE_MAX = 8
ML_GRID = [(m, v) for m in (4, 8, 12) for v in (11, 1_001, 10_001)]


def profile_rankings(rng: np.random.Generator, m: int, v: int, model: str) -> np.ndarray:
    """Strict rankings (agent indices, best first) of ``v`` voters over ``m`` agents.

    ``util``: agents have a latent quality ~ N(0, 1) and each voter ranks quality + N(0, 1.5^2)
    noise (agents evaluated on noisy tasks); ``ic``: impartial culture (uniform random orders).
    """
    if model == "ic":
        util = rng.normal(size=(v, m))
    else:
        util = rng.normal(size=m)[None, :] + 1.5 * rng.normal(size=(v, m))
    return np.argsort(-util, axis=1)


def os_profile(rankings: np.ndarray) -> Any:
    m = rankings.shape[1]
    names = [f"a{i}" for i in range(m)]
    return base.PreferenceProfile(
        votes=[[names[i] for i in r] for r in rankings.tolist()], alternatives=names
    )


def kendall_tau_distance(ratings: np.ndarray, order: np.ndarray) -> float:
    """Share of agent pairs the ratings order differently from ``order`` (ties count 1/2)."""
    m = len(order)
    pos = np.empty(m)
    pos[order] = np.arange(m)
    above = pos[:, None] < pos[None, :]
    wrong = above & (ratings[:, None] < ratings[None, :])
    tied = above & (ratings[:, None] == ratings[None, :])
    return float((wrong.sum() + 0.5 * tied.sum()) / (m * (m - 1) / 2))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


@dataclass
class Row:
    label: dict[str, Any]
    times: dict[str, list[float]] = field(default_factory=dict)
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, key: str, seconds: float, value: float | None = None) -> None:
        self.times.setdefault(key, []).append(seconds)
        if value is not None:
            self.values.setdefault(key, []).append(value)

    def t(self, key: str) -> float:
        return statistics.median(self.times[key]) if key in self.times else float("nan")

    def v(self, key: str) -> float:
        return float(np.mean(self.values[key])) if key in self.values else float("nan")


def bench_sco(
    rng: np.random.Generator, model: str, m: int, v: int, reps: int, step: Callable[[], None]
) -> Row:
    row = Row({"model": model, "agents": m, "votes": v})
    for rep in range(reps):
        rankings = profile_rankings(rng, m, v, model)
        exact = kemeny(ballots_from_rankings(rankings, m).wins).order
        names = [f"a{i}" for i in range(m)]

        def ours(r: np.ndarray = rankings, seed: int = rep) -> np.ndarray:
            return soft_condorcet_optimization(ballots_from_rankings(r, m), seed=seed).ratings

        sec, ratings = timed(ours)
        row.add("airlab", sec, kendall_tau_distance(ratings, exact))

        tuples = [(1, [names[i] for i in r]) for r in rankings.tolist()]

        def cpp(t: list[Any] = tuples, seed: int = rep, names: list[str] = names) -> np.ndarray:
            solver = pyspiel.sco.SoftCondorcetOptimizer(
                t,
                rating_lower_bound=PEER_SCO["lower"],
                rating_upper_bound=PEER_SCO["upper"],
                batch_size=PEER_SCO["batch_size"],
                temperature=PEER_SCO["temperature"],
                rng_seed=seed,
            )
            solver.run_solver(PEER_SCO["iterations"], learning_rate=PEER_SCO["learning_rate"])
            got = solver.ratings()
            return np.array([got[n] for n in names])

        sec, ratings = timed(cpp)
        row.add("cpp", sec, kendall_tau_distance(ratings, exact))

        profile = os_profile(rankings)
        np.random.seed(rep)

        def python(p: Any = profile) -> np.ndarray:
            solver = os_sco.SoftCondorcetOptimizer(
                p,
                batch_size=PEER_SCO["batch_size"],
                rating_lower_bound=PEER_SCO["lower"],
                rating_upper_bound=PEER_SCO["upper"],
                temperature=PEER_SCO["temperature"],
            )
            got, _ = solver.run_solver(
                PEER_SCO["iterations"], learning_rate=PEER_SCO["learning_rate"]
            )
            return np.asarray(got, dtype=float)

        sec, ratings = timed(python)
        row.add("python", sec, kendall_tau_distance(ratings, exact))
        step()
    return row


def bench_kemeny(
    rng: np.random.Generator, m: int, v: int, reps: int, step: Callable[[], None]
) -> Row:
    row = Row({"agents": m, "votes": v})
    for _ in range(reps):
        rankings = profile_rankings(rng, m, v, "util")

        def ours(r: np.ndarray = rankings) -> Any:
            return kemeny(ballots_from_rankings(r, m).wins)

        sec, res = timed(ours)
        row.add("airlab", sec)
        row.label["solver"] = res.solver
        if m <= BRUTE_FORCE_MAX:
            profile = os_profile(rankings)

            def brute_force(p: Any = profile) -> Any:
                return os_kemeny.KemenyYoungVoting().run_election(p)

            sec, out = timed(brute_force)
            theirs = [int(a[1:]) for a in out.ranking]
            wins = ballots_from_rankings(rankings, m).wins
            same = float(np.triu(wins[np.ix_(theirs, theirs)], 1).sum() == res.agreement)
            row.add("open_spiel", sec, same)
        step()
    return row


def bench_ml(rng: np.random.Generator, m: int, v: int, reps: int, step: Callable[[], None]) -> Row:
    from open_spiel.python.voting import maximal_lotteries as os_ml

    row = Row({"agents": m, "votes": v})
    for _ in range(reps):
        rankings = profile_rankings(rng, m, v, "ic")

        def ours(r: np.ndarray = rankings) -> np.ndarray:
            b = ballots_from_rankings(r, m)
            return maximal_lotteries(b.margins, b.agents).scores

        sec, p_ours = timed(ours)
        row.add("airlab", sec)
        profile = os_profile(rankings)

        def peer(p: Any = profile) -> Any:
            return os_ml.MaximalLotteriesVoting(iterative=False).run_election(p)

        sec, out = timed(peer)
        p_theirs = np.array([out.get_score(f"a{i}") for i in range(m)], dtype=float)
        row.add("open_spiel", sec, float(np.abs(p_ours - p_theirs).max()))
        step()
    return row


def warm_up() -> None:
    """Run every contender once so that imports and one-off set-up are not timed."""
    rng = np.random.default_rng(123)
    bench_sco(rng, "util", 4, 10, 1, lambda: None)
    bench_kemeny(rng, 4, 10, 1, lambda: None)
    bench_ml(rng, 4, 11, 1, lambda: None)


def fmt_t(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_x(ratio: float) -> str:
    return "—" if not np.isfinite(ratio) else f"{ratio:,.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        # nproc honours OMP_NUM_THREADS, which this script sets: ask with a clean environment
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
        nproc = subprocess.run(
            ["nproc"], capture_output=True, text=True, check=True, env=env
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(os.cpu_count())
    import scipy

    return {
        "nproc": nproc,
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "open_spiel": _version("open_spiel"),
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


def markdown(
    sco: list[Row],
    kem: list[Row],
    ml: list[Row],
    info: dict[str, str],
    command: str,
    reps: int,
    elapsed: float,
    load_end: str,
) -> str:
    lines = [
        SECTION,
        "",
        f"Generated by `benchmarks/ranking_vs_openspiel.py` — command: `{command}`",
        "",
        f"Machine: `nproc` = {info['nproc']}, CPU: {info['cpu']}, Python {info['python']} "
        f"(numpy {info['numpy']}, scipy {info['scipy']}, open-spiel {info['open_spiel']}); "
        "BLAS limited to one thread for every contender. The machine is shared: load average "
        f"{info['load']} at the start and {load_end} at the end (1/5/15 min), so absolute "
        "times are noisy; ratios compare timings taken back to back on the same profiles. "
        f"Each cell is the median over {reps} random profiles of that size (accuracy: their "
        f"mean); total run time {elapsed:.0f} s.",
        "",
        "Profiles: `util` = agents with a latent quality ~ N(0, 1) ranked by each voter with "
        "N(0, 1.5²) noise (agents scored on noisy tasks); `ic` = impartial culture (uniformly "
        "random orders, many majority cycles — the hard case for approximating Kemeny).",
        "",
        "### Soft Condorcet Optimization",
        "",
        "Accuracy = normalised Kendall-tau distance of the ratings to the exact Kemeny-Young "
        "ranking (0 = identical, lower is better). airlab: defaults (full-batch sigmoid loss on "
        "the pairwise counts, L-BFGS-B with 4 starts, τ = 1, ratings in [-100, 100]). "
        "open-spiel C++ (`pyspiel.sco`) and Python (`SoftCondorcetOptimizer`): the settings of "
        "open-spiel's own example (`voting/examples/atari.py`): mini-batches of 4 votes, "
        "10,000 iterations, learning rate 0.01, τ = 1, ratings in [-100, 100].",
        "",
        "| profile | agents | votes | airlab | C++ | Python | speed-up vs C++ | "
        "speed-up vs Python | KT airlab | KT C++ | KT Python |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sco:
        lines.append(
            f"| {r.label['model']} | {r.label['agents']} | {r.label['votes']:,} | "
            f"{fmt_t(r.t('airlab'))} | {fmt_t(r.t('cpp'))} | {fmt_t(r.t('python'))} | "
            f"{fmt_x(r.t('cpp') / r.t('airlab'))} | {fmt_x(r.t('python') / r.t('airlab'))} | "
            f"{r.v('airlab'):.3f} | {r.v('cpp'):.3f} | {r.v('python'):.3f} |"
        )
    ours_kt = np.mean([r.v("airlab") for r in sco])
    cpp_kt = np.mean([r.v("cpp") for r in sco])
    py_kt = np.mean([r.v("python") for r in sco])
    lines += [
        "",
        f"Mean Kendall-tau distance over all rows: airlab {ours_kt:.4f}, C++ {cpp_kt:.4f}, "
        f"Python {py_kt:.4f}. Median speed-up: "
        f"{fmt_x(float(np.median([r.t('cpp') / r.t('airlab') for r in sco])))} vs C++, "
        f"{fmt_x(float(np.median([r.t('python') / r.t('airlab') for r in sco])))} vs Python.",
        "",
        "### Exact Kemeny-Young",
        "",
        f"airlab: the agents are split into the strongly connected components of the majority graph, each solved by the subset dynamic programme up to 13 agents and by an ILP (HiGHS) above, so *solver* says dp wherever every component is that small; open-spiel: "
        f"brute force over all m! orders, run only up to {BRUTE_FORCE_MAX} agents (9 agents "
        "already take minutes in pure Python). *Same optimum* checks that both orders have the "
        "same Kemeny agreement.",
        "",
        "| agents | votes | airlab | solver | open-spiel brute force | speed-up | same optimum |",
        "|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in kem:
        has_peer = "open_spiel" in r.times
        same = ("yes" if r.v("open_spiel") == 1.0 else "NO") if has_peer else "—"
        lines.append(
            f"| {r.label['agents']} | {r.label['votes']:,} | {fmt_t(r.t('airlab'))} | "
            f"{r.label['solver']} | {fmt_t(r.t('open_spiel')) if has_peer else 'not run'} | "
            f"{fmt_x(r.t('open_spiel') / r.t('airlab')) if has_peer else '—'} | {same} |"
        )
    lines += [
        "",
        "### Maximal lotteries",
        "",
        "Impartial-culture profiles with an odd number of votes (the maximal lottery is then "
        "unique). airlab: HiGHS LP plus the maximum-entropy step; open-spiel: cvxpy (ECOS) LP. "
        "Both times include building the margin matrix from the votes.",
        "",
        "| agents | votes | airlab | open-spiel | speed-up | max abs. difference in p |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in ml:
        lines.append(
            f"| {r.label['agents']} | {r.label['votes']:,} | {fmt_t(r.t('airlab'))} | "
            f"{fmt_t(r.t('open_spiel'))} | {fmt_x(r.t('open_spiel') / r.t('airlab'))} | "
            f"{max(r.values['open_spiel']):.1e} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="profiles per grid cell")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="tiny grid (smoke test)")
    parser.add_argument("--update", type=Path, help="rewrite the section in this markdown file")
    args = parser.parse_args(argv)
    reps = 1 if args.quick else args.reps
    sco_grid = [(4, 10), (8, 100)] if args.quick else SCO_GRID
    kem_grid = [(4, 100), (6, 100)] if args.quick else KEMENY_GRID
    ml_grid = [(4, 11)] if args.quick else ML_GRID
    models = ["util", "ic"]
    info = machine()
    warm_up()
    rng = np.random.default_rng(args.seed)
    total = reps * (len(sco_grid) * len(models) + len(kem_grid) + len(ml_grid))
    start = time.perf_counter()
    sco_rows: list[Row] = []
    kem_rows: list[Row] = []
    ml_rows: list[Row] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as progress:
        bar = progress.add_task("ranking vs open-spiel", total=total)

        def step() -> None:
            progress.advance(bar)

        for model in models:
            for m, v in sco_grid:
                progress.update(bar, description=f"SCO {model} m={m} votes={v}")
                sco_rows.append(bench_sco(rng, model, m, v, reps, step))
        for m, v in kem_grid:
            progress.update(bar, description=f"Kemeny m={m}")
            kem_rows.append(bench_kemeny(rng, m, v, reps, step))
        for m, v in ml_grid:
            progress.update(bar, description=f"maximal lotteries m={m} votes={v}")
            ml_rows.append(bench_ml(rng, m, v, reps, step))
    elapsed = time.perf_counter() - start
    command = "PYTHONPATH=src .venv/bin/python benchmarks/ranking_vs_openspiel.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    load_end = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    text = markdown(sco_rows, kem_rows, ml_rows, info, command.strip(), reps, elapsed, load_end)
    sys.stdout.write(text)
    if args.update is not None:
        write_section(SECTION, text, args.update)


if __name__ == "__main__":
    main()
