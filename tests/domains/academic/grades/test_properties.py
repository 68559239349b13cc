"""Properties of the grade arithmetic against independent formulas written here with exact
fractions: the weighted total, the grade points of the two GPA tables, and the GPA weighted
by credits over the attempt that counts for each course."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from campus.domains.academic.grades import scales
from campus.domains.academic.grades.policy import out_of, problems
from campus.domains.academic.grades.schemas import PolicyIn

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
    policy = scales.DEFAULT_POLICY  # what a fresh install seeds
    assert Fraction(scales.points(policy, "4.0", score, "")) == points_40(Fraction(score))
    assert Fraction(scales.points(policy, "5.0", score, "")) == points_50(Fraction(score))
    assert scales.points(policy, "4.0", score, "", "absent") == 0


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
    found = scales.gpa_of(tried, scales.DEFAULT_POLICY, scale)
    if not credits:
        assert found.gpa is None
        return
    expected = sum(earned(r) * Fraction(r.credits) for r in best.values()) / credits
    assert Fraction(found.gpa) == half_up(expected, 2)
    assert Fraction(found.earned_credits) == sum(
        (Fraction(r.credits) for r in best.values() if r.passed), Fraction(0)
    )


@st.composite
def policies(draw: st.DrawFn) -> scales.Policy:
    """A valid policy: random bands (from 0, increasing bounds, non-decreasing points within
    the scale), random level points, and either make-up and retake rule."""
    tables = {}
    for key, default in scales.DEFAULT_SCALES.items():
        top = int(default.maximum * 10)
        lows = sorted(draw(st.sets(st.integers(1, 1000), max_size=12)))
        ladder = sorted(draw(st.lists(st.integers(0, top), min_size=len(lows) + 6)))
        bands = tuple(
            (Decimal(low) / 10, Decimal(p) / 10) for low, p in zip([0, *lows], ladder, strict=False)
        )
        tenths = [Decimal(p) / 10 for p in ladder[-5:]]
        levels = dict(zip(reversed(scales.FIVE_LEVELS), tenths, strict=True))
        pass_fail = {"failed": Decimal(ladder[0]) / 10, "passed": Decimal(ladder[-1]) / 10}
        tables[key] = scales.GpaScale(key, default.name, default.maximum, bands, levels, pass_fail)
    return scales.Policy(
        tables,
        pass_fail_counted=draw(st.booleans()),
        makeup=draw(st.sampled_from(scales.MAKEUP_RULES)),
        retake=draw(st.sampled_from(scales.RETAKE_RULES)),
    )


@settings(max_examples=200, deadline=None)
@given(policies(), marks, st.sampled_from(["4.0", "5.0"]))
def test_a_score_earns_the_points_of_the_highest_band_it_reaches(
    policy: scales.Policy, score: Decimal, scale: str
) -> None:
    assert not problems(PolicyIn.model_validate(out_of(policy).model_dump()))  # valid
    table = policy.scales[scale]
    reached = [points for low, points in table.bands if score >= low]
    assert scales.points(policy, scale, score, "") == reached[-1]
    assert 0 <= reached[-1] <= table.maximum


@settings(max_examples=300, deadline=None)
@given(policies(), st.lists(results, max_size=12), st.sampled_from(["4.0", "5.0"]))
def test_under_any_policy_a_course_passed_once_stays_passed(
    policy: scales.Policy, tried: list[scales.Attempted], scale: str
) -> None:
    """What ``queries.passed_courses`` says (any attempt passed) is what the GPA counts: the
    counted attempt of a course passed iff one of its attempts did; the retake rule picks
    the latest or the best among those."""
    counted = {r.course_id: r for r in scales.counting(tried, policy, scale)}
    assert set(counted) == {r.course_id for r in tried}
    for course, chosen in counted.items():
        attempts = [r for r in tried if r.course_id == course]
        assert chosen.passed == any(r.passed for r in attempts)
        rivals = [r for r in attempts if r.passed == chosen.passed]
        if policy.retake == "latest":
            assert chosen.order == max(r.order for r in rivals)
        else:
            best = max(scales.earned(policy, scale, r) or 0 for r in rivals)
            assert (scales.earned(policy, scale, chosen) or 0) == best
    found = scales.gpa_of(tried, policy, scale)
    assert found.gpa is None or 0 <= found.gpa <= policy.scales[scale].maximum
    assert found.earned_credits == sum(
        (r.credits for r in counted.values() if r.passed), Decimal(0)
    )
