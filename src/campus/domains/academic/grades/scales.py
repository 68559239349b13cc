"""The arithmetic of grades, free of the database: a weighted total, the level of a score,
grade points on the 4.0 and 5.0 scales of a grade policy, which attempt of a course counts,
and a GPA weighted by credits. ``DEFAULT_POLICY`` is what a fresh install seeds; the
registrar changes it (``grades/policy.py``). The property tests check these against
independent formulas."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ONE_PLACE = Decimal("0.1")
TWO_PLACES = Decimal("0.01")
PASS_MARK = Decimal(60)

SCALES = ("percentage", "five_level", "pass_fail")
FIVE_LEVELS = ("excellent", "good", "fair", "pass", "fail")  # 优 良 中 及格 不及格
PASS_FAIL = ("passed", "failed")  # 通过 不通过
LEVELS_OF_SCALE: dict[str, tuple[str, ...]] = {
    "percentage": (),
    "five_level": FIVE_LEVELS,
    "pass_fail": PASS_FAIL,
}
SPECIALS = ("absent", "deferred", "cheating")  # 缺考 缓考 作弊
ATTEMPTS = ("normal", "makeup", "retake")  # 正常 补考 重修

# The level a percentage score falls in (优 90–100, 良 80–89.9, 中 70–79.9, 及格 60–69.9).
LEVEL_FLOORS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(90), "excellent"),
    (Decimal(80), "good"),
    (Decimal(70), "fair"),
    (Decimal(60), "pass"),
)


@dataclass(frozen=True)
class GpaScale:
    """A mapping from scores and levels to grade points. ``bands``: (lowest score, points),
    lowest first, the first at 0; ``levels`` the points of the five levels; ``pass_fail`` of
    通过/不通过 (counted only when the policy says so); ``maximum`` the scale's top."""

    key: str
    name: str
    maximum: Decimal
    bands: tuple[tuple[Decimal, Decimal], ...]
    levels: dict[str, Decimal]
    pass_fail: dict[str, Decimal]

    def band_points(self, score: Decimal) -> Decimal:
        """The points of the highest band whose lower bound the score reaches."""
        index = bisect_right(self.bands, score, key=lambda band: band[0])
        return self.bands[index - 1][1] if index else Decimal(0)


MAKEUP_RULES = ("cap", "actual")  # 补考及格按及格计 | 按实际成绩计
RETAKE_RULES = ("highest", "latest")  # 重修取最高 | 取最近一次


@dataclass(frozen=True)
class Policy:
    """The registrar's grade policy (成绩规则): the two GPA tables, whether pass/fail results
    count for GPA, the make-up (补考) and retake (重修) rules and the warning threshold."""

    scales: dict[str, GpaScale]
    pass_fail_counted: bool = False
    makeup: str = "cap"
    retake: str = "highest"
    warning_credits: Decimal = Decimal(10)


def _bands(*pairs: tuple[str, str]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(low), Decimal(points)) for low, points in pairs)


def _levels(*values: str) -> dict[str, Decimal]:
    return {level: Decimal(v) for level, v in zip(FIVE_LEVELS, values, strict=True)}


# The 5.0 table of the constants it replaces: score / 10 − 5 rounded half up to one decimal
# from 60 (60 → 1.0, 60.5 → 1.1 … 99.5 → 5.0), as bands.
_BANDS_50 = (
    (Decimal(0), Decimal(0)),
    (Decimal(60), Decimal("1.0")),
    *((Decimal("59.5") + k, (1 + Decimal(k) / 10).quantize(ONE_PLACE)) for k in range(1, 41)),
)

DEFAULT_SCALES: dict[str, GpaScale] = {
    # The common 4.0 table of Chinese universities (教育部推荐 / 北大 style bands).
    "4.0": GpaScale(
        "4.0",
        "4.0 分制",
        Decimal("4.0"),
        _bands(
            ("0", "0"),
            ("60", "1.0"),
            ("64", "1.5"),
            ("68", "2.0"),
            ("72", "2.3"),
            ("75", "2.7"),
            ("78", "3.0"),
            ("82", "3.3"),
            ("85", "3.7"),
            ("90", "4.0"),
        ),
        _levels("4.0", "3.0", "2.0", "1.0", "0"),
        {"passed": Decimal("1.0"), "failed": Decimal(0)},
    ),
    "5.0": GpaScale(
        "5.0",
        "5.0 分制",
        Decimal("5.0"),
        _BANDS_50,
        _levels("4.5", "3.5", "2.5", "1.5", "0"),
        {"passed": Decimal("1.5"), "failed": Decimal(0)},
    ),
}
GPA_KEYS = tuple(DEFAULT_SCALES)
DEFAULT_SCALE = "4.0"
# What a fresh install does: the tables above, pass/fail outside GPA, a passed make-up capped
# at the pass mark, the best attempt counting, a warning at 10 failed credits.
DEFAULT_POLICY = Policy(DEFAULT_SCALES)


