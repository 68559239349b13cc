"""My applications and one application's page: the list with its filters, the timeline,
withdrawing, urging (once an hour), comments, and who may read it."""

from __future__ import annotations

import re

from tests.platform.workflow.conftest import instance
from tests.platform.workflow.hall.conftest import (
    CastOf,
    apply_on_page,
    count_testid,
    field_error,
    page,
    post,
    redirected_to,
)


async def test_my_applications_with_status_filters(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    running = await apply_on_page(cast)
    withdrawn = await apply_on_page(cast)
    redirected_to(await post(cast["student"], f"/hall/instances/{withdrawn}/withdraw"))
    html = await page(cast["student"], "/hall/mine")
    listed = [int(i) for i in re.findall(r'data-testid="mine-item" data-instance="(\d+)"', html)]
    assert listed[:2] == [withdrawn, running]  # newest first
    only_running = await page(cast["student"], "/hall/mine?status=running")
    assert f'data-instance="{running}"' in only_running
    assert f'data-instance="{withdrawn}"' not in only_running
    await page(cast["student"], "/hall/mine?status=lost", 422)


async def test_the_timeline_and_the_diagram(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    instance_id = await apply_on_page(cast)
    html = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert count_testid(html, "timeline-entry") == 1
    assert 'data-action="submit"' in html and "提交申请" in html
    assert f'data-xml-url="/api/v1/workflow/instances/{instance_id}/diagram"' in html
    assert 'data-state="active"' in html and "教务处审核" in html
    assert 'data-testid="withdraw"' in html and 'data-testid="urge"' in html


async def test_withdraw(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    instance_id = await apply_on_page(cast)
    response = await post(cast["student"], f"/hall/instances/{instance_id}/withdraw")
    redirected_to(response, f"/hall/instances/{instance_id}")
    html = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert "申请已撤回" in html and 'data-status="withdrawn"' in html
    assert 'data-testid="withdraw"' not in html
    again = await post(cast["student"], f"/hall/instances/{instance_id}/withdraw")
    assert again.status_code == 409 and "不能撤回" in again.text


async def test_urge_once_an_hour(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    instance_id = await apply_on_page(cast)
    assert "一小时内只能催办一次" in await page(cast["student"], f"/hall/instances/{instance_id}")
    redirected_to(await post(cast["student"], f"/hall/instances/{instance_id}/urge"))
    html = await page(cast["student"], f"/hall/instances/{instance_id}")
    assert "已催办" in html and 'data-action="urge"' in html
    assert re.search(r'data-testid="urge"\s+disabled', html)
    again = await post(cast["student"], f"/hall/instances/{instance_id}/urge")
    assert again.status_code == 409 and "一小时内只能催办一次" in again.text
    actions = [e["action"] for e in (await instance(cast, instance_id))["timeline"]]
    assert actions.count("urge") == 1


async def test_comments(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    instance_id = await apply_on_page(cast)
    empty = await post(cast["student"], f"/hall/instances/{instance_id}/comments", {"comment": ""})
    assert empty.status_code == 422 and field_error(empty.text, "comment") == "评论不能为空"
    said = {"comment": "急用，麻烦尽快"}
    response = await post(cast["student"], f"/hall/instances/{instance_id}/comments", said)
    redirected_to(response, f"/hall/instances/{instance_id}")
    # The registrar, who has the task, reads the comment on the approval page.
    html = await page(cast["staff"], f"/hall/instances/{instance_id}")
    assert "急用，麻烦尽快" in html and 'data-testid="decide-panel"' in html


async def test_others_do_not_see_an_application(cast_of: CastOf) -> None:
    cast = await cast_of("student", "teacher", "counselor")
    instance_id = await apply_on_page(cast)
    for role in ("teacher", "counselor"):
        await page(cast[role], f"/hall/instances/{instance_id}", 404)
        refused = await post(cast[role], f"/hall/instances/{instance_id}/withdraw")
        assert refused.status_code == 404, role
        comment = await post(
            cast[role], f"/hall/instances/{instance_id}/comments", {"comment": "x"}
        )
        assert comment.status_code == 404, role
    await page(cast["student"], "/hall/instances/999999999", 404)
    assert (await instance(cast, instance_id))["status"] == "running"


async def test_the_pages_speak_english_when_asked(cast_of: CastOf) -> None:
    cast = await cast_of("student", "staff")
    instance_id = await apply_on_page(cast)
    english = {"Accept": "text/html", "Accept-Language": "en"}
    expected = {
        ("student", "/hall"): "Popular services",
        ("student", f"/hall/instances/{instance_id}"): "Submit application",
        ("staff", "/hall/tasks"): "Approve selected",
        ("staff", "/hall/delegations"): "Delegation while away",
    }
    for (role, url), text in expected.items():
        response = await cast[role].get(url, headers=english)
        assert response.status_code == 200, url
        assert text in response.text, url
