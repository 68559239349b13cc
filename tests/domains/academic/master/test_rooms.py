"""Buildings and rooms through the API and pages: CRUD, filters, validation, and the Excel import
(all or nothing) and export."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook

from campus.domains.academic.rooms.actions import COLUMNS
from campus.kernel.runtime import Runtime
from tests.domains.academic.master.conftest import (
    BUILDINGS,
    HTML,
    ROOMS,
    assert_problem,
    counts,
    xlsx,
)

HEADER = [c.header + ("*" if c.required else "") for c in COLUMNS]


async def building(client: httpx.AsyncClient, code: str = "T9") -> dict[str, Any]:
    response = await client.post(BUILDINGS, json={"code": code, "name": f"测试楼{code}"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def room_body(building_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "T9-101",
        "building_id": building_id,
        "floor": 1,
        "room_type": "multimedia",
        "capacity": 120,
        "exam_capacity": 60,
    }
    body.update(overrides)
    return body


async def test_rooms_crud_and_filters(
    registrar: httpx.AsyncClient, plain: httpx.AsyncClient
) -> None:
    b = await building(registrar)
    made = await registrar.post(ROOMS, json=room_body(b["id"]))
    assert made.status_code == 201, made.text
    room = made.json()
    assert room["name"] == "T9-101" and room["building_name"] == "测试楼T9"
    lab = await registrar.post(
        ROOMS,
        json=room_body(b["id"], code="T9-201", room_type="lab", capacity=40, exam_capacity=20),
    )
    assert lab.status_code == 201

    listed = (await plain.get(ROOMS, params={"building_id": b["id"]})).json()
    assert [r["code"] for r in listed["items"]] == ["T9-101", "T9-201"]
    labs = (await plain.get(ROOMS, params={"building_id": b["id"], "room_type": "lab"})).json()
    assert [r["code"] for r in labs["items"]] == ["T9-201"]
    big = (await plain.get(ROOMS, params={"building_id": b["id"], "min_capacity": 100})).json()
    assert [r["code"] for r in big["items"]] == ["T9-101"]
    assert all(
        r["capacity"] >= 150
        for r in (await plain.get(ROOMS, params={"min_capacity": 150})).json()["items"]
    )
    assert_problem(await plain.get(ROOMS, params={"room_type": "garage"}), 422)

    changed = await registrar.put(
        f"{ROOMS}/{room['id']}", json=room_body(b["id"], capacity=150, name="报告厅")
    )
    assert changed.status_code == 200 and changed.json()["capacity"] == 150
    assert (await plain.get(f"{ROOMS}/{room['id']}")).json()["name"] == "报告厅"
    # A building with rooms is not deleted; an empty one is.
    assert_problem(await registrar.delete(f"{BUILDINGS}/{b['id']}"), 409)
    assert (await registrar.delete(f"{ROOMS}/{room['id']}")).status_code == 204
    assert_problem(await plain.get(f"{ROOMS}/{room['id']}"), 404)
    buildings = (await plain.get(BUILDINGS)).json()
    assert next(x for x in buildings if x["id"] == b["id"])["rooms"] == 1


async def test_bad_rooms_are_refused_and_change_nothing(
    registrar: httpx.AsyncClient, plain: httpx.AsyncClient, db: Runtime
) -> None:
    b = await building(registrar)
    assert (await registrar.post(ROOMS, json=room_body(b["id"]))).status_code == 201
    before = await counts(db)
    cases = [
        (room_body(b["id"], code="T9-102", exam_capacity=121), 422, "exam_capacity"),
        (room_body(b["id"], code="T9-102", capacity=0), 422, "capacity"),
        (room_body(b["id"], code="T9-102", room_type="garage"), 422, "room_type"),
        (room_body(987654, code="T9-102"), 422, "building_id"),
        (room_body(b["id"], code="T9 102"), 422, "code"),
        (room_body(b["id"]), 409, "code"),
    ]
    for body, status, field in cases:
        assert_problem(await registrar.post(ROOMS, json=body), status, field)
    assert_problem(await plain.post(ROOMS, json=room_body(b["id"], code="T9-102")), 403)
    assert_problem(await registrar.put(f"{ROOMS}/987654", json=room_body(b["id"], code="X")), 404)
    assert_problem(
        await registrar.post(BUILDINGS, json={"code": "T9", "name": "重复"}), 409, "code"
    )
    assert_problem(await plain.post(BUILDINGS, json={"code": "T8", "name": "无权"}), 403)
    assert await counts(db) == before


async def test_excel_import_is_all_or_nothing(registrar: httpx.AsyncClient, db: Runtime) -> None:
    await building(registrar)
    good = [
        ["T9-301", "", "T9", 3, "多媒体教室", 100, 50, "是"],
        ["T9-302", "研讨室", "T9", 3, "ordinary", 40, 20, ""],
    ]
    bad = [
        *good,
        ["T9-303", "", "T9", 3, "车库", 40, 20, "是"],
        ["T9-304", "", "NOPE", 3, "机房", 40, 50, "是"],
        ["T9-301", "", "T9", 3, "机房", 0, 0, "是"],
    ]
    before = await counts(db)
    response = await registrar.post(
        f"{ROOMS}/import", files={"file": ("rooms.xlsx", xlsx(HEADER, bad))}
    )
    body = assert_problem(response, 422)
    problems = {(p["row"], p["column"]) for p in body["report"]["problems"]}
    assert {(4, "类型"), (5, "教学楼编号"), (5, "考试座位"), (6, "容量")} <= problems
    assert body["report"]["total_rows"] == 5
    assert await counts(db) == before

    assert_problem(
        await registrar.post(f"{ROOMS}/import", files={"file": ("x.xlsx", b"not a workbook")}),
        422,
        "file",
    )
    assert_problem(
        await registrar.post(
            f"{ROOMS}/import", files={"file": ("x.xlsx", xlsx(["编号", "别的"], good))}
        ),
        422,
        "file",
    )
    assert await counts(db) == before

    done = await registrar.post(
        f"{ROOMS}/import", files={"file": ("rooms.xlsx", xlsx(HEADER, good))}
    )
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 2
    assert (await counts(db))["rooms"] == before["rooms"] + 2
    again = await registrar.post(
        f"{ROOMS}/import", files={"file": ("rooms.xlsx", xlsx(HEADER, good))}
    )
    assert {p["reason"] for p in assert_problem(again, 422)["report"]["problems"]} == {
        "教室编号 T9-301 已存在",
        "教室编号 T9-302 已存在",
    }

    export = await registrar.get(f"{ROOMS}/export.xlsx", params={"q": "T9-30"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "教室编号*" and [r[0] for r in rows[1:]] == ["T9-301", "T9-302"]
    assert rows[2][4] == "普通教室" and rows[2][1] == "研讨室"
    template = await registrar.get(f"{ROOMS}/import-template.xlsx")
    assert template.status_code == 200


async def test_room_pages(
    registrar: httpx.AsyncClient, plain: httpx.AsyncClient, db: Runtime
) -> None:
    page = await plain.get("/academic/rooms", headers=HTML)
    assert page.status_code == 200 and 'data-testid="room-row"' in page.text
    assert 'data-testid="new-room"' not in page.text
    partial = await plain.get(
        "/academic/rooms", params={"room_type": "sports"}, headers={**HTML, "HX-Request": "true"}
    )
    assert partial.status_code == 200 and "<html" not in partial.text and "体育场馆" in partial.text
    assert (await plain.get("/academic/rooms/new", headers=HTML)).status_code == 403

    b = await building(registrar)
    assert (await registrar.get("/academic/rooms/new", headers=HTML)).status_code == 200
    before = await counts(db)
    form = {
        "code": "T9-501",
        "building_id": str(b["id"]),
        "floor": "5",
        "room_type": "hall",
        "capacity": "100",
        "exam_capacity": "200",
        "active": "1",
    }
    refused = await registrar.post("/academic/rooms/new", data=form, headers=HTML)
    assert refused.status_code == 422 and 'data-testid="error-exam_capacity"' in refused.text
    assert await counts(db) == before
    saved = await registrar.post(
        "/academic/rooms/new", data={**form, "exam_capacity": "50"}, headers=HTML
    )
    assert saved.status_code == 303
    assert (await counts(db))["rooms"] == before["rooms"] + 1

    bad = xlsx(HEADER, [["T9-601", "", "T9", 6, "多媒体教室", 10, 20, "是"]])
    shown = await registrar.post(
        "/academic/rooms/import", files={"file": ("r.xlsx", bad)}, headers=HTML
    )
    assert shown.status_code == 422 and 'data-testid="import-problem"' in shown.text
    buildings = await registrar.get("/academic/buildings", headers=HTML)
    assert buildings.status_code == 200 and "测试楼T9" in buildings.text
    dup = await registrar.post(
        "/academic/buildings", data={"code": "T9", "name": "又一栋"}, headers=HTML
    )
    assert dup.status_code == 422 and 'data-testid="error-code"' in dup.text


async def test_the_import_pages_upload_with_htmx(registrar: httpx.AsyncClient, db: Runtime) -> None:
    """The pages' forms post with htmx (whose header carries the CSRF token): a refusal comes
    back as the page to swap in (htmx swaps only a 2xx), success as a redirect for htmx."""
    for kind in ("rooms", "courses"):
        page = await registrar.get(f"/academic/{kind}/import", headers=HTML)
        assert f'hx-post="/academic/{kind}/import"' in page.text
    b = await building(registrar, "T8")
    htmx = {**HTML, "HX-Request": "true"}
    before = await counts(db)
    bad = xlsx(HEADER, [["T8-101", "", "T8", 1, "多媒体教室", 10, 20, "是"]])
    shown = await registrar.post(
        "/academic/rooms/import", files={"file": ("r.xlsx", bad)}, headers=htmx
    )
    assert shown.status_code == 200 and 'data-testid="import-problem"' in shown.text
    assert await counts(db) == before
    good = xlsx(HEADER, [["T8-101", "", b["code"], 1, "多媒体教室", 30, 20, "是"]])
    done = await registrar.post(
        "/academic/rooms/import", files={"file": ("r.xlsx", good)}, headers=htmx
    )
    assert done.status_code == 200 and done.headers["HX-Redirect"] == "/academic/rooms"
    assert (await counts(db))["rooms"] == before["rooms"] + 1
