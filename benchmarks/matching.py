"""Benchmark for the matching engine: prints time, peak memory and quality for several pool sizes.

Run:  .venv/bin/python benchmarks/matching.py            (all sections)
      .venv/bin/python benchmarks/matching.py --rows     (issue 18's goal rows only, as ROW lines)
      .venv/bin/python benchmarks/matching.py --quick    (smaller sizes)
      .venv/bin/python benchmarks/matching.py --sizes 1000,10000 --bound-max 10000

Each case runs in a fresh process so peak memory is that case's own. Quality is reported against the
strongest reference that is computable for the size: the exact optimum (MILP) for small pools, the
assignment (cycle-cover) upper bound on all pairs for pools up to --bound-max, and a random shuffle
with the same group sizes (what a naive tool does).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import sys
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from benchmarks.profiles import make_people, mentoring_problem, peer_problem, random_history  # noqa: E402
from bot.matching import MatchProblem, PastGroup, solve  # noqa: E402
from bot.matching.engine import solve_with  # noqa: E402
from bot.matching.features import build_features  # noqa: E402
from bot.matching.scoring import FORBIDDEN, Scorer, is_repeat  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _scorer(problem: MatchProblem) -> tuple[Scorer, dict[str, int]]:
    active = sorted((p for p in problem.participants if not p.paused), key=lambda p: p.id)
    feats = build_features(active, problem.history)
    scorer = Scorer(
        feats, problem.weights, problem.mode == "mentoring", problem.current_round, problem.avoid_repeat_rounds
    )
    return scorer, feats.index


def even_peer_problem(n: int, seed: int = 1, group_size: int = 2) -> MatchProblem:
    """A peer problem whose active headcount divides evenly, so all-pairs bounds apply."""
    problem = peer_problem(n, seed=seed, group_size=group_size)
    people = list(problem.participants)
    active = [i for i, p in enumerate(people) if not p.paused]
    for i in active[len(active) - len(active) % group_size :]:
        p = people[i]
        people[i] = type(p)(**{f: getattr(p, f) for f in p.__slots__} | {"paused": True})
    return MatchProblem("peer", tuple(people), group_size=group_size, seed=seed, history=problem.history)


def profile_objective(problem: MatchProblem, groups: list[list[str]]) -> tuple[float, int, int]:
    """Sum of pair scores without the hard in-window repeat cost (the soft fading penalty stays),
    plus the number of in-window repeats and of avoid-list breaches, for any grouping."""
    hard, index = _scorer(problem)
    soft = Scorer(hard.f, problem.weights, problem.mode == "mentoring", problem.current_round, 0)
    total, repeats, breaches = 0.0, 0, 0
    for grp in groups:
        for a, b in combinations([index[m] for m in grp], 2):
            s = soft.pair(a, b)
            if s == FORBIDDEN:
                breaches += 1
                continue
            repeats += is_repeat(hard.pair(a, b))
            total += s
    return total, repeats, breaches


def random_groups(problem: MatchProblem, seed: int = 99) -> list[list[str]]:
    """A random shuffle into the same group sizes, ignoring every rule (what a naive tool does)."""
    order = sorted(p.id for p in problem.participants if not p.paused)
    random.Random(seed).shuffle(order)
    g = problem.group_size
    groups = [order[i : i + g] for i in range(0, len(order) - len(order) % g, g)]
    for k, extra in enumerate(order[len(groups) * g :]):
        groups[k % len(groups)].append(extra)
    return groups


def pair_bound(problem: MatchProblem) -> float:
    """Upper bound on any pairing: half the best cycle cover of the full score matrix."""
    from bot.matching.cyclecover import assignment_dense
    from bot.matching.scoring import score_matrix

    scorer, _ = _scorer(problem)
    people = np.arange(scorer.n)
    succ = assignment_dense(score_matrix(scorer, people, people))
    return float(scorer.pairs(people, succ).sum() / 2)


def _timed_case(kind: str, args: dict) -> dict:
    """Runs in a child process: build the problem, then time one solve and record peak memory."""
    if kind == "peer":
        problem = even_peer_problem(args["n"], group_size=args.get("g", 2))
    else:
        problem = mentoring_problem(args["mentees"], args["mentors"], capacity=args["cap"])
    before = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    result = solve_with(problem, args.get("strategy", "auto"))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "active": sum(not p.paused for p in problem.participants),
        "time": elapsed,
        "cpu": cpu,
        "peak_mb": peak,
        "solve_mb": max(0.0, peak - before),
        "objective": result.stats.objective,
        "repeats": result.stats.repeats,
        "unmatched": len(result.unmatched),
        "solver": result.stats.solver,
    }
    if kind == "peer":
        out["profile"] = profile_objective(problem, [list(g.members) for g in result.groups])
        out["random"] = profile_objective(problem, random_groups(problem))
        if args.get("bound"):
            out["bound"] = pair_bound(problem)
    else:
        out["mentees_waiting"] = sum(1 for u in result.unmatched if u.id.startswith("E"))
        out["value"] = mentoring_value(problem, result)
        if args.get("exact_too"):
            exact = solve(problem, exact=True)
            out["exact"] = exact.stats.objective
            out["exact_value"] = mentoring_value(problem, exact)
            out["exact_time"] = exact.stats.elapsed_s
            out["exact_solver"] = exact.stats.solver
    return out


def mentoring_value(problem: MatchProblem, result) -> float:
    """What the mentoring solver maximises: the pair scores minus `mentor_spread` per extra slot used
    (a mentor's k-th mentee costs spread * (k - 1)), so the reference and the engine compare alike."""
    per_mentor = Counter(g.members[0] for g in result.groups)
    spread = problem.weights.mentor_spread
    return result.stats.objective - spread * sum(c * (c - 1) / 2 for c in per_mentor.values())


def run_case(kind: str, **args) -> dict:
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(_timed_case, (kind, args))


def peers(sizes: list[int], bound_max: int) -> None:
    print(
        "\n## Peer rounds (pairs), 12 rounds of random history, ~3% paused, ~1% with avoid lists; goal: "
        f">= 0.99 of the all-pairs bound (computed up to --bound-max {bound_max}; 10,000 takes a minute or two)"
    )
    print(
        f"{'people':>7} {'time s':>7} {'cpu s':>6} {'peak MB':>8} {'solve MB':>8} {'objective':>11} "
        f"{'repeats':>7} "
        f"{'vs bound':>8} {'vs random':>9} {'random: repeats, avoid breaches':>31}  solver"
    )
    for n in sizes:
        r = run_case("peer", n=n, bound=n <= bound_max)
        ratio = f"{r['objective'] / r['bound']:.4f}" if "bound" in r else "-"
        rand_obj, rand_rep, rand_breach = r["random"]
        print(
            f"{r['active']:>7} {r['time']:>7.2f} {r['cpu']:>6.2f} {r['peak_mb']:>8.0f} "
            f"{r['solve_mb']:>8.0f} "
            f"{r['objective']:>11.1f} {r['repeats']:>7} {ratio:>8} {r['profile'][0] / rand_obj:>9.2f} "
            f"{f'{rand_rep}, {rand_breach}':>31}  {r['solver']}"
        )


def small_exact(group_sizes: list[int], samples: int, n: int) -> None:
    print(f"\n## Heuristic vs exact MILP on {samples} random {n}-person sub-samples (from a 2,000-person pool)")
    pool = make_people(2000, seed=5, paused_share=0.0)
    history = random_history([p.id for p in pool], 12, seed=6)
    for g in group_sizes:
        ratios, t_exact, t_heur = [], 0.0, 0.0
        for s in range(samples):
            chosen = random.Random(s).sample(pool, n)
            ids = {p.id for p in chosen}
            hist = tuple(h for h in history if set(h.members) <= ids)
            problem = MatchProblem("peer", tuple(chosen), group_size=g, seed=s, history=hist)
            exact = solve_with(problem, "exact")
            heur = solve_with(problem, "heuristic")
            t_exact += exact.stats.elapsed_s
            t_heur += heur.stats.elapsed_s
            ratios.append(heur.stats.objective / exact.stats.objective)
        print(
            f"group size {g}: heuristic/exact min {min(ratios):.4f} mean {np.mean(ratios):.4f}; "
            f"mean time exact {t_exact / samples:.3f} s, heuristic {t_heur / samples:.3f} s"
        )


def groups_large(sizes: list[int], g: int) -> None:
    print(f"\n## Peer rounds in groups of {g}")
    for n in sizes:
        r = run_case("peer", n=n, g=g)
        rand_obj, rand_rep, rand_breach = r["random"]
        print(
            f"{r['active']:>7} people: {r['time']:.2f} s (cpu {r['cpu']:.2f} s), "
            f"peak {r['peak_mb']:.0f} MB, objective "
            f"{r['objective']:.1f}, repeats {r['repeats']}, {r['profile'][0] / rand_obj:.2f}x a random "
            f"shuffle (which has {rand_rep} repeats, {rand_breach} avoid breaches); {r['solver']}"
        )


def mentoring(cases: list[tuple[int, int, int]], exact_max: int) -> None:
    print(
        "\n## Mentoring rounds (mentors with capacity 3, 6 rounds of history); goal: >= 0.99 of the exact "
        "reference (solved in the same run: every pair up to 16M pairs, else each mentee's true top-100)"
    )
    for mentees, mentors, cap in cases:
        r = run_case("mentoring", mentees=mentees, mentors=mentors, cap=cap, exact_too=mentees <= exact_max)
        line = (
            f"{mentees} mentees / {mentors} mentors: {r['time']:.2f} s (cpu {r['cpu']:.2f} s), "
            f"peak {r['peak_mb']:.0f} MB "
            f"(solve +{r['solve_mb']:.0f} MB), objective {r['objective']:.1f}, repeats {r['repeats']}, "
            f"waitlisted {r['mentees_waiting']}, {r['solver']}"
        )
        if "exact" in r:
            ratio = r["value"] / r["exact_value"]
            line += (
                f"\n    exact reference: pair sum {r['exact']:.1f}, value {r['exact_value']:.1f} in "
                f"{r['exact_time']:.2f} s ({r['exact_solver']})"
                f"\n    ratio to exact: {ratio:.4f} (value = pair sum - spread), "
                f"{r['objective'] / r['exact']:.4f} (pair sum); goal >= 0.99: {'met' if ratio >= 0.99 else 'NOT met'}"
            )
        print(line)


def problem_json(problem: MatchProblem) -> dict:
    """The `tandem match` input document for a generated problem."""

    def person(p) -> dict:
        return {f: list(v) if isinstance(v, tuple) else v for f in p.__slots__ if (v := getattr(p, f)) is not None}

    return {
        "mode": problem.mode,
        "seed": problem.seed,
        "participants": [person(p) for p in problem.participants],
        "history": [{"members": list(g.members), "round": g.round} for g in problem.history],
    }


def cli_whole_process(n: int, goal_s: float = 5.0, goal_mb: float = 500.0) -> tuple[float, float]:
    """`tandem match` on an n-person peer file, timed from process start to exit, as a user runs it."""
    import json
    import subprocess
    import tempfile

    print(f"\n## `tandem match` whole process, {n:,} peers, 12 rounds of history; goal <= {goal_s} s, <= {goal_mb} MB")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "problem.json", Path(tmp) / "result.json"
        src.write_text(json.dumps(problem_json(peer_problem(n))), encoding="utf-8")
        root = Path(__file__).resolve().parents[1]
        cmd = [sys.executable, "-m", "tandem.cli", "match", "--input", str(src), "--output", str(out)]
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
        _, status, usage = os.wait4(child.pid, 0)  # this child's own usage, not the other cases'
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"tandem match failed with exit code {child.returncode}")
        cpu, peak = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
        groups = len(json.loads(out.read_text(encoding="utf-8"))["groups"])
    verdict = "met" if wall <= goal_s and peak <= goal_mb else "NOT met"
    print(
        f"{n:,} people: {wall:.2f} s wall ({wall / goal_s:.2f} of the goal), cpu {cpu:.2f} s, "
        f"peak {peak:.0f} MB ({peak / goal_mb:.2f} of the goal), {groups} groups; goal {verdict}"
    )
    return wall, peak


