"""The timetabling solver (排课) on the ITC-2007 curriculum-based track (UD2 costs).

For each instance: the hard violations and the UD2 cost of the returned timetable, both from the
independent scorer (``engine.scoring``, not the solver's own number), the time to the first
feasible timetable, the best known cost, the ITC-2007 winner's cost and the ratio to best known.
A summary counts the feasible runs and those at or below the winner. The data is read from
``../shared/data/timetabling/itc2007-cbctt`` (or ``--data``); it is never copied.

    .venv/bin/python bench/timetabling.py --instances comp01..comp21 --seconds 300
    .venv/bin/python bench/timetabling.py --instances comp01,comp05 --seconds 60 --ectt
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _machine import describe
from campus.domains.academic.timetabling.engine import itc2007, scoring
from campus.domains.academic.timetabling.engine.solve import solve

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "timetabling" / "itc2007-cbctt"

# (best known, ITC-2007 winner), UD2; from the data README.
REFERENCE = {
    "comp01": (5, 5),
    "comp02": (24, 51),
    "comp03": (64, 84),
    "comp04": (35, 37),
    "comp05": (284, 330),
    "comp06": (27, 48),
    "comp07": (6, 20),
    "comp08": (37, 41),
    "comp09": (96, 109),
    "comp10": (4, 16),
    "comp11": (0, 0),
    "comp12": (298, 333),
    "comp13": (59, 66),
    "comp14": (51, 59),
    "comp15": (64, 84),
    "comp16": (18, 34),
    "comp17": (56, 83),
    "comp18": (61, 83),
    "comp19": (57, 62),
    "comp20": (4, 27),
    "comp21": (74, 103),
}


def instances(spec: str) -> list[str]:
    names: list[str] = []
    for part in spec.split(","):
        part = part.strip()
        if ".." in part:
            lo, hi = part.split("..")
            a, b = int(lo.removeprefix("comp")), int(hi.removeprefix("comp"))
            names.extend(f"comp{i:02d}" for i in range(a, b + 1))
        elif part:
            names.append(part if part.startswith("comp") else f"comp{int(part):02d}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", default="comp01..comp21")
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ectt", action="store_true", help="read ectt/compNN.ectt instead")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--solutions", type=Path, help="write compNN.sol files here")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"data not found: {args.data}", file=sys.stderr)
        return 2

    print(describe())
    print(
        f"time limit: {args.seconds:g} s per instance, seed {args.seed}, "
        f"format {'ectt' if args.ectt else 'ctt'}"
    )
    header = (
        f"{'inst':<7}{'hard':>5}{'cost':>7}{'first(s)':>10}{'time(s)':>9}"
        f"{'best':>6}{'winner':>8}{'ratio':>7}  components (cap/mwd/iso/stab)"
    )
    print(header)
    feasible = at_winner = runs = 0
    for name in instances(args.instances):
        path = args.data / "ectt" / f"{name}.ectt" if args.ectt else args.data / f"{name}.ctt"
        problem = itc2007.load(path)
        began = time.perf_counter()
        result = solve(problem, seconds=args.seconds, seed=args.seed)
        took = time.perf_counter() - began
        score = scoring.score(problem, result.placements)
        best, winner = REFERENCE.get(name, (None, None))
        runs += 1
        ok = result.feasible and score.hard == 0
        feasible += ok
        if ok and winner is not None and score.cost <= winner:
            at_winner += 1
        ratio = f"{score.cost / best:.2f}" if ok and best else ("-" if ok else "inf")
        first = f"{result.first_feasible:.2f}" if result.first_feasible is not None else "-"
        cost = str(score.cost) if ok else f"({score.cost})"
        print(
            f"{name:<7}{score.hard:>5}{cost:>7}{first:>10}{took:>9.1f}"
            f"{best if best is not None else '-':>6}{winner if winner is not None else '-':>8}"
            f"{ratio:>7}  {score.room_capacity}/{score.min_days}/{score.isolated}/"
            f"{score.room_stability}",
            flush=True,
        )
        if not ok:
            for line in result.conflicts:
                print(f"        {line}")
        if args.solutions is not None and result.placements:
            args.solutions.mkdir(parents=True, exist_ok=True)
            (args.solutions / f"{name}.sol").write_text(
                itc2007.dumps_solution(problem, result.placements), encoding="utf-8"
            )
    print(
        f"summary: feasible {feasible}/{runs}, at or below the ITC-2007 winner {at_winner}/{runs}"
    )
    return 0 if feasible == runs else 1


if __name__ == "__main__":
    raise SystemExit(main())
