"""The decision rule of a step: from its assignees' answers, whether it passes, fails or waits.

Kept pure so that every mode can be checked exhaustively (tests/platform/workflow/test_steps.py).
"""

from __future__ import annotations

from typing import Literal

from campus.platform.workflow.schemas import Mode

Outcome = Literal["pass", "reject"] | None
OPEN = ("pending", "waiting")


def outcome(mode: Mode, percent: int, statuses: list[str]) -> Outcome:
    """``statuses`` are those of the step's current tasks (transferred and cancelled ones left
    out): ``approved``, ``rejected``, ``pending`` or ``waiting``."""
    total = len(statuses)
    approved = statuses.count("approved")
    rejected = statuses.count("rejected")
    if total == 0:
        return None
    match mode:
        case "any":
            if approved:
                return "pass"
            return "reject" if rejected else None
        case "all" | "sequential":
            if rejected:
                return "reject"
            return "pass" if approved == total else None
        case "veto":
            if rejected:
                return "reject"
            return "pass" if approved * 100 >= percent * total else None
        case "percent":
            if approved * 100 >= percent * total:
                return "pass"
            return "reject" if (total - rejected) * 100 < percent * total else None
    return None
