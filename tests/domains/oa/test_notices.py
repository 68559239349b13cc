"""Notices: who sees what (audiences), read receipts, the publisher's scope, every bad input,
and the pages."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from campus.domains.oa import events
from campus.kernel.clock import today
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from tests.conftest import LoginAs
from tests.domains.oa.conftest import (
    HTML,
    HTMX,
    NOTICES,
    ScopeKind,
    SignIn,
    Tree,
    assert_problem,
    oa_counts,
    outbox_payloads,
    publish,
    staff_in,
    student_in,
)


@pytest.fixture
async def staff_a(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    """A staff member of college A holding the built-in staff role over college A itself."""
    person = await staff_in(admin, tree, tree.college_a)
    client = await sign_in(person, [("staff", ScopeKind.ORG, tree.college_a)])
    return client, person


async def titles(client: httpx.AsyncClient, query: str = "") -> list[str]:
    response = await client.get(f"{NOTICES}?page_size=200{query}")
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


# ---------------------------------------------------------------- audiences


async def test_a_student_sees_campus_and_own_college_notices_only(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    student = await student_in(admin, tree)
    teacher = await staff_in(admin, tree, tree.college_a)
    reader = await sign_in(student)
    colleague = await sign_in(teacher)
    campus = await publish(admin, title="全校通知T", targets=[{"kind": "campus"}])
    own = await publish(admin, title="甲学院通知T", targets=[{"kind": "org", "id": tree.college_a}])
    other = await publish(
        admin, title="乙学院通知T", targets=[{"kind": "org", "id": tree.college_b}]
    )
    await publish(
        admin,
        title="甲学院本级通知T",  # the college itself, not the major the student belongs to
        targets=[{"kind": "org", "id": tree.college_a, "subtree": False}],
    )
    await publish(admin, title="甲班通知T", targets=[{"kind": "class", "id": tree.class_a}])
    await publish(admin, title="教职工通知T", people="staff", targets=[{"kind": "campus"}])
    await publish(
        admin, title="学生通知T", people="students", targets=[{"kind": "org", "id": tree.college_a}]
    )

    seen = set(await titles(reader))
    assert {"全校通知T", "甲学院通知T", "甲班通知T", "学生通知T"} <= seen
    assert not {"乙学院通知T", "甲学院本级通知T", "教职工通知T"} & seen
    teacher_sees = set(await titles(colleague))
    assert {"全校通知T", "甲学院通知T", "甲学院本级通知T", "教职工通知T"} <= teacher_sees
    assert not {"甲班通知T", "学生通知T", "乙学院通知T"} & teacher_sees

    assert (await reader.get(f"{NOTICES}/{own['id']}")).status_code == 200
    assert (await reader.get(f"{NOTICES}/{campus['id']}")).status_code == 200
    refused = await reader.get(f"{NOTICES}/{other['id']}")
    assert_problem(refused, 403)
    assert "乙学院通知T" not in refused.text
    assert (await reader.get(f"/oa/notices/{other['id']}", headers=HTML)).status_code == 403


async def test_the_demo_student_sees_the_seeded_notices_of_their_college(
    login_as: LoginAs,
) -> None:
    student = await login_as("student")
    seen = await titles(student)
    assert any("寒假放假安排" in t for t in seen)
    assert any("毕业设计选题" in t for t in seen)
    assert any("主题班会" in t for t in seen)
    assert any("心理健康普查" in t for t in seen)
    assert not any("读书节" in t for t in seen)  # another college's
    assert not any("年度考核" in t for t in seen)  # staff only
    assert not any("闭馆维护" in t for t in seen)  # expired
    assert any("闭馆维护" in t for t in await titles(student, "&expired=true"))
    pinned = (await student.get(NOTICES)).json()["items"][0]
    assert pinned["pinned"] is True


async def test_drafts_and_withdrawn_notices_are_not_listed_to_readers(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    reader = await sign_in(await student_in(admin, tree))
    draft = (
        await admin.post(NOTICES, json={"title": "草稿T", "targets": [{"kind": "campus"}]})
    ).json()
    notice = await publish(admin, title="将撤回T", targets=[{"kind": "campus"}])
    assert "将撤回T" in await titles(reader)
    assert_problem(await reader.get(f"{NOTICES}/{draft['id']}"), 403)
    response = await admin.post(f"{NOTICES}/{notice['id']}/withdraw", json={"reason": "内容有误"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert "将撤回T" not in await titles(reader)
    assert_problem(await reader.get(f"{NOTICES}/{notice['id']}"), 403)
    managed = (await admin.get(f"{NOTICES}/managed?page_size=200")).json()["items"]
    assert {"草稿T", "将撤回T"} <= {n["title"] for n in managed}


# ---------------------------------------------------------------- read receipts


async def test_read_receipts_count_who_read_per_unit(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    first = await student_in(admin, tree)
    second = await student_in(admin, tree)
    reader = await sign_in(first)
    notice = await publish(admin, title="回执T", targets=[{"kind": "class", "id": tree.class_a}])
    listed = (await reader.get(NOTICES)).json()
    row = next(i for i in listed["items"] if i["id"] == notice["id"])
    assert row["read"] is False and listed["unread"] >= 1

    response = await reader.post(f"{NOTICES}/{notice['id']}/read")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    again = await reader.post(f"{NOTICES}/{notice['id']}/read")  # the first reading counts
    assert again.json()["read_at"] == response.json()["read_at"]
    listed = (await reader.get(f"{NOTICES}?unread=true")).json()
    assert notice["id"] not in [i["id"] for i in listed["items"]]

    summary = (await admin.get(f"{NOTICES}/{notice['id']}/receipts")).json()
    assert (summary["total"], summary["read"], summary["unread"]) == (2, 1, 1)
    assert summary["units"] == [
        {"org_unit_id": tree.major_a, "name": "甲专业", "total": 2, "read": 1}
    ]
    unread = (await admin.get(f"{NOTICES}/{notice['id']}/receipts/people?state=unread")).json()
    assert [p["person_id"] for p in unread["items"]] == [second["id"]]
    read = (await admin.get(f"{NOTICES}/{notice['id']}/receipts/people?state=read")).json()
    assert [p["person_id"] for p in read["items"]] == [first["id"]]

    export = await admin.get(f"{NOTICES}/{notice['id']}/receipts.xlsx")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == ["汇总", "名单"]
    rows = list(book["名单"].iter_rows(values_only=True))
    assert rows[0] == ("姓名", "学号/工号", "单位", "状态", "阅读时间")
    assert sorted(r[3] for r in rows[1:]) == ["已读", "未读"]

    # Readers do not see receipts; the publisher does not count as a reader.
    assert (await reader.get(f"{NOTICES}/{notice['id']}/receipts")).status_code == 403


async def test_opening_the_page_is_the_read_receipt(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    reader = await sign_in(await student_in(admin, tree))
    notice = await publish(
        admin,
        title="页面回执T",
        body="# 标题\n\n<script>alert(1)</script> **重点**",
        targets=[{"kind": "org", "id": tree.college_a}],
    )
    page = await reader.get(f"/oa/notices/{notice['id']}", headers=HTML)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<strong>重点</strong>" in page.text
    assert 'data-testid="read-at"' in page.text
    assert (await reader.get(f"{NOTICES}/{notice['id']}")).json()["read_at"] is not None
    summary = (await admin.get(f"{NOTICES}/{notice['id']}/receipts")).json()
    assert summary["read"] == 1


# ---------------------------------------------------------------- who may publish where


async def test_a_student_cannot_publish(login_as: LoginAs, db: Runtime) -> None:
    student = await login_as("student")
    before = await oa_counts(db)
    response = await student.post(
        NOTICES, json={"title": "学生发的", "targets": [{"kind": "campus"}]}
    )
    assert_problem(response, 403)
    assert (await student.get("/oa/notices/new", headers=HTML)).status_code == 403
    assert await oa_counts(db) == before


async def test_a_college_office_publishes_within_its_college_only(
    staff_a: tuple[httpx.AsyncClient, dict[str, object]], tree: Tree, db: Runtime
) -> None:
    client, _person = staff_a
    # The staff role reaches college A itself (an "org" scope): its own unit, not below.
    own = {"kind": "org", "id": tree.college_a, "subtree": False}
    response = await client.post(NOTICES, json={"title": "本院通知", "targets": [own]})
    assert response.status_code == 201, response.text
    assert response.json()["org_unit_id"] == tree.college_a
    before = await oa_counts(db)
    for target in (
        {"kind": "org", "id": tree.college_b},
        {"kind": "org", "id": tree.college_a, "subtree": True},  # reaches the major below
        {"kind": "campus"},
        {"kind": "class", "id": tree.class_a},
    ):
        response = await client.post(NOTICES, json={"title": "越权", "targets": [target]})
        assert_problem(response, 403)
    response = await client.post(
        NOTICES, json={"title": "冒名", "org_unit_id": tree.college_b, "targets": [own]}
    )
    assert_problem(response, 403)
    assert await oa_counts(db) == before


async def test_a_subtree_grant_reaches_the_units_below(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    client = await sign_in(person, [("staff", ScopeKind.SUBTREE, tree.college_a)])
    notice = await publish(
        client,
        title="含下级",
        targets=[{"kind": "org", "id": tree.college_a}, {"kind": "class", "id": tree.class_a}],
    )
    assert notice["status"] == "published"
    assert {t["kind"] for t in notice["targets"]} == {"org", "class"}


async def test_publishing_emits_an_event_and_is_audited(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    notice = await publish(admin, title="事件T", targets=[{"kind": "campus"}])
    payloads = await outbox_payloads(db, events.NOTICE_PUBLISHED, notice_id=notice["id"])
    assert len(payloads) == 1
    assert payloads[0]["targets"] == [{"kind": "campus", "id": None, "subtree": True}]


# ---------------------------------------------------------------- bad input


async def test_every_bad_input_is_a_422_that_changes_nothing(
    admin: httpx.AsyncClient, tree: Tree, db: Runtime
) -> None:
    before = await oa_counts(db)
    cases = [
        ({"title": "", "targets": [{"kind": "campus"}]}, "title"),
        ({"title": "   ", "targets": [{"kind": "campus"}]}, "title"),
        ({"title": "x" * 121, "targets": [{"kind": "campus"}]}, "title"),
        ({"title": "无对象", "targets": []}, "targets"),
        ({"title": "无对象"}, "targets"),
        ({"title": "坏单位", "targets": [{"kind": "org", "id": 999_999_999}]}, "targets.0.id"),
        ({"title": "坏班级", "targets": [{"kind": "class", "id": 999_999_999}]}, "targets.0.id"),
        ({"title": "缺id", "targets": [{"kind": "org"}]}, "targets.0.id"),
        ({"title": "坏类型", "targets": [{"kind": "planet"}]}, "targets.0.kind"),
        ({"title": "坏人群", "people": "aliens", "targets": [{"kind": "campus"}]}, "people"),
        (
            {
                "title": "过期",
                "expires_on": (today() - timedelta(days=1)).isoformat(),
                "targets": [{"kind": "campus"}],
            },
            "expires_on",
        ),
        (
            {"title": "坏发布单位", "org_unit_id": 999_999_999, "targets": [{"kind": "campus"}]},
            "org_unit_id",
        ),
        (
            {"title": "坏附件", "attachments": ["nope"], "targets": [{"kind": "campus"}]},
            "attachments.0",
        ),
        ({"title": "多字段", "targets": [{"kind": "campus"}], "html": "<b>"}, "html"),
    ]
    for body, field in cases:
        response = await admin.post(NOTICES, json=body)
        problem = assert_problem(response, 422, field)
        assert problem["errors"][0]["reason"], body
    assert await oa_counts(db) == before


async def test_state_rules_are_conflicts(admin: httpx.AsyncClient, db: Runtime) -> None:
    notice = await publish(admin, title="状态T", targets=[{"kind": "campus"}])
    url = f"{NOTICES}/{notice['id']}"
    assert_problem(await admin.patch(url, json={"title": "改"}), 409)
    assert_problem(await admin.post(f"{url}/publish"), 409)
    assert_problem(await admin.delete(url), 409)
    assert_problem(await admin.post(f"{url}/withdraw", json={"reason": ""}), 422, "reason")
    draft = (
        await admin.post(NOTICES, json={"title": "稿", "targets": [{"kind": "campus"}]})
    ).json()
    assert_problem(await admin.post(f"{NOTICES}/{draft['id']}/withdraw", json={"reason": "x"}), 409)
    assert_problem(await admin.get(f"{NOTICES}/{draft['id']}/receipts"), 404)
    assert_problem(await admin.get(f"{NOTICES}/999999999"), 404)
    assert (await admin.delete(f"{NOTICES}/{draft['id']}")).status_code == 204


async def test_only_the_publisher_edits_a_draft(
    admin: httpx.AsyncClient, staff_a: tuple[httpx.AsyncClient, dict[str, object]], tree: Tree
) -> None:
    client, _person = staff_a
    own = {"kind": "org", "id": tree.college_a, "subtree": False}
    draft = (await client.post(NOTICES, json={"title": "我的稿", "targets": [own]})).json()
    response = await client.patch(
        f"{NOTICES}/{draft['id']}", json={"title": "改过的稿", "pinned": True}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["pinned"]) == ("改过的稿", True)
    assert_problem(await admin.patch(f"{NOTICES}/{draft['id']}", json={"title": "别人改"}), 403)
    response = await client.patch(
        f"{NOTICES}/{draft['id']}", json={"targets": [{"kind": "org", "id": tree.college_b}]}
    )
    assert_problem(response, 403)
    assert_problem(
        await client.patch(f"{NOTICES}/{draft['id']}", json={"title": None}), 422, "title"
    )


# ---------------------------------------------------------------- pages


async def test_notice_pages_render(admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn) -> None:
    reader = await sign_in(await student_in(admin, tree))
    notice = await publish(admin, title="页面T", targets=[{"kind": "org", "id": tree.college_a}])
    page = await reader.get("/oa/notices", headers=HTML)
    assert page.status_code == 200
    assert "页面T" in page.text and 'data-testid="unread-dot"' in page.text
    fragment = await reader.get("/oa/notices?unread=true&q=页面", headers=HTMX)
    assert "<html" not in fragment.text and fragment.text.count('data-testid="notice-row"') == 1
    editor = await admin.get("/oa/notices/new", headers=HTML)
    assert editor.status_code == 200 and 'data-testid="notice-form"' in editor.text
    await reader.get(f"/oa/notices/{notice['id']}", headers=HTML)
    detail = await admin.get(f"/oa/notices/{notice['id']}", headers=HTML)
    assert f'hx-get="/oa/notices/{notice["id"]}/progress"' in detail.text
    progress = await admin.get(f"/oa/notices/{notice['id']}/progress", headers=HTMX)
    assert 'data-testid="notice-progress"' in progress.text and "1 / 1" in progress.text
    assert (
        await reader.get(f"/oa/notices/{notice['id']}/progress", headers=HTMX)
    ).status_code == 204
    receipts = await admin.get(f"/oa/notices/{notice['id']}/receipts", headers=HTML)
    assert receipts.status_code == 200
    assert 'data-testid="receipts-chart"' in receipts.text
    assert 'data-testid="receipts-read">1<' in receipts.text
    assert (await reader.get(f"/oa/notices/{notice['id']}/receipts", headers=HTML)).status_code in (
        303,
        200,
    )


async def test_the_editor_form_saves_publishes_and_shows_errors(
    admin: httpx.AsyncClient, tree: Tree, db: Runtime
) -> None:
    form = {
        "title": "表单通知",
        "body": "内容",
        "org_unit_id": str(tree.college_a),
        "audience": "students",
        "org": [f"{tree.college_a}:1"],
        "then": "publish",
    }
    response = await admin.post("/oa/notices/new", data=form, headers=HTML)
    assert response.status_code == 303, response.text
    notice_id = int(response.headers["location"].rsplit("/", 1)[1])
    notice = (await admin.get(f"{NOTICES}/{notice_id}")).json()
    assert (notice["status"], notice["people"]) == ("published", "students")
    assert notice["targets"] == [
        {"kind": "org", "id": tree.college_a, "subtree": True, "name": "甲学院"}
    ]

    before = await oa_counts(db)
    response = await admin.post(
        "/oa/notices/new", data={**form, "title": "", "org": []}, headers=HTML
    )
    assert response.status_code == 422
    assert 'data-testid="error-title"' in response.text
    response = await admin.post(
        "/oa/notices/new", data={**form, "expires_on": "2020-13-45"}, headers=HTML
    )
    assert response.status_code == 422 and 'data-testid="error-expires_on"' in response.text
    assert await oa_counts(db) == before
    preview = await admin.post(
        "/oa/notices/preview", data={"body": "**粗** <i>x</i>"}, headers=HTMX
    )
    assert "<strong>粗</strong>" in preview.text and "&lt;i&gt;" in preview.text


async def test_seeded_receipts_and_demo_counselor(login_as: LoginAs, demo: SeedContext) -> None:
    counselor = await login_as("counselor")
    managed = (await counselor.get(f"{NOTICES}/managed")).json()["items"]
    college = next(n for n in managed if "毕业设计选题" in n["title"])
    summary = (await counselor.get(f"{NOTICES}/{college['id']}/receipts")).json()
    assert summary["read"] == 12 and summary["total"] > 12