def weights_total(weights: Iterable[int]) -> int:
    return sum(weights)


def weighted_total(marks: Sequence[Decimal], weights: Sequence[int]) -> Decimal:
    """Σ mark × weight / 100, rounded half up to one decimal."""
    raw = sum((m * w for m, w in zip(marks, weights, strict=True)), Decimal(0)) / Decimal(100)
    return raw.quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def level_of_score(score: Decimal) -> str:
    for floor, level in LEVEL_FLOORS:
        if score >= floor:
            return level
    return "fail"


def passed_of(scale: str, score: Decimal | None, level: str, special: str) -> bool:
    if special:
        return False
    if scale == "percentage":
        return score is not None and score >= PASS_MARK
    return level not in ("fail", "failed", "")


def points(
    policy: Policy, scale_key: str, score: Decimal | None, level: str, special: str = ""
) -> Decimal | None:
    """Grade points of a result on the GPA scale; None for pass/fail results when the policy
    leaves them outside GPA."""
    gpa = policy.scales[scale_key]
    if level in PASS_FAIL and not policy.pass_fail_counted:
        return None
    if special:
        return Decimal(0)
    if level in PASS_FAIL:
        return gpa.pass_fail[level]
    if score is None:
        return gpa.levels.get(level, Decimal(0))
    return gpa.band_points(score)


@dataclass(frozen=True)
class Attempted:
    """What the GPA needs of one result."""

    course_id: int
    credits: Decimal
    score: Decimal | None
    level: str
    special: str
    attempt: str
    passed: bool
    order: int = 0  # later results (a later term, a later attempt) have a higher order


def capped(policy: Policy, result: Attempted) -> bool:
    """Whether the make-up rule caps this result: a passed make-up (补考) under ``cap``."""
    return (
        policy.makeup == "cap"
        and result.attempt == "makeup"
        and result.passed
        and result.level not in PASS_FAIL
    )


def counted_score(policy: Policy, result: Attempted) -> Decimal | None:
    """A capped make-up counts as 60 at most; every other result as it stands."""
    if capped(policy, result) and result.score is not None:
        return min(result.score, PASS_MARK)
    return result.score


def counted_level(policy: Policy, result: Attempted) -> str:
    if capped(policy, result) and result.level in FIVE_LEVELS:
        return "pass"
    return result.level


def earned(policy: Policy, scale_key: str, result: Attempted) -> Decimal | None:
    """The grade points the result earns under the policy's make-up rule."""
    return points(
        policy,
        scale_key,
        counted_score(policy, result),
        counted_level(policy, result),
        result.special,
    )


def _preference(policy: Policy, scale_key: str, result: Attempted) -> tuple[Any, ...]:
    """A pass always beats a failure (a course passed once stays passed); among passes, or
    among failures, ``highest`` prefers the most points then the latest, ``latest`` the
    latest."""
    if policy.retake == "latest":
        return (result.passed, result.order)
    points_earned = earned(policy, scale_key, result)
    return (result.passed, Decimal(-1) if points_earned is None else points_earned, result.order)


def counting(
    results: Iterable[Attempted], policy: Policy, scale_key: str = DEFAULT_SCALE
) -> list[Attempted]:
    """The result that counts for each course under the retake rule (重修): by default the
    one earning the most grade points after the make-up rule, on a tie the latest."""
    best: dict[int, tuple[tuple[Any, ...], Attempted]] = {}
    for r in results:
        key = _preference(policy, scale_key, r)
        if r.course_id not in best or key > best[r.course_id][0]:
            best[r.course_id] = (key, r)
    return [pair[1] for pair in best.values()]


@dataclass(frozen=True)
class Gpa:
    gpa: Decimal | None  # None when no graded credits
    graded_credits: Decimal
    earned_credits: Decimal
    failed_credits: Decimal


def gpa_of(results: Iterable[Attempted], policy: Policy, scale_key: str = DEFAULT_SCALE) -> Gpa:
    """Σ points × credits / Σ credits over the counted results (pass/fail ones left out
    unless the policy counts them), rounded half up to two decimals; earned and failed
    credits of the counted results."""
    weighted = Decimal(0)
    graded = earned_credits = failed = Decimal(0)
    for r in counting(results, policy, scale_key):
        earned_points = earned(policy, scale_key, r)
        if r.passed:
            earned_credits += r.credits
        elif r.special != "deferred":
            failed += r.credits
        if earned_points is None:
            continue
        weighted += earned_points * r.credits
        graded += r.credits
    gpa = (weighted / graded).quantize(TWO_PLACES, rounding=ROUND_HALF_UP) if graded else None
    return Gpa(gpa, graded, earned_credits, failed)
