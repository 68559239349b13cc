"""Files on applications: the form's attachment fields and the attachments of a decision are
bound to the application, downloaded by its participants only, and only the uploader's own
unbound files can be attached."""

from __future__ import annotations

import secrets

import httpx

from tests.platform.workflow.conftest import Cast, assert_problem, instance, open_task

CARD = {"name": "沈同学", "number": "2023001", "reason": "遗失"}


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(64)


async def upload(client: httpx.AsyncClient, name: str = "证件照.png") -> str:
    response = await client.post("/api/v1/files", files={"file": (name, png(), "image/png")})
    assert response.status_code == 201, response.text
    file_id: str = response.json()["id"]
    return file_id


async def test_form_and_decision_attachments(cast: Cast) -> None:
    student = cast["student"]
    photo = await upload(student)
    applied = await student.post(
        "/api/v1/workflow/services/student_card/apply", json={"data": {**CARD, "photo": [photo]}}
    )
    assert applied.status_code == 201, applied.text
    inst = await instance(cast, applied.json()["instance_id"])
    url = f"/api/v1/workflow/instances/{inst['id']}/files/{photo}"

    counselor = cast["counselor"]
    download = await counselor.get(url)
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    assert_problem(await cast["teacher"].get(url), 404)

    # the same photo cannot be attached to a second application
    twice = await student.post(
        "/api/v1/workflow/services/student_card/apply", json={"data": {**CARD, "photo": [photo]}}
    )
    assert_problem(twice, 422)

    # a decision with the counselor's own file, and not with someone else's
    note = await upload(counselor, "说明.png")
    task = open_task(inst, cast.ids["counselor"])
    foreign = await counselor.post(
        f"/api/v1/workflow/tasks/{task}/approve", json={"attachments": [await upload(student)]}
    )
    assert_problem(foreign, 422, "attachments.0")
    approved = await counselor.post(
        f"/api/v1/workflow/tasks/{task}/approve", json={"comment": "同意", "attachments": [note]}
    )
    assert approved.status_code == 200, approved.text
    timeline = (await instance(cast, inst["id"]))["timeline"]
    entry = next(e for e in timeline if e["action"] == "approve")
    assert entry["attachments"] == [note]
    assert (
        await student.get(f"/api/v1/workflow/instances/{inst['id']}/files/{note}")
    ).status_code == 200


async def test_a_file_of_another_application_is_not_served_here(cast: Cast) -> None:
    student = cast["student"]
    photo = await upload(student)
    first = await student.post(
        "/api/v1/workflow/services/student_card/apply", json={"data": {**CARD, "photo": [photo]}}
    )
    second = await student.post(
        "/api/v1/workflow/services/student_card/apply",
        json={"data": {**CARD, "photo": [await upload(student)]}},
    )
    other = second.json()["instance_id"]
    assert first.status_code == 201
    assert_problem(await student.get(f"/api/v1/workflow/instances/{other}/files/{photo}"), 404)
