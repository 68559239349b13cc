"""Boards: configured by those who manage boards, listed in their order, closed ones hidden."""

from __future__ import annotations

import httpx

from campus.domains.community import events
from campus.kernel.runtime import Runtime
from tests.domains.community.conftest import (
    API,
    Scene,
    assert_problem,
    counts,
    make_board,
    outbox,
)


async def test_an_administrator_configures_a_board(
    admin: httpx.AsyncClient, scene: Scene, db: Runtime
) -> None:
    board = await make_board(
        admin,
        code="jobs",
        name="实习招聘",
        description="实习与校招信息",
        icon="briefcase",
        sort_order=1,
        posting="staff",
    )
    assert (board["code"], board["kind"], board["allow_anonymous"]) == ("jobs", "general", False)
    changed = await admin.patch(
        f"{API}/boards/{board['id']}", json={"name": "就业", "allow_anonymous": True}
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["allow_anonymous"]) == ("就业", True)
    moderators = await admin.put(
        f"{API}/boards/{board['id']}/moderators", json={"person_ids": [scene.alice.id]}
    )
    assert moderators.json()["moderators"] == [{"id": scene.alice.id, "name": "欧阳晓雪"}]
    seen = (await scene.alice.client.get(f"{API}/boards/jobs")).json()
    assert seen["may_moderate"] is True and seen["may_post"] is True  # a moderator posts
    listed = [b["code"] for b in (await scene.bob.client.get(f"{API}/boards")).json()]
    assert listed[0] == "jobs"  # sort_order 1 comes before the demo's boards
    assert [e["name"] for e in await outbox(db, events.BOARD_CHANGED)][-2:] == ["实习招聘", "就业"]


async def test_a_closed_board_is_hidden_from_readers(
    admin: httpx.AsyncClient, scene: Scene
) -> None:
    board = await make_board(admin, name="停用", active=False)
    listed = [b["code"] for b in (await scene.bob.client.get(f"{API}/boards")).json()]
    assert board["code"] not in listed
    assert_problem(await scene.bob.client.get(f"{API}/boards/{board['id']}"), 404)
    everything = (await admin.get(f"{API}/boards?include_closed=true")).json()
    assert board["code"] in [b["code"] for b in everything]


async def test_bad_boards_are_refused(admin: httpx.AsyncClient, scene: Scene, db: Runtime) -> None:
    taken = await make_board(admin, name="占用")
    before = await counts(db)
    cases = [
        ({"code": "Bad Code", "name": "x"}, 422, "code"),
        ({"code": "1abc", "name": "x"}, 422, "code"),
        ({"code": taken["code"], "name": "x"}, 409, "code"),
        ({"code": "okcode", "name": ""}, 422, "name"),
        ({"code": "okcode", "name": "长" * 21}, 422, "name"),
        ({"code": "okcode", "name": "x", "kind": "casino"}, 422, "kind"),
        ({"code": "okcode", "name": "x", "posting": "nobody"}, 422, "posting"),
        ({"code": "okcode", "name": "x", "icon": "<svg>"}, 422, "icon"),
    ]
    for body, status, field in cases:
        assert_problem(await admin.post(f"{API}/boards", json=body), status, field)
    assert_problem(
        await admin.patch(f"{API}/boards/{taken['id']}", json={"name": None}), 422, "name"
    )
    assert_problem(
        await admin.put(
            f"{API}/boards/{taken['id']}/moderators", json={"person_ids": [99_999_999]}
        ),
        422,
        "person_ids.0",
    )
    assert_problem(await admin.patch(f"{API}/boards/999999", json={"name": "x"}), 404)
    # Only those who manage boards may.
    assert_problem(
        await scene.bob.client.post(f"{API}/boards", json={"code": "mine", "name": "x"}), 403
    )
    assert_problem(
        await scene.moderator.client.patch(f"{API}/boards/{taken['id']}", json={"name": "x"}), 403
    )
    assert await counts(db) == before
