"""Properties of the grade arithmetic against independent formulas written here with exact
fractions: the weighted total, the grade points of the two GPA tables, and the GPA weighted
by credits over the attempt that counts for each course."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from campus.domains.academic.grades import scales

marks = st.integers(min_value=0, max_value=1000).map(lambda n: Decimal(n) / 10)


@st.composite
def weighted(draw: st.DrawFn) -> tuple[list[Decimal], list[int]]:
    """Marks with weights summing to 100 (one to six components)."""
    cuts = sorted(draw(st.lists(st.integers(1, 99), max_size=5, unique=True)))
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
    return [draw(marks) for _ in weights], weights


def half_up(value: Fraction, places: int) -> Fraction:
    scale = 10**places
    scaled = value * scale
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole, scale)


@settings(max_examples=300, deadline=None)
@given(weighted())
def test_the_total_is_the_weighted_mean_rounded_half_up(
    case: tuple[list[Decimal], list[int]],
) -> None:
    given_marks, weights = case
    exact = sum(Fraction(m) * w for m, w in zip(given_marks, weights, strict=True)) / 100
    assert Fraction(scales.weighted_total(given_marks, weights)) == half_up(exact, 1)
    assert (
        min(given_marks)
        <= scales.weighted_total(given_marks, weights)
        <= max(given_marks) + Decimal("0.05")
    )


def points_40(score: Fraction) -> Fraction:
    table = [
        (90, "4.0"),
        (85, "3.7"),
        (82, "3.3"),
        (78, "3.0"),
        (75, "2.7"),
        (72, "2.3"),
        (68, "2.0"),
        (64, "1.5"),
        (60, "1.0"),
    ]
    return next((Fraction(p) for low, p in table if score >= low), Fraction(0))


def points_50(score: Fraction) -> Fraction:
    return half_up(score / 10 - 5, 1) if score >= 60 else Fraction(0)


@settings(max_examples=300, deadline=None)
@given(marks)
def test_grade_points_follow_the_tables(score: Decimal) -> None:
    assert Fraction(scales.points("4.0", score, "")) == points_40(Fraction(score))
    assert Fraction(scales.points("5.0", score, "")) == points_50(Fraction(score))
    assert scales.points("4.0", score, "", "absent") == 0


results = st.builds(
    scales.Attempted,
    course_id=st.integers(1, 6),
    credits=st.integers(1, 10).map(lambda n: Decimal(n) / 2),
    score=marks,
    level=st.just(""),
    special=st.sampled_from(["", "", "", "absent"]),
    attempt=st.sampled_from(["normal", "makeup", "retake"]),
    passed=st.just(True),
    order=st.integers(0, 100),
).map(
    lambda r: scales.Attempted(
        r.course_id,
        r.credits,
        r.score,
        r.level,
        r.special,
        r.attempt,
        not r.special and r.score >= 60,
        r.order,
    )
)


@settings(max_examples=300, deadline=None)
@given(st.lists(results, max_size=12), st.sampled_from(["4.0", "5.0"]))
def test_the_gpa_is_the_credit_weighted_mean_of_the_best_attempts(
    tried: list[scales.Attempted], scale: str
) -> None:
    table = points_40 if scale == "4.0" else points_50

    def earned(r: scales.Attempted) -> Fraction:
        if r.special:
            return Fraction(0)
        score = Fraction(r.score or 0)
        if r.attempt == "makeup" and score >= 60:
            score = Fraction(60)  # a passed make-up counts as 60 at most
        return table(score)

    best: dict[int, scales.Attempted] = {}
    for r in tried:
        key = (earned(r), r.passed, r.order)
        old = best.get(r.course_id)
        if old is None or key > (earned(old), old.passed, old.order):
            best[r.course_id] = r
    credits = sum((Fraction(r.credits) for r in best.values()), Fraction(0))
    found = scales.gpa_of(tried, scale)
    if not credits:
        assert found.gpa is None
        return
    expected = sum(earned(r) * Fraction(r.credits) for r in best.values()) / credits
    assert Fraction(found.gpa) == half_up(expected, 2)
    assert Fraction(found.earned_credits) == sum(
        (Fraction(r.credits) for r in best.values() if r.passed), Fraction(0)
    )
