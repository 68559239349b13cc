"""The decision rule of a step, for every mode, checked against its definition."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from campus.platform.workflow.steps import outcome

answers = st.lists(st.sampled_from(("approved", "rejected", "pending")), min_size=1, max_size=12)


@given(answers)
def test_all_needs_every_approval_and_no_rejection(statuses: list[str]) -> None:
    expected = (
        "reject" if "rejected" in statuses else ("pass" if set(statuses) == {"approved"} else None)
    )
    assert outcome("all", 50, statuses) == expected


@given(answers)
def test_any_takes_the_first_answer(statuses: list[str]) -> None:
    expected = "pass" if "approved" in statuses else ("reject" if "rejected" in statuses else None)
    assert outcome("any", 50, statuses) == expected


@given(answers, st.integers(1, 100))
def test_percent_passes_at_the_threshold_and_fails_when_out_of_reach(
    statuses: list[str], percent: int
) -> None:
    n, yes, no = len(statuses), statuses.count("approved"), statuses.count("rejected")
    result = outcome("percent", percent, statuses)
    if yes / n * 100 >= percent:
        assert result == "pass"
    elif (n - no) / n * 100 < percent:
        assert result == "reject"
    else:
        assert result is None


@given(answers, st.integers(1, 100))
def test_veto_any_rejection_ends_it(statuses: list[str], percent: int) -> None:
    result = outcome("veto", percent, statuses)
    if "rejected" in statuses:
        assert result == "reject"
    else:
        assert result == (
            "pass" if statuses.count("approved") * 100 >= percent * len(statuses) else None
        )


def test_waiting_sequential_signers_keep_the_step_open() -> None:
    assert outcome("sequential", 50, ["approved", "waiting"]) is None
    assert outcome("sequential", 50, ["approved", "approved"]) == "pass"
    assert outcome("sequential", 50, []) is None
