"""Teaching plans: generated from the published programmes for the classes of a term,
idempotent, following a new version; the plan page; and the seeded demo programmes."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from campus.domains.academic.programmes import actions
from campus.domains.academic.programmes.models import Programme
from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests.conftest import LoginAs
from tests.domains.academic.conftest import HTML
from tests.domains.academic.programmes.conftest import (
    PROGRAMMES,
    World,
    acad_counts,
    programme_body,
    published,
)
from tests.platform.access.conftest import SignIn, Tree, assert_problem, staff_in

PLANS = "/api/v1/academic/plans"


async def test_generating_the_plan_is_idempotent_and_follows_new_versions(
    admin: httpx.AsyncClient, secretary_a: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    first = await published(admin, programme_body(world, tree.major_a))
    response = await secretary_a.post(f"{PLANS}/generate", json={"term_id": world.term_id})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["added"] == 3 and report["removed"] == 0  # C1, C2, C3 in term 1
    items = (await admin.get(f"{PLANS}?term_id={world.term_id}&class_id={tree.class_a}")).json()
    assert sorted(i["course_name"] for i in items) == ["大学英语", "程序设计基础", "高等数学A"]
    assert {i["term_number"] for i in items} == {1}

    before = await acad_counts(db)
    again = (await secretary_a.post(f"{PLANS}/generate", json={"term_id": world.term_id})).json()
    assert (again["added"], again["removed"], again["updated"]) == (0, 0, 0)
    assert await acad_counts(db) == before

    # the spring term: grade 2024 is in its second term
    spring = (
        await secretary_a.post(f"{PLANS}/generate", json={"term_id": world.spring_term_id})
    ).json()
    assert spring["added"] == 1
    items = (
        await admin.get(f"{PLANS}?term_id={world.spring_term_id}&class_id={tree.class_a}")
    ).json()
    assert [i["course_name"] for i in items] == ["数据结构"]

    # version 2 moves 大学英语 to term 2: regenerating removes it from term 1
    draft = (await admin.post(f"{PROGRAMMES}/{first['id']}/versions")).json()
    content = programme_body(world, tree.major_a)
    del content["major_id"], content["cohort"]
    content["groups"][0]["courses"][1]["term"] = 2
    assert (await admin.put(f"{PROGRAMMES}/{draft['id']}", json=content)).status_code == 200
    assert (await admin.post(f"{PROGRAMMES}/{draft['id']}/publish")).status_code == 200
    report = (await secretary_a.post(f"{PLANS}/generate", json={"term_id": world.term_id})).json()
    assert report["removed"] == 1 and report["updated"] == 2  # the others point at V2 now
    items = (await admin.get(f"{PLANS}?term_id={world.term_id}&class_id={tree.class_a}")).json()
    assert sorted(i["course_name"] for i in items) == ["程序设计基础", "高等数学A"]

    page = await admin.get(
        f"/academic/plans?term_id={world.term_id}&college_id={tree.college_a}", headers=HTML
    )
    assert page.status_code == 200 and "甲2401班" in page.text and "高等数学A" in page.text


async def test_generating_needs_the_permission_and_a_term(
    admin: httpx.AsyncClient,
    secretary_a: httpx.AsyncClient,
    tree: Tree,
    world: World,
    db: Runtime,
    sign_in: SignIn,
) -> None:
    await published(admin, programme_body(world, tree.major_a))
    teacher = await sign_in(await staff_in(admin, tree, tree.college_a))
    other = await staff_in(admin, tree, tree.college_b)
    secretary_b = await sign_in(other, [("academic_secretary", ScopeKind.SUBTREE, tree.college_b)])
    before = await acad_counts(db)
    assert_problem(await teacher.post(f"{PLANS}/generate", json={"term_id": world.term_id}), 403)
    assert_problem(
        await secretary_a.post(f"{PLANS}/generate", json={"term_id": 987654}), 422, "term_id"
    )
    # a secretary of college B generates for their own classes only: none of college A's
    response = await secretary_b.post(f"{PLANS}/generate", json={"term_id": world.term_id})
    assert response.status_code == 200 and response.json()["added"] == 0
    assert await acad_counts(db) == before


async def test_the_seeded_programmes_pass_every_rule(db: Runtime) -> None:
    async with db.db.read() as session:
        seeded = list(await session.scalars(select(Programme).limit(5)))
        for programme in seeded:
            assert 150 <= programme.total_credits <= 170
            await actions.check_content(session, await actions.content_in(session, programme))


async def test_the_demo_pages(login_as: LoginAs) -> None:
    """The seeded term: the student's own programme, the plan and the offering list."""
    student = await login_as("student")
    mine = await student.get("/api/v1/academic/my/programme")
    assert mine.status_code == 200, mine.text
    assert 150 <= mine.json()["total_credits"] <= 170
    page = await student.get("/academic/my/programme", headers=HTML)
    assert page.status_code == 200 and mine.json()["name"] in page.text
    admin = await login_as("admin")
    for url in ("/academic/plans", "/academic/offering", "/academic/programmes"):
        page = await admin.get(url, headers=HTML)
        assert page.status_code == 200, url
        assert 'data-testid="plan-class"' in page.text or "data-testid" in page.text
    offering = await admin.get("/academic/offering", headers=HTML)
    assert offering.text.count('data-testid="section-row"') > 10


async def test_filters_left_blank_mean_all_and_the_class_choices_follow_the_major(
    admin: httpx.AsyncClient, tree: Tree, world: World
) -> None:
    """A filter form's blank choice (全部…) sends an empty value: it means "any", not a 422."""
    for url in (
        f"/academic/plans?term_id={world.term_id}&college_id=&major_id=&class_id=",
        f"/academic/offering?term_id={world.term_id}&college_id=",
        "/academic/programmes?college_id=&cohort=",
    ):
        assert (await admin.get(url, headers=HTML)).status_code == 200, url
    # The plan's class picker: the classes of the chosen major, reloaded (htmx) on a new one.
    page = await admin.get(
        f"/academic/plans?term_id={world.term_id}&major_id={tree.major_a}&class_id={tree.class_a}",
        headers=HTML,
    )
    assert 'data-testid="plan-class-select"' in page.text
    assert f'<option value="{tree.class_a}" selected>' in page.text
    options = await admin.get(
        f"/academic/status/options/classes?all_classes=true&major_id={tree.major_a}", headers=HTML
    )
    assert "全部班级" in options.text and f'<option value="{tree.class_a}">' in options.text
    none = await admin.get("/academic/status/options/classes?all_classes=true&major_id=")
    assert none.status_code == 200 and none.text.count("<option") == 1
    page = await admin.get(f"/academic/plans?term_id={world.term_id}", headers=HTML)
    picker = re.search(r'<select id="plan-class-select".*?</select>', page.text, re.S)
    assert picker is not None and picker.group().count("<option") == 1  # no major, no classes
