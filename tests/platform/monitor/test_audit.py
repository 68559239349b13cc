"""The audit log query, through the JSON API and the admin page."""

from __future__ import annotations

import uuid

import httpx

from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.monitor.conftest import add_audit_entries, at

API = "/api/v1/monitor/audit"


async def seed_entries(runtime: Runtime, actor_id: int | None) -> str:
    """Four entries of one test action family, at known times; returns the family's prefix."""
    family = f"zz{uuid.uuid4().hex[:8]}"
    await add_audit_entries(
        runtime,
        dict(
            at=at("2026-03-01T08:00:00+08:00"),
            actor_id=actor_id,
            action=f"{family}.room.assign",
            target_type="dorm_room",
            target_id="101",
            after={"bed": 1},
            ip="10.0.0.1",
        ),
        dict(
            at=at("2026-03-01T09:30:00+08:00"),
            actor_id=actor_id,
            action=f"{family}.room.assign",
            target_type="dorm_room",
            target_id="102",
            before={"bed": 2},
            after={"bed": 3},
        ),
        dict(
            at=at("2026-03-02T10:00:00+08:00"),
            actor_id=None,
            action=f"{family}.room.release",
            target_type="dorm_room",
            target_id="101",
        ),
        dict(
            at=at("2026-03-03T11:00:00+08:00"),
            actor_id=actor_id,
            action=f"{family}x.other",
            target_type="fees_bill",
            target_id="7",
        ),
    )
    return family


async def me(client: httpx.AsyncClient) -> dict[str, object]:
    return (await client.get("/api/v1/auth/me")).json()  # type: ignore[no-any-return]


async def test_admin_filters_by_action_family_target_and_time(
    login_as: LoginAs, db: Runtime
) -> None:
    client = await login_as("admin")
    admin = await me(client)
    family = await seed_entries(db, int(admin["person_id"]))  # type: ignore[call-overload]

    whole = (await client.get(API, params={"action": family})).json()
    assigns = (await client.get(API, params={"action": f"{family}.room.assign"})).json()
    room_101 = (
        await client.get(
            API, params={"action": family, "target_type": "dorm_room", "target_id": "101"}
        )
    ).json()
    first_day = (
        await client.get(
            API,
            params={"action": family, "since": "2026-03-01T00:00", "until": "2026-03-02T00:00"},
        )
    ).json()

    assert whole["total"] == 3, "the dotted prefix does not match the look-alike family"
    assert [e["action"] for e in whole["items"]] == [
        f"{family}.room.release",
        f"{family}.room.assign",
        f"{family}.room.assign",
    ], "newest first"
    assert assigns["total"] == 2
    assert {e["target_id"] for e in room_101["items"]} == {"101"}
    assert room_101["total"] == 2
    assert [e["target_id"] for e in first_day["items"]] == ["102", "101"]
    newest_assign = assigns["items"][0]
    assert newest_assign["before"] == {"bed": 2}
    assert newest_assign["after"] == {"bed": 3}
    assert newest_assign["actor_name"] == admin["name"]
    assert newest_assign["actor_login"] == admin["login"]


async def test_admin_filters_by_actor_login_or_id(login_as: LoginAs, db: Runtime) -> None:
    client = await login_as("admin")
    admin = await me(client)
    family = await seed_entries(db, int(admin["person_id"]))  # type: ignore[call-overload]

    by_login = (await client.get(API, params={"action": family, "actor": admin["login"]})).json()
    by_id = (
        await client.get(API, params={"action": family, "actor_id": admin["person_id"]})
    ).json()
    sign_ins = (
        await client.get(
            API,
            params={"action": "auth", "target_type": "person", "target_id": admin["person_id"]},
        )
    ).json()

    assert by_login["total"] == by_id["total"] == 2
    assert all(e["actor_id"] == admin["person_id"] for e in by_login["items"])
    assert sign_ins["total"] >= 1, "the admin's own sign-in was audited"
    assert {e["action"] for e in sign_ins["items"]} <= {"auth.login", "auth.logout"}


