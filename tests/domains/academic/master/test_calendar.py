"""The academic calendar through its API and pages: terms (exactly one current), holidays and
make-up days, the period grid, and the service functions other topics use."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import httpx

from campus.domains.academic import service
from campus.kernel.runtime import Runtime
from tests.domains.academic.master.conftest import HTML, TERMS, assert_problem, counts

MONDAY = date(2030, 9, 2)  # a Monday, years after the seeded terms


def term_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "2030-2031-1",
        "start_date": MONDAY.isoformat(),
        "weeks": 20,
        "teaching_weeks": 18,
        "exam_week_from": 19,
        "exam_week_to": 20,
        "days_per_week": 5,
    }
    body.update(overrides)
    return body


async def create_term(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post(TERMS, json=term_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


GRID: list[dict[str, Any]] = [
    {"number": 1, "block": 1, "starts": "08:00", "ends": "08:45", "part": "morning"},
    {"number": 2, "block": 1, "starts": "08:55", "ends": "09:40", "part": "morning"},
    {"number": 3, "block": 2, "starts": "10:00", "ends": "10:45", "part": "morning"},
    {"number": 4, "block": 2, "starts": "10:55", "ends": "11:40", "part": "morning"},
    {"number": 5, "block": 3, "starts": "14:00", "ends": "14:45", "part": "afternoon"},
]


async def test_the_seeded_calendar_has_one_current_term(registrar: httpx.AsyncClient) -> None:
    terms = (await registrar.get(TERMS)).json()
    assert [t["current"] for t in terms].count(True) == 1
    current = (await registrar.get(f"{TERMS}/current")).json()
    assert date.fromisoformat(current["start_date"]).weekday() == 0
    calendar = (await registrar.get(f"{TERMS}/{current['id']}/calendar")).json()
    assert len(calendar["weeks"]) == current["weeks"] == 20
    assert [w["number"] for w in calendar["weeks"] if w["exam"]] == [19, 20]
    names = {d["name"] for d in calendar["days"]}
    assert {"国庆节", "元旦"} & names or {"清明节", "劳动节"} & names
    grid = (await registrar.get(f"{TERMS}/{current['id']}/periods")).json()
    assert len(grid["periods"]) == 12 and len(grid["blocks"]) == 6
    assert grid["blocks"][0] == {
        "number": 1,
        "periods": [1, 2],
        "starts": "08:00:00",
        "ends": "09:40:00",
        "part": "morning",
    }


async def test_create_a_term_and_make_it_current(registrar: httpx.AsyncClient, db: Runtime) -> None:
    term = await create_term(registrar, name="")
    assert term["name"] == "2030-2031学年第一学期"
    assert term["end_date"] == (MONDAY + timedelta(days=139)).isoformat()
    assert term["current"] is False and term["academic_year"] == 2030 and term["season"] == 1
    response = await registrar.post(f"{TERMS}/{term['id']}/current")
    assert response.status_code == 200 and response.json()["current"] is True
    terms = (await registrar.get(TERMS)).json()
    assert [t["code"] for t in terms if t["current"]] == ["2030-2031-1"]
    # The current term cannot be deleted; another one can.
    assert_problem(await registrar.delete(f"{TERMS}/{term['id']}"), 409)
    other = next(t for t in terms if not t["current"])
    before = (await counts(db))["terms"]
    assert (await registrar.delete(f"{TERMS}/{other['id']}")).status_code == 204
    assert (await counts(db))["terms"] == before - 1


async def test_bad_terms_are_refused_and_change_nothing(
    registrar: httpx.AsyncClient, plain: httpx.AsyncClient, db: Runtime
) -> None:
    before = await counts(db)
    tuesday = (MONDAY + timedelta(days=1)).isoformat()
    assert_problem(
        await registrar.post(TERMS, json=term_body(start_date=tuesday)), 422, "start_date"
    )
    assert_problem(
        await registrar.post(TERMS, json=term_body(exam_week_from=20, exam_week_to=21)),
        422,
        "exam_week_to",
    )
    assert_problem(
        await registrar.post(TERMS, json=term_body(teaching_weeks=21)), 422, "teaching_weeks"
    )
    assert_problem(await registrar.post(TERMS, json=term_body(code="2030-2032-1")), 422, "code")
    assert_problem(await registrar.post(TERMS, json=term_body(code="2030")), 422, "code")
    current = (await registrar.get(f"{TERMS}/current")).json()
    clash = await registrar.post(
        TERMS, json=term_body(code="2031-2032-3", start_date=current["start_date"])
    )
    body = assert_problem(clash, 409, "start_date")
    assert current["name"] in body["detail"]
    assert_problem(await registrar.post(TERMS, json=term_body(code=current["code"])), 409, "code")
    assert_problem(await plain.post(TERMS, json=term_body()), 403)
    assert await counts(db) == before


async def test_holidays_and_make_up_days(registrar: httpx.AsyncClient, db: Runtime) -> None:
    term = await create_term(registrar)
    url = f"{TERMS}/{term['id']}/days"
    outside = {"day": "2030-08-30", "kind": "holiday", "name": "开学前"}
    weekday_makeup = {"day": "2030-09-04", "kind": "makeup", "name": "调休", "as_weekday": 0}
    no_weekday = {"day": "2030-09-07", "kind": "makeup", "name": "调休"}
    before = await counts(db)
    assert_problem(await registrar.put(url, json={"days": [outside]}), 422, "days.0.day")
    assert_problem(
        await registrar.put(url, json={"days": [{**outside, "day": "2030-10-01"}, weekday_makeup]}),
        422,
        "days.1.day",
    )
    assert_problem(await registrar.put(url, json={"days": [no_weekday]}), 422, "days.0.as_weekday")
    assert_problem(await registrar.post(url, json=outside), 422, "day")
    assert await counts(db) == before

    # 国庆: Tuesday 1 October is off; Saturday 28 September is taught as a Tuesday.
    days: list[dict[str, Any]] = [
        {"day": "2030-10-01", "kind": "holiday", "name": "国庆节"},
        {"day": "2030-09-28", "kind": "makeup", "name": "国庆节调休", "as_weekday": 1},
    ]
    response = await registrar.put(url, json={"days": days})
    assert response.status_code == 200, response.text
    assert [d["day"] for d in response.json()] == ["2030-09-28", "2030-10-01"]
    assert_problem(await registrar.post(url, json={**days[0], "name": "重复"}), 409, "day")

    teaching = {
        d["day"]: d for d in (await registrar.get(f"{TERMS}/{term['id']}/teaching-days")).json()
    }
    assert "2030-10-01" not in teaching
    assert teaching["2030-09-28"] == {"day": "2030-09-28", "week": 4, "weekday": 1}
    assert "2030-09-29" not in teaching and "2030-09-30" in teaching
    assert len(teaching) == 18 * 5  # one holiday less, one make-up day more

    # A term shortened so that a special day falls outside is refused.
    shorter = term_body(
        start_date="2030-10-07", weeks=10, teaching_weeks=8, exam_week_from=9, exam_week_to=10
    )
    shorter.pop("code")
    assert_problem(await registrar.put(f"{TERMS}/{term['id']}", json=shorter), 422, "start_date")


async def test_the_period_grid_is_checked_and_copied(
    registrar: httpx.AsyncClient, db: Runtime
) -> None:
    term = await create_term(registrar)
    url = f"{TERMS}/{term['id']}/periods"
    before = await counts(db)
    overlapping = [GRID[0], {**GRID[1], "starts": "08:40"}]
    assert_problem(await registrar.put(url, json={"periods": overlapping}), 422, "periods.1.starts")
    backwards = [GRID[0], {**GRID[1], "ends": "08:50"}]
    assert_problem(await registrar.put(url, json={"periods": backwards}), 422, "periods.1.ends")
    gap = [GRID[0], GRID[1], {**GRID[2], "block": 3}]
    assert_problem(await registrar.put(url, json={"periods": gap}), 422, "periods.2.block")
    misnumbered = [GRID[0], {**GRID[1], "number": 3}]
    assert_problem(await registrar.put(url, json={"periods": misnumbered}), 422, "periods.1.number")
    assert_problem(await registrar.put(url, json={"periods": []}), 422)
    assert await counts(db) == before

    response = await registrar.put(url, json={"periods": GRID})
    assert response.status_code == 200, response.text
    assert [b["periods"] for b in response.json()["blocks"]] == [[1, 2], [3, 4], [5]]

    current = (await registrar.get(f"{TERMS}/current")).json()
    copied = await registrar.post(f"{url}/copy", json={"from_term_id": current["id"]})
    assert copied.status_code == 200 and len(copied.json()["periods"]) == 12
    assert_problem(
        await registrar.post(f"{url}/copy", json={"from_term_id": term["id"]}), 422, "from_term_id"
    )
    assert_problem(
        await registrar.post(f"{url}/copy", json={"from_term_id": 987654}), 422, "from_term_id"
    )
    assert_problem(
        await registrar.post(f"{TERMS}/987654/periods/copy", json={"from_term_id": current["id"]}),
        404,
    )


async def test_service_functions(registrar: httpx.AsyncClient, db: Runtime) -> None:
    term = await create_term(registrar)
    days = [
        {"day": "2030-10-01", "kind": "holiday", "name": "国庆节"},
        {"day": "2030-10-12", "kind": "makeup", "name": "国庆节调休", "as_weekday": 4},
    ]
    assert (
        await registrar.put(f"{TERMS}/{term['id']}/days", json={"days": days})
    ).status_code == 200
    assert (
        await registrar.put(f"{TERMS}/{term['id']}/periods", json={"periods": GRID})
    ).status_code == 200
    async with db.db.read() as session:
        found = await service.term_by_code(session, "2030-2031-1")
        assert found is not None and found.id == term["id"]
        assert (await service.current_term(session)) is not None
        assert service.week_of(found, MONDAY) == 1
        assert service.week_of(found, date(2030, 9, 15)) == 2  # a Sunday ends week 2
        assert service.week_of(found, date(2030, 9, 16)) == 3
        assert service.week_of(found, MONDAY - timedelta(days=1)) is None
        assert service.date_of(found, 3, 2) == date(2030, 9, 18)
        assert service.dates_of_week(found, 1)[6] == date(2030, 9, 8)
        teaching = await service.teaching_days(session, found)
        by_day = {t.day: t for t in teaching}
        assert date(2030, 10, 1) not in by_day
        assert by_day[date(2030, 10, 12)].weekday == 4 and by_day[date(2030, 10, 12)].week == 6
        assert all(t.week <= 18 for t in teaching)
        assert await service.block_times(session, found.id, 2) == (time(10, 0), time(11, 40))
        assert await service.block_times(session, found.id, 9) is None
        by_date = await service.term_of_date(session, date(2030, 10, 1))
        assert by_date is not None and by_date.code == "2030-2031-1"


async def test_calendar_pages(
    registrar: httpx.AsyncClient, plain: httpx.AsyncClient, db: Runtime
) -> None:
    page = await plain.get("/academic/calendar", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="calendar-grid"' in page.text
    assert page.text.count('data-testid="week-row"') == 20
    assert 'data-testid="holiday"' in page.text
    assert 'data-testid="manage-calendar"' not in page.text
    # Consecutive holidays are listed once: 国庆节 (autumn) or 劳动节 (spring).
    assert "国庆节（7 天）" in page.text or "劳动节（5 天）" in page.text
    assert (await plain.get("/academic/calendar/manage", headers=HTML)).status_code == 403

    manage = await registrar.get("/academic/calendar/manage", headers=HTML)
    assert manage.status_code == 200 and 'data-testid="term-row"' in manage.text
    before = await counts(db)
    form = {k: str(v) for k, v in term_body(start_date="2030-09-03").items()}
    refused = await registrar.post("/academic/calendar/terms", data=form, headers=HTML)
    assert refused.status_code == 422 and 'data-testid="error-start_date"' in refused.text
    assert await counts(db) == before
    form["start_date"] = MONDAY.isoformat()
    created = await registrar.post("/academic/calendar/terms", data=form, headers=HTML)
    assert created.status_code == 303
    term_url = created.headers["location"]
    term_page = await registrar.get(term_url, headers=HTML)
    assert term_page.status_code == 200 and "2030-2031" in term_page.text
    bad_day = await registrar.post(
        f"{term_url}/days", data={"day": "2031-09-01", "kind": "holiday", "name": "X"}, headers=HTML
    )
    assert bad_day.status_code == 422 and 'data-testid="error-day"' in bad_day.text
    good_day = await registrar.post(
        f"{term_url}/days",
        data={"day": "2030-10-01", "kind": "holiday", "name": "国庆节"},
        headers=HTML,
    )
    assert good_day.status_code == 303
    bad_grid = await registrar.post(
        f"{term_url}/periods",
        data={
            "block": ["1", "3"],
            "starts": ["08:00", "09:00"],
            "ends": ["08:45", "09:45"],
            "part": ["morning", "morning"],
        },
        headers=HTML,
    )
    assert bad_grid.status_code == 422 and "大节应连续" in bad_grid.text
    calendar = await plain.get(
        f"/academic/calendar?term_id={term_url.rsplit('/', 1)[1]}", headers=HTML
    )
    assert calendar.status_code == 200 and "国庆节" in calendar.text
