"""The audit arithmetic against properties any correct audit has, on random programmes."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from campus.domains.academic.graduation.check import Group, Programme, Requirement, audit

CREDITS = st.sampled_from([Decimal("0.5"), Decimal(1), Decimal(2), Decimal(3), Decimal(4)])


@st.composite
def cases(draw: st.DrawFn) -> tuple[Programme, dict[int, Decimal]]:
    groups = [
        Group(g, f"组{g}", draw(st.sampled_from([Decimal(0), Decimal(2), Decimal(5)])))
        for g in range(1, draw(st.integers(1, 4)) + 1)
    ]
    courses = {
        c: Requirement(
            c,
            f"C{c}",
            f"课{c}",
            draw(st.sampled_from(groups)).id,
            draw(st.booleans()),
            draw(CREDITS),
        )
        for c in range(1, draw(st.integers(0, 12)) + 1)
    }
    programme = Programme(
        1, "方案", draw(st.sampled_from([Decimal(0), Decimal(6), Decimal(12)])), groups, courses
    )
    # Passed: some of the programme's courses (with their credits) and some outside it.
    inside = {c: r.credits for c, r in courses.items() if draw(st.booleans())}
    outside = {100 + i: draw(CREDITS) for i in range(draw(st.integers(0, 3)))}
    return programme, {**inside, **outside}


@given(cases())
def test_every_passed_credit_is_counted_once(case: tuple[Programme, dict[int, Decimal]]) -> None:
    programme, passed = case
    report = audit(programme, passed)
    assert report.total_earned == sum(passed.values(), Decimal(0))
    assert (
        sum((g.earned for g in report.groups), Decimal(0)) + report.outside_credits
        == report.total_earned
    )
    assert report.missing_total == max(programme.total_credits - report.total_earned, Decimal(0))


@given(cases())
def test_a_pass_means_every_requirement_is_met(case: tuple[Programme, dict[int, Decimal]]) -> None:
    programme, passed = case
    report = audit(programme, passed)
    required_missing = {c for c, r in programme.courses.items() if r.required and c not in passed}
    listed = {m.course_id for g in report.groups for m in g.missing_required}
    assert listed == required_missing
    for group, found in zip(programme.groups, report.groups, strict=True):
        assert found.missing_credits == max(group.min_credits - found.earned, Decimal(0))
    assert report.passed == (
        not required_missing
        and all(g.earned >= g.min_credits for g in report.groups)
        and report.total_earned >= programme.total_credits
    )


@given(cases(), st.integers(1, 12))
def test_passing_one_more_course_never_undoes_a_pass(
    case: tuple[Programme, dict[int, Decimal]], extra: int
) -> None:
    programme, passed = case
    before = audit(programme, passed)
    more = {
        **passed,
        extra: programme.courses[extra].credits if extra in programme.courses else Decimal(1),
    }
    after = audit(programme, more)
    assert after.total_earned >= before.total_earned
    assert not before.passed or after.passed