async def test_results_come_in_pages(login_as: LoginAs, db: Runtime) -> None:
    client = await login_as("admin")
    family = await seed_entries(db, None)

    first = (await client.get(API, params={"action": family, "page_size": 2})).json()
    second = (await client.get(API, params={"action": family, "page_size": 2, "page": 2})).json()
    beyond = (await client.get(API, params={"action": family, "page_size": 2, "page": 3})).json()

    assert first["total"] == second["total"] == 3
    assert {k: v for k, v in first.items() if k != "items"} == {
        "total": 3,
        "page": 1,
        "page_size": 2,
        "pages": 2,
    }
    assert (second["page"], beyond["page"], beyond["pages"]) == (2, 3, 2)
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert not {e["id"] for e in first["items"]} & {e["id"] for e in second["items"]}
    assert beyond["items"] == []


async def test_bad_filters_are_refused_field_by_field(login_as: LoginAs) -> None:
    client = await login_as("admin")

    backwards = await client.get(API, params={"since": "2026-03-02T00:00", "until": "2026-03-01"})
    garbled = await client.get(API, params={"since": "yesterday", "page_size": 0})
    nobody = await client.get(API, params={"actor": "no-such-login-000"})

    assert backwards.status_code == 422
    assert backwards.json()["errors"] == [{"field": "until", "reason": "结束时间应晚于起始时间"}]
    assert garbled.status_code == 422
    assert {e["field"] for e in garbled.json()["errors"]} == {"since", "page_size"}
    assert {"field": "since", "reason": "时间格式不正确"} in garbled.json()["errors"]
    assert {"field": "page_size", "reason": "应不小于 1"} in garbled.json()["errors"]
    assert nobody.status_code == 422
    assert nobody.json()["errors"][0]["field"] == "actor"
    assert "no-such-login-000" in nobody.json()["errors"][0]["reason"]


async def test_only_holders_of_the_code_read_the_audit_log(
    login_as: LoginAs, anon: httpx.AsyncClient
) -> None:
    student = await login_as("student")

    api = await student.get(API)
    page = await student.get("/monitor/audit")
    anonymous = await anon.get(API)

    assert api.status_code == 403
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["detail"] == "您没有“monitor.audit.read”权限"
    assert page.status_code == 403
    assert anonymous.status_code == 401


async def test_the_audit_page_shows_entries_and_explains_bad_filters(
    login_as: LoginAs, db: Runtime
) -> None:
    client = await login_as("admin")
    admin = await me(client)
    family = await seed_entries(db, int(admin["person_id"]))  # type: ignore[call-overload]

    page = await client.get("/monitor/audit", params={"action": family})
    bad = await client.get("/monitor/audit", params={"action": family, "since": "not a time"})

    assert page.status_code == 200
    assert f"{family}.room.assign" in page.text
    assert "2026-03-01 09:30:00" in page.text, "times shown in Beijing time"
    assert str(admin["name"]) in page.text
    assert "10.0.0.1" in page.text
    assert "共 3 条" in page.text
    assert bad.status_code == 422
    assert 'data-testid="error-since"' in bad.text
    assert f"{family}.room.assign" in bad.text, "the other filters still apply"


async def test_the_audit_pager_keeps_the_page_size(login_as: LoginAs, db: Runtime) -> None:
    client = await login_as("admin")
    family = await seed_entries(db, None)

    first = await client.get("/monitor/audit", params={"action": family, "page_size": 2})
    last = await client.get("/monitor/audit", params={"action": family, "page_size": 2, "page": 2})
    too_long = await client.get("/monitor/audit", params={"action": family, "page_size": 201})

    assert first.status_code == 200
    assert "1 / 2" in first.text
    assert f"/monitor/audit?action={family}&amp;page_size=2&amp;page=2" in first.text
    assert "2026-03-01 08:00:00" not in first.text, "the oldest entry is on the second page"
    assert "2 / 2" in last.text and "2026-03-01 08:00:00" in last.text
    assert too_long.status_code == 422
    assert "共 3 条" in too_long.text, "the list is still shown with the default page size"
    assert "1 / 2" not in too_long.text
