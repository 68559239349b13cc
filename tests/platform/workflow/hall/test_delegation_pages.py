"""Delegation while away on its page: set, refused with reasons, listed, ended; only one's own."""

from __future__ import annotations

from tests.platform.workflow.hall.conftest import CastOf, field_error, page, post, redirected_to


async def test_set_list_and_end_a_delegation(cast_of: CastOf) -> None:
    cast = await cast_of("staff", "teacher")
    staff = cast["staff"]
    html = await page(staff, "/hall/delegations")
    assert 'data-testid="delegation-form"' in html and "在读证明" in html  # processes offered
    missing = await post(
        staff, "/hall/delegations", {"starts_at": "", "ends_at": "2026-13-01T00:00"}
    )
    assert missing.status_code == 422
    assert field_error(missing.text, "delegate_id") == "请选择委托给谁"
    assert field_error(missing.text, "ends_at") == "请填写日期和时间"
    backwards = {
        "delegate_id": str(cast.ids["teacher"]),
        "starts_at": "2030-05-02T09:00",
        "ends_at": "2030-05-01T09:00",
    }
    refused = await post(staff, "/hall/delegations", backwards)
    assert refused.status_code == 422 and field_error(refused.text, "ends_at")
    assert 'value="2030-05-02T09:00"' in refused.text  # what was typed is kept
    good = {**backwards, "ends_at": "2030-05-09T18:00", "process_key": "enrolment_certificate"}
    redirected_to(await post(staff, "/hall/delegations", good), "/hall/delegations")
    html = await page(staff, "/hall/delegations")
    assert "委托已设置" in html and 'data-state="planned"' in html
    assert "2030-05-02 09:00" in html  # shown in Beijing time, as it was typed
    delegations = (await staff.get("/api/v1/workflow/delegations")).json()
    assert delegations[0]["starts_at"].startswith("2030-05-02T01:00")  # stored in UTC
    delegation_id = delegations[0]["id"]
    teacher_tries = await post(cast["teacher"], f"/hall/delegations/{delegation_id}/end")
    assert teacher_tries.status_code == 404
    ended = await post(staff, f"/hall/delegations/{delegation_id}/end")
    redirected_to(ended, "/hall/delegations")
    assert 'data-testid="delegation"' not in await page(staff, "/hall/delegations")


async def test_no_delegation_to_oneself(cast_of: CastOf) -> None:
    cast = await cast_of("staff")
    to_self = {
        "delegate_id": str(cast.ids["staff"]),
        "starts_at": "2030-05-01T09:00",
        "ends_at": "2030-05-02T09:00",
    }
    refused = await post(cast["staff"], "/hall/delegations", to_self)
    assert (
        refused.status_code == 422 and field_error(refused.text, "delegate_id") == "不能委托给自己"
    )
