"""The pages of teaching evaluation: a student's list and form (posted as a browser does), the
registrar's form editor with its refusals, completion and results, and a teacher's own."""

from __future__ import annotations

import httpx

from tests.domains.academic.conftest import HTML
from tests.domains.academic.evaluation.conftest import API, Student, World, answer, publish

PAGES = "/academic/evaluation"


async def test_a_student_evaluates_on_the_page(
    world: World, office: httpx.AsyncClient, student: Student
) -> None:
    form = await publish(office, world.term_id)
    client, _ = await student()
    listed = await client.get(PAGES, params={"term_id": world.term_id}, headers=HTML)
    assert listed.status_code == 200
    assert listed.text.count('data-testid="task"') == 3
    assert 'data-testid="progress-text">0/3<' in listed.text
    s1 = world.sections["s1"]
    page = await client.get(f"{PAGES}/sections/{s1}", headers=HTML)
    assert page.status_code == 200
    assert page.text.count('data-testid="item"') == 3 and "非常满意" in page.text
    ids = [i["id"] for i in form["items"]]
    missing = await client.post(
        f"{PAGES}/sections/{s1}", data={f"score_{ids[0]}": "5"}, headers=HTML
    )
    assert missing.status_code == 422
    assert 'data-testid="ballot-error"' in missing.text and "请为第 2、3 项评分" in missing.text
    done = await client.post(
        f"{PAGES}/sections/{s1}",
        data={**{f"score_{i}": "4" for i in ids}, "comment": "不错"},
        headers=HTML,
    )
    assert done.status_code == 303 and done.headers["location"] == PAGES
    again = await client.get(f"{PAGES}/sections/{s1}", headers=HTML)
    assert 'data-testid="already-done"' in again.text
    listed = await client.get(PAGES, params={"term_id": world.term_id}, headers=HTML)
    assert 'data-testid="progress-text">1/3<' in listed.text
    theirs = await client.post(
        f"{PAGES}/sections/{world.sections['b']}",
        data={f"score_{i}": "4" for i in ids},
        headers=HTML,
    )
    assert theirs.status_code == 403


async def test_the_office_edits_forms_and_reads_completion_and_results(
    world: World, office: httpx.AsyncClient, student: Student
) -> None:
    listed = await office.get(f"{PAGES}/forms", headers=HTML)
    assert listed.status_code == 200 and 'data-testid="form-editor"' in listed.text
    bad = await office.post(
        f"{PAGES}/forms",
        data={
            "term_id": str(world.term_id),
            "name": "页面评教",
            "opens_at": "2026-01-10T08:00",
            "closes_at": "2026-01-09T08:00",
            "anchors": "很差、较差、一般、较好、很好",
            "min_answers": "3",
            "items": "教学态度｜认真负责",
        },
        headers=HTML,
    )
    assert bad.status_code == 422 and "结束时间应晚于开始时间" in bad.text
    no_bar = await office.post(
        f"{PAGES}/forms",
        data={
            "term_id": str(world.term_id),
            "name": "页面评教",
            "opens_at": "2026-01-01T08:00",
            "closes_at": "2099-01-09T08:00",
            "anchors": "很差、较差、一般、较好、很好",
            "min_answers": "3",
            "items": "教学态度｜认真负责\n没有维度的一行",
        },
        headers=HTML,
    )
    assert no_bar.status_code == 422 and "第 2 行应写成" in no_bar.text
    saved = await office.post(
        f"{PAGES}/forms",
        data={
            "term_id": str(world.term_id),
            "name": "页面评教",
            "opens_at": "2026-01-01T08:00",
            "closes_at": "2099-01-09T08:00",
            "anchors": "很差、较差、一般、较好、很好",
            "min_answers": "3",
            "comment_enabled": "true",
            "items": "教学态度｜认真负责\n教学效果：收获很大",
        },
        headers=HTML,
    )
    assert saved.status_code == 303, saved.text
    form = next(
        f for f in (await office.get(f"{API}/forms")).json() if f["term_id"] == world.term_id
    )
    assert [(i["dimension"], i["text"]) for i in form["items"]] == [
        ("教学态度", "认真负责"),
        ("教学效果", "收获很大"),
    ]
    for _ in range(3):
        client, _ = await student()
        assert (await answer(client, world.sections["s1"], form, [5, 4])).status_code == 201
    completion = await office.get(f"{PAGES}/forms/{form['id']}/completion", headers=HTML)
    assert completion.status_code == 200 and 'data-testid="chart-colleges"' in completion.text
    assert 'data-testid="below-row"' in completion.text
    assert 'data-testid="remind"' in completion.text
    reminded = await office.post(f"{PAGES}/forms/{form['id']}/remind", headers=HTML)
    assert reminded.status_code == 303
    back = await office.get(reminded.headers["location"], headers=HTML)
    assert "名未完成评教的学生" in back.text
    again = await office.post(f"{PAGES}/forms/{form['id']}/remind", headers=HTML)
    after = await office.get(again.headers["location"], headers=HTML)
    assert "一小时内不再重复提醒" in after.text
    early = await office.get(f"{PAGES}/forms/{form['id']}/results", headers=HTML)
    assert 'data-testid="results-not-ready"' in early.text
    waiting = await world.teacher.get(
        f"{PAGES}/teaching", params={"term_id": world.term_id}, headers=HTML
    )
    assert 'data-testid="wait-for-close"' in waiting.text

    closed = await office.post(f"{PAGES}/forms/{form['id']}/close", headers=HTML)
    assert closed.status_code == 303
    results = await office.get(f"{PAGES}/forms/{form['id']}/results", headers=HTML)
    assert 'data-testid="chart-colleges"' in results.text
    assert 'data-testid="teacher-row"' in results.text and "不足 3 份" in results.text
    mine = await world.teacher.get(
        f"{PAGES}/teaching", params={"term_id": world.term_id}, headers=HTML
    )
    assert mine.text.count('data-testid="my-section"') == 2 and "4.50" in mine.text
    detail = await world.teacher.get(
        f"{PAGES}/sections/{world.sections['s1']}/results", headers=HTML
    )
    assert detail.status_code == 200
    assert 'data-testid="chart-distribution"' in detail.text
    assert 'data-testid="chart-dimensions"' in detail.text
