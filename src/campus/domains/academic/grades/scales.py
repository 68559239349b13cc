"""The arithmetic of grades, free of the database: a weighted total, the level of a score,
grade points on the 4.0 and 5.0 scales, which attempt of a course counts, and a GPA weighted
by credits. The property tests check these against independent formulas."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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
    highest first; a score below every band earns 0."""

    key: str
    name: str
    bands: tuple[tuple[Decimal, Decimal], ...]
    levels: dict[str, Decimal]


def _bands(*pairs: tuple[int, str]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((Decimal(low), Decimal(points)) for low, points in pairs)


GPA_SCALES: dict[str, GpaScale] = {
    # The common 4.0 table of Chinese universities (教育部推荐 / 北大 style bands).
    "4.0": GpaScale(
        "4.0",
        "4.0 分制",
        _bands(
            (90, "4.0"),
            (85, "3.7"),
            (82, "3.3"),
            (78, "3.0"),
            (75, "2.7"),
            (72, "2.3"),
            (68, "2.0"),
            (64, "1.5"),
            (60, "1.0"),
        ),
        {
            "excellent": Decimal("4.0"),
            "good": Decimal("3.0"),
            "fair": Decimal("2.0"),
            "pass": Decimal("1.0"),
            "fail": Decimal(0),
        },
    ),
    # The 5.0 table: a point per ten marks above 50 (60 → 1.0, 95 → 4.5, 100 → 5.0).
    "5.0": GpaScale(
        "5.0",
        "5.0 分制",
        (),
        {
            "excellent": Decimal("4.5"),
            "good": Decimal("3.5"),
            "fair": Decimal("2.5"),
            "pass": Decimal("1.5"),
            "fail": Decimal(0),
        },
    ),
}
DEFAULT_SCALE = "4.0"

# 学业预警: failed credits (of the counted results) at or above which a student is warned.
WARNING_FAILED_CREDITS = Decimal(10)


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


def points(scale_key: str, score: Decimal | None, level: str, special: str = "") -> Decimal | None:
    """Grade points of a result on the GPA scale; None for pass/fail results (outside GPA)."""
    gpa = GPA_SCALES[scale_key]
    if level in PASS_FAIL:
        return None
    if special:
        return Decimal(0)
    if score is None:
        return gpa.levels.get(level, Decimal(0))
    if score < PASS_MARK:
        return Decimal(0)
    if gpa.key == "5.0":
        return (score / 10 - 5).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)
    for low, earned in gpa.bands:
        if score >= low:
            return earned
    return Decimal(0)


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


def counted_score(result: Attempted) -> Decimal | None:
    """A passed make-up (补考) counts as 60 at most; every other result as it stands."""
    if result.attempt == "makeup" and result.score is not None and result.passed:
        return min(result.score, PASS_MARK)
    return result.score


def counted_level(result: Attempted) -> str:
    if result.attempt == "makeup" and result.passed and result.level in FIVE_LEVELS:
        return "pass"
    return result.level


def counting(results: Iterable[Attempted], scale_key: str = DEFAULT_SCALE) -> list[Attempted]:
    """The result that counts for each course: the one earning the most grade points after
    the make-up cap (a retake, 重修, thus replaces a worse earlier result, and a failed retake
    does not spoil an earlier pass); on a tie the latest."""
    best: dict[int, tuple[tuple[Decimal, bool, int], Attempted]] = {}
    for r in results:
        earned = points(scale_key, counted_score(r), counted_level(r), r.special)
        key = (earned if earned is not None else Decimal(-1), r.passed, r.order)
        if r.course_id not in best or key > best[r.course_id][0]:
            best[r.course_id] = (key, r)
    return [pair[1] for pair in best.values()]


@dataclass(frozen=True)
class Gpa:
    gpa: Decimal | None  # None when no graded credits
    graded_credits: Decimal
    earned_credits: Decimal
    failed_credits: Decimal


def gpa_of(results: Iterable[Attempted], scale_key: str = DEFAULT_SCALE) -> Gpa:
    """Σ points × credits / Σ credits over the counted results (pass/fail ones left out),
    rounded half up to two decimals; earned and failed credits of the counted results."""
    weighted = Decimal(0)
    graded = earned = failed = Decimal(0)
    for r in counting(results, scale_key):
        earned_points = points(scale_key, counted_score(r), counted_level(r), r.special)
        if r.passed:
            earned += r.credits
        elif r.special != "deferred":
            failed += r.credits
        if earned_points is None:
            continue
        weighted += earned_points * r.credits
        graded += r.credits
    gpa = (weighted / graded).quantize(TWO_PLACES, rounding=ROUND_HALF_UP) if graded else None
    return Gpa(gpa, graded, earned, failed)
