"""The exam timetabling solver on the ITC-2007 examination track (12 sets).

For each set: the hard violations and soft cost of the best timetable, both from the independent
scorer (``engine.scoring``, not the solver's own bookkeeping), the seconds to the first feasible
timetable, the winner's figure (T. Müller, best of 10 organiser runs, from the data README) and
our cost over it. The machine is printed first: the competition limit was a few minutes on 2007
hardware, and this solver is pure Python on whatever this is.

    .venv/bin/python bench/exams.py [--seconds 300] [--sets 1,2,...] [--seed 0]
                                    [--data ../shared/data/timetabling/itc2007-exam]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _machine import describe
from campus.domains.academic.exams.engine.itc2007 import read_exam
from campus.domains.academic.exams.engine.scoring import score
from campus.domains.academic.exams.engine.solve import solve

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared/data/timetabling/itc2007-exam"
# Müller (winner), best of the organisers' 10 runs: Table 2 of his solver description
MULLER = {
    1: 4370,
    2: 400,
    3: 10049,
    4: 18141,
    5: 2988,
    6: 26585,
    7: 4213,
    8: 7742,
    9: 1030,
    10: 16682,
    11: 34129,
    12: 5535,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="time limit per set")
    parser.add_argument("--sets", default=",".join(str(k) for k in MULLER))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    sets = [int(x) for x in args.sets.split(",") if x.strip()]
    unknown = [k for k in sets if k not in MULLER]
    if unknown:
        parser.error(f"no such set: {unknown}")
    print(describe())
    print(f"time limit {args.seconds:g} s per set, seed {args.seed}, data {args.data}\n")
    header = (
        f"{'set':>3} {'exams':>5} {'hard':>4} {'soft':>7} {'feasible at':>11} "
        f"{'iterations':>10} {'Müller':>7} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    ratios: list[float] = []
    infeasible: list[int] = []
    started = time.monotonic()
    for number in sets:
        path = args.data / f"exam_comp_set{number}.exam"
        if not path.exists():
            print(f"{number:>3} skipped: {path} not found")
            continue
        problem = read_exam(path)
        result = solve(problem, seconds=args.seconds, seed=args.seed)
        if result.solution is None or not result.feasible:
            infeasible.append(number)
            print(f"{number:>3} {len(problem.exams):>5} no feasible timetable: {result.reasons[0]}")
            continue
        checked = score(problem, result.solution)
        if checked.soft_total != result.cost:
            print(f"    !! the solver says {result.cost}, the scorer {checked.soft_total}")
        ratio = checked.soft_total / MULLER[number]
        ratios.append(ratio)
        first = f"{result.first_feasible:.1f} s" if result.first_feasible is not None else "-"
        print(
            f"{number:>3} {len(problem.exams):>5} {checked.hard_total:>4} "
            f"{checked.soft_total:>7} {first:>11} {result.iterations:>10} "
            f"{MULLER[number]:>7} {ratio:>6.2f}",
            flush=True,
        )
    print()
    if ratios:
        print(
            f"feasible on {len(ratios)} of {len(ratios) + len(infeasible)} sets; "
            f"cost / Müller: geometric mean {statistics.geometric_mean(ratios):.2f}, "
            f"best {min(ratios):.2f}, worst {max(ratios):.2f}"
        )
    if infeasible:
        print(f"no feasible timetable on sets {infeasible}")
    print(f"total {time.monotonic() - started:.0f} s")
    return 1 if infeasible else 0


if __name__ == "__main__":
    sys.exit(main())
