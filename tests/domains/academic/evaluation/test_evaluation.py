"""Teaching evaluation over HTTP: the registrar's form and its refusals, students evaluating
the sections they take (once, in the window, their own only), answers that carry no person,
completion per college and section with its Excel export, and results shown only after the
window closes, to their own teachers, and only for sections with enough answers."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, inspect, select

from campus.domains.academic.evaluation.models import (
    EvalBallot,
    EvalCompletion,
    EvalForm,
    EvalScore,
)
from campus.kernel import clock
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.messaging.schemas import NotificationIn
from tests.domains.academic.evaluation.conftest import (
    API,
    ITEMS,
    Student,
    World,
    answer,
    form_body,
    publish,
)
from tests.platform.access.conftest import assert_problem


async def count(db: Runtime, model: object) -> int:
    async with db.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


async def outbox(db: Runtime, name: str) -> list[OutboxRow]:
    async with db.db.read() as session:
        rows = list(await session.scalars(select(OutboxRow).where(OutboxRow.name == name)))
        session.expunge_all()
    return rows


# ---------------------------------------------------------------- forms


async def test_the_office_publishes_a_form_and_students_are_told(
    db: Runtime, world: World, office: httpx.AsyncClient
) -> None:
    form = await publish(office, world.term_id)
    assert form["state"] == "open" and form["answers"] == 0
    assert [(i["number"], i["dimension"]) for i in form["items"]] == [
        (1, "教学态度"),
        (2, "教学内容"),
        (3, "教学效果"),
    ]
    assert form["anchors"] == ["很不满意", "不满意", "一般", "满意", "非常满意"]
    listed = (await office.get(f"{API}/forms")).json()
    assert form["id"] in [f["id"] for f in listed]
    saved = await outbox(db, "academic.evaluation.form_saved")
    assert [r.payload["created"] for r in saved if r.payload["form_id"] == form["id"]] == [True]
    notices = [
        r
        for r in await outbox(db, "messaging.notify_requested")
        if r.payload["source"] == f"academic:evaluation:{form['id']}"
    ]
    assert len(notices) == 1
    assert notices[0].payload["audience"] == {"everyone": True, "person_types": ["student"]}
    assert notices[0].payload["link"] == "/academic/evaluation"
    notice = NotificationIn.model_validate(notices[0].payload)  # what messaging will accept
    assert notice.title == "评教通知：测试学期学生评教"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [*ITEMS, {"dimension": "教学效果", "text": "备课充分， 讲课认真"}]}, "items"),
        ({"closes_at": (clock.now() - timedelta(days=1)).isoformat()}, "closes_at"),
        ({"anchors": ["差", "中", "好"]}, "anchors"),
        ({"min_answers": 1}, "min_answers"),
        ({"items": [{"dimension": "", "text": "空维度"}]}, "items"),
        ({"term_id": 999_999_999}, "term_id"),
    ],
)
async def test_a_bad_form_is_refused_naming_the_field(
    db: Runtime, world: World, office: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    before = await count(db, EvalForm)
    response = await office.post(f"{API}/forms", json={**form_body(world.term_id), **change})
    assert_problem(response, 422)
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.split(".")[0] == field for f in fields), response.json()
    assert await count(db, EvalForm) == before


async def test_one_form_per_term_and_none_changed_once_answered(
    db: Runtime, world: World, office: httpx.AsyncClient, student: Student
) -> None:
    form = await publish(office, world.term_id)
    again = await office.post(f"{API}/forms", json=form_body(world.term_id))
    assert_problem(again, 409)
    assert again.json()["errors"][0]["field"] == "term_id"
    renamed = await office.put(
        f"{API}/forms/{form['id']}", json=form_body(world.term_id, name="改过的评教")
    )
    assert renamed.status_code == 200, renamed.text
    form = renamed.json()
    assert form["name"] == "改过的评教"
    client, _ = await student()
    assert (await answer(client, world.sections["s1"], form, [5, 4, 3])).status_code == 201
    refused = await office.put(
        f"{API}/forms/{form['id']}", json=form_body(world.term_id, name="再改")
    )
    assert_problem(refused, 409)
    assert (await office.get(f"{API}/forms/{form['id']}")).json()["name"] == "改过的评教"


async def test_only_the_office_manages_forms(
    world: World, student: Student, reader_b: httpx.AsyncClient
) -> None:
    client, _ = await student()
    assert_problem(await client.post(f"{API}/forms", json=form_body(world.term_id)), 403)
    assert_problem(await reader_b.post(f"{API}/forms", json=form_body(world.term_id)), 403)
    assert_problem(await world.teacher.get(f"{API}/forms"), 403)


# ---------------------------------------------------------------- students


async def test_a_student_evaluates_each_section_they_take_once(
    db: Runtime, world: World, office: httpx.AsyncClient, student: Student
) -> None:
    form = await publish(office, world.term_id)
    client, me = await student()
    mine = (await client.get(f"{API}/me", params={"term_id": world.term_id})).json()
    taken = {world.sections[n] for n in ("s1", "s2", "elective")}
    assert {t["section_id"] for t in mine["tasks"]} == taken  # not the one only waited for
    assert (mine["done"], mine["total"]) == (0, 3)

    first = await answer(client, world.sections["s1"], form, [5, 4, 3], "讲得很好")
    assert first.status_code == 201, first.text
    assert first.json() == {"section_id": world.sections["s1"], "done": 1, "total": 3}
    twice = await answer(client, world.sections["s1"], form, [1, 1, 1])
    assert_problem(twice, 409)
    assert "只能评价一次" in twice.json()["detail"]
    for name in ("b", "waiting"):
        assert_problem(await answer(client, world.sections[name], form, [3, 3, 3]), 403)
    assert_problem(await answer(client, 999_999_999, form, [3, 3, 3]), 404)
    mine = (await client.get(f"{API}/me", params={"term_id": world.term_id})).json()
    assert (mine["done"], mine["total"]) == (1, 3)
    assert [t["done"] for t in mine["tasks"] if t["section_id"] == world.sections["s1"]] == [True]
    async with db.db.read() as session:
        assert list(
            await session.scalars(
                select(EvalCompletion.section_id).where(EvalCompletion.person_id == me)
            )
        ) == [world.sections["s1"]]
    assert await count(db, EvalBallot) == 1


@pytest.mark.parametrize(
    ("scores", "reason"),
    [({"first": 5}, "请为第"), ({"all": 6}, "1 到 5"), ({"unknown": 3}, "没有这些指标")],
)
async def test_bad_answers_are_refused_and_nothing_is_written(
    db: Runtime,
    world: World,
    office: httpx.AsyncClient,
    student: Student,
    scores: dict[str, int],
    reason: str,
) -> None:
    form = await publish(office, world.term_id)
    client, _ = await student()
    ids = [i["id"] for i in form["items"]]
    body = {
        "first": {str(ids[0]): 5},
        "all": {str(i): 6 for i in ids},
        "unknown": {**{str(i): 3 for i in ids}, "999999999": 3},
    }[next(iter(scores))]
    response = await client.post(f"{API}/sections/{world.sections['s1']}", json={"scores": body})
    assert_problem(response, 422)
    assert response.json()["errors"][0]["field"] == "scores"
    assert reason in response.json()["detail"]
    assert await count(db, EvalBallot) == 0
    assert await count(db, EvalCompletion) == 0


async def test_outside_the_window_a_ballot_is_refused(
    db: Runtime, world: World, office: httpx.AsyncClient, student: Student
) -> None:
    now = clock.now()
    form = await publish(
        office,
        world.term_id,
        opens_at=(now + timedelta(days=1)).isoformat(),
        closes_at=(now + timedelta(days=8)).isoformat(),
    )
    client, _ = await student()
    early = await answer(client, world.sections["s1"], form, [4, 4, 4])
    assert_problem(early, 409)
    assert "不在评教时间内" in early.json()["detail"]
    assert_problem(await office.post(f"{API}/forms/{form['id']}/close"), 409)  # not open yet
    async with db.db.transaction() as session:
        found = await session.get(EvalForm, form["id"])
        assert found is not None
        found.opens_at, found.closes_at = now - timedelta(days=8), now - timedelta(days=1)
    assert_problem(await answer(client, world.sections["s1"], form, [4, 4, 4]), 409)
    assert await count(db, EvalCompletion) == 0


async def test_an_answer_carries_no_person_nor_anything_leading_back(
    db: Runtime, world: World, office: httpx.AsyncClient, student: Student
) -> None:
    form = await publish(office, world.term_id)
    people = []
    for scores in ([5, 5, 4], [2, 3, 3]):
        client, me = await student()
        people.append(me)
        assert (await answer(client, world.sections["s1"], form, scores, "意见")).status_code == 201
    async with db.db.read() as session:
        columns = await session.run_sync(
            lambda s: {
                table: {c["name"] for c in inspect(s.connection()).get_columns(table)}
                for table in ("acad_eval_ballot", "acad_eval_score")
            }
        )
        assert columns == {
            "acad_eval_ballot": {"id", "form_id", "section_id", "comment"},
            "acad_eval_score": {"ballot_id", "item_id", "score"},
        }
        ballots = list(await session.scalars(select(EvalBallot)))
        scores = list(await session.scalars(select(EvalScore)))
        completions = list(await session.scalars(select(EvalCompletion)))
        session.expunge_all()
    assert len(ballots) == 2 and len(scores) == 6
    for b in ballots:  # a random key, no number in sequence
        assert len(b.id) == 32 and not b.id.isdigit()
    values = {str(v) for b in ballots for v in (b.id, b.form_id, b.section_id, b.comment)}
    assert not values & {str(p) for p in people}
    assert sorted(c.person_id for c in completions) == sorted(people)
    assert not set(inspect(EvalCompletion).columns.keys()) & {"ballot_id", "created_at"}
    submitted = await outbox(db, "academic.evaluation.submitted")
    assert [r.payload["answers"] for r in submitted] == [1, 2]
    for row in submitted:
        assert set(row.payload) == {"form_id", "term_id", "section_id", "answers"}
        assert row.actor_id is None and not row.request_id
    async with db.db.read() as session:
        audited = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "academic.evaluation.complete")
            )
        )
        session.expunge_all()
    assert {a.target_id for a in audited} == {str(world.sections["s1"])}
    assert not {b.id for b in ballots} & {str(a.after) for a in audited}


# ---------------------------------------------------------------- completion


async def test_completion_per_college_and_section_within_scope(
    world: World, office: httpx.AsyncClient, reader_b: httpx.AsyncClient, student: Student
) -> None:
    form = await publish(office, world.term_id)
    (one, _), _other = await student(), await student()
    assert (await answer(one, world.sections["s1"], form, [4, 4, 4])).status_code == 201
    done = (await office.get(f"{API}/forms/{form['id']}/completion")).json()
    ours = {
        s["section_id"]: s for s in done["sections"] if s["section_id"] in world.sections.values()
    }
    s1 = ours[world.sections["s1"]]
    assert (s1["students"], s1["completed"], s1["rate"]) == (2, 1, 0.5)
    assert ours[world.sections["elective"]]["students"] == 2
    assert ours[world.sections["waiting"]]["students"] == 0
    assert world.sections["s1"] in {s["section_id"] for s in done["below"]}
    lenient = (
        await office.get(f"{API}/forms/{form['id']}/completion", params={"threshold": 0.5})
    ).json()
    assert world.sections["s1"] not in {s["section_id"] for s in lenient["below"]}
    assert_problem(
        await office.get(f"{API}/forms/{form['id']}/completion", params={"threshold": 2}), 422
    )
    college_b = (await reader_b.get(f"{API}/forms/{form['id']}/completion")).json()
    assert [s["section_id"] for s in college_b["sections"]] == [world.sections["b"]]
    assert len(college_b["colleges"]) == 1
    assert_problem(await one.get(f"{API}/forms/{form['id']}/completion"), 403)

    sheet = await office.get(f"{API}/forms/{form['id']}/completion.xlsx")
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    rows = list(book["按教学班"].iter_rows(values_only=True))
    assert rows[0][:2] == ("教学班代码", "教学班")
    s1_row = next(r for r in rows if r[1] == "评教s1班")
    assert s1_row[4:7] == (2, 1, "50.0%")


async def test_the_office_reminds_those_with_sections_left_once_an_hour(
    db: Runtime, world: World, office: httpx.AsyncClient, student: Student
) -> None:
    form = await publish(office, world.term_id)
    (finished, finished_id), (lagging, lagging_id) = await student(), await student()
    for name in ("s1", "s2", "elective"):
        assert (await answer(finished, world.sections[name], form, [4, 4, 4])).status_code == 201
    assert (await answer(lagging, world.sections["s1"], form, [4, 4, 4])).status_code == 201
    assert_problem(await lagging.post(f"{API}/forms/{form['id']}/remind"), 403)

    reminded = await office.post(f"{API}/forms/{form['id']}/remind")
    assert reminded.status_code == 200, reminded.text
    source = f"academic:evaluation:{form['id']}:remind:"
    notices = [
        r for r in await outbox(db, "messaging.notify_requested") if source in r.payload["source"]
    ]
    people = {p for r in notices for p in r.payload["audience"]["person_ids"]}
    assert lagging_id in people and finished_id not in people
    assert reminded.json() == {"students": len(people)}
    assert NotificationIn.model_validate(notices[0].payload).title == "评教提醒：测试学期学生评教"
    async with db.db.read() as session:
        entries = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "academic.evaluation.remind")
        )
    assert entries == 1

    again = await office.post(f"{API}/forms/{form['id']}/remind")
    assert_problem(again, 409)
    assert "一小时内不再重复提醒" in again.json()["detail"]
    assert len(
        [r for r in await outbox(db, "messaging.notify_requested") if source in r.payload["source"]]
    ) == len(notices)


async def test_no_reminder_outside_the_window(world: World, office: httpx.AsyncClient) -> None:
    form = await publish(office, world.term_id)
    assert (await office.post(f"{API}/forms/{form['id']}/close")).status_code == 200
    closed = await office.post(f"{API}/forms/{form['id']}/remind")
    assert_problem(closed, 409)
    assert "不能发送提醒" in closed.json()["detail"]
    assert_problem(await office.post(f"{API}/forms/999999999/remind"), 404)


# ---------------------------------------------------------------- results


async def test_results_wait_for_the_close_hide_small_sections_and_reach_own_teachers(
    db: Runtime,
    world: World,
    office: httpx.AsyncClient,
    reader_b: httpx.AsyncClient,
    student: Student,
) -> None:
    form = await publish(office, world.term_id)
    students = [await student() for _ in range(3)]
    for (client, _), scores, comment in zip(
        students, ([5, 4, 3], [4, 4, 4], [3, 5, 5]), ("很好", "", "希望多些练习"), strict=True
    ):
        assert (
            await answer(client, world.sections["s1"], form, scores, comment)
        ).status_code == 201
    assert (await answer(students[0][0], world.sections["s2"], form, [1, 1, 1])).status_code == 201
    s1, s2 = world.sections["s1"], world.sections["s2"]

    # While students answer, nobody reads results: the teacher is told to wait.
    assert_problem(await office.get(f"{API}/forms/{form['id']}/results"), 409)
    early = await world.teacher.get(f"{API}/sections/{s1}/results")
    assert_problem(early, 403)
    assert "评教结束后" in early.json()["detail"]

    closed = await office.post(f"{API}/forms/{form['id']}/close")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert len(await outbox(db, "academic.evaluation.closed")) == 1
    late = await answer(students[1][0], s2, form, [3, 3, 3])
    assert_problem(late, 409)

    results = (await office.get(f"{API}/forms/{form['id']}/results")).json()
    rows = {r["section_id"]: r for r in results["sections"]}
    assert rows[s1]["shown"] and rows[s1]["answers"] == 3
    tally = rows[s1]["tally"]
    assert tally["mean"] == 4.11
    assert [i["distribution"] for i in tally["items"]] == [
        [0, 0, 1, 1, 1],
        [0, 0, 0, 2, 1],
        [0, 0, 1, 1, 1],
    ]
    assert [(d["name"], d["mean"]) for d in tally["dimensions"]] == [
        ("教学态度", 4.0),
        ("教学内容", 4.33),
        ("教学效果", 4.0),
    ]
    assert rows[s2] == {**rows[s2], "shown": False, "answers": 1, "tally": None}
    teacher = next(t for t in results["teachers"] if t["id"] == world.teacher_id)
    assert (teacher["sections"], teacher["answers"]) == (1, 3)  # s2 is too small to count
    assert teacher["tally"]["mean"] == 4.11
    college_b = (await reader_b.get(f"{API}/forms/{form['id']}/results")).json()
    assert [r["section_id"] for r in college_b["sections"]] == [world.sections["b"]]

    own = await world.teacher.get(f"{API}/sections/{s1}/results")
    assert own.status_code == 200, own.text
    assert own.json()["comments"] == sorted(["很好", "希望多些练习"])
    small = (await world.teacher.get(f"{API}/sections/{s2}/results")).json()
    assert small["shown"] is False and small["tally"] is None and small["comments"] == []
    assert_problem(await world.teacher.get(f"{API}/sections/{world.sections['b']}/results"), 404)
    assert_problem(await students[0][0].get(f"{API}/sections/{s1}/results"), 404)
    assert_problem(await reader_b.get(f"{API}/sections/{s1}/results"), 404)