def repeats_check(n: int = 200, rounds: int = 12) -> None:
    print(f"\n## Repeats: {n}-person pool, {rounds} rounds matched by the engine, then round {rounds + 1}")
    people = make_people(n, seed=11, paused_share=0.0, avoid_share=0.02)
    history: list[PastGroup] = []
    per_round = []
    for rnd in range(1, rounds + 2):
        problem = MatchProblem("peer", tuple(people), seed=rnd, history=tuple(history))
        result = solve(problem)
        per_round.append(result.stats.repeats)
        history += [PastGroup(g.members, rnd) for g in result.groups]
    print(f"in-window repeats per round: {per_round} (round {rounds + 1}: {per_round[-1]})")
    rand = MatchProblem("peer", tuple(people), seed=1, history=tuple(history[: -(n // 2)]))
    print(
        f"random shuffle for round {rounds + 1} against the same history: "
        f"{profile_objective(rand, random_groups(rand))[1]} repeats"
    )


def row(key: str, measured: float, goal: float, unit: str, better: str) -> None:
    """One goal row in the shared benchmark format (benchmarks/table.py collects these)."""
    print(f"ROW\t{key}\t{measured:.4g}\t{goal:g}\t{unit}\t{better}", flush=True)


def goal_rows(size: int = 10000, cli_size: int = 50000) -> None:
    """Issue 18's matching rows in one run: quality against a reference solved in the same run, and
    `tandem match` on 50,000 peers as a whole process."""
    mentees, mentors = size, size * 2 // 5
    print(f"\n## Goal rows: mentoring {mentees:,} x {mentors:,}, peers {size:,}, `tandem match` {cli_size:,}")
    m = run_case("mentoring", mentees=mentees, mentors=mentors, cap=3, exact_too=True)
    print(
        f"mentoring: value {m['value']:.1f} vs exact {m['exact_value']:.1f} ({m['exact_solver']}); "
        f"{m['time']:.2f} s, exact {m['exact_time']:.2f} s"
    )
    p = run_case("peer", n=size, bound=True)
    print(f"peers: objective {p['objective']:.1f} vs all-pairs bound {p['bound']:.1f}; {p['time']:.2f} s")
    wall, peak = cli_whole_process(cli_size)
    suffix = "" if size == 10000 else f"_at_{size}"
    row(f"quality_mentoring_10k{suffix}", m["value"] / m["exact_value"], 0.99, "ratio", "higher")
    row(f"quality_peers_10k{suffix}", p["objective"] / p["bound"], 0.99, "ratio", "higher")
    cli = "" if cli_size == 50000 else f"_at_{cli_size}"
    row(f"match_50k_seconds{cli}", wall, 5, "s", "lower")
    row(f"match_50k_mb{cli}", peak, 500, "MB", "lower")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help="comma-separated peer pool sizes")
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument(
        "--rows", action="store_true", help="only issue 18's goal rows (quality at 10k, `tandem match` at 50k)"
    )
    parser.add_argument("--rows-size", type=int, default=10000, help="pool size of the quality rows (--rows)")
    parser.add_argument("--rows-cli", type=int, default=50000, help="peers in the `tandem match` row (--rows)")
    parser.add_argument("--bound-max", type=int, default=2000, help="largest pool for the all-pairs bound")
    parser.add_argument("--exact-max", type=int, default=10000, help="largest mentoring case with an exact reference")
    parser.add_argument(
        "--skip", default="", help="comma-separated sections to skip: peers,exact,groups,mentoring,repeats,cli"
    )
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([200, 1000, 10000] if args.quick else [200, 1000, 2000, 10000, 50000])
    )
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "?"
    print(f"matching benchmark, {mp.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {load}")
    if args.rows:
        goal_rows(args.rows_size, args.rows_cli)
        return
    if "peers" not in skip:
        peers(sizes, args.bound_max)
    if "exact" not in skip:
        small_exact([2, 3, 4], samples=3 if args.quick else 6, n=20 if args.quick else 24)
    if "groups" not in skip:
        groups_large([1000] if args.quick else [1000, 10000], 3)
    if "mentoring" not in skip:
        cases = [(1000, 400, 3)] if args.quick else [(1000, 400, 3), (5000, 2000, 3), (10000, 4000, 3)]
        mentoring(cases, exact_max=args.exact_max)
    if "repeats" not in skip:
        repeats_check()
    if "cli" not in skip:
        cli_whole_process(10000 if args.quick else 50000)


if __name__ == "__main__":
    main()
