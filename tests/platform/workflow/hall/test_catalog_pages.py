"""The hall's home page and the service guides: what each audience sees, search and filters
(swapped in by htmx), favourites, popular services, and who may open what."""

from __future__ import annotations

import re

import httpx

from tests.platform.workflow.hall.conftest import (
    HTML,
    HTMX,
    CastOf,
    count_testid,
    page,
    post,
    redirected_to,
)


def services_on(html: str) -> set[str]:
    return set(re.findall(r'data-testid="service-card" data-service="([^"]+)"', html))


async def test_students_and_staff_each_see_their_services(cast_of: CastOf) -> None:
    cast = await cast_of("student", "teacher")
    html = await page(cast["student"], "/hall")
    assert {"student_leave", "enrolment_certificate", "venue_booking"} <= services_on(html)
    assert "seal_use" not in services_on(html)
    assert "面向学生和全校师生" in html
    for testid in ("hall-counts", "hall-search", "hall-categories", "hall-department", "hall-nav"):
        assert count_testid(html, testid) == 1, testid
    teacher = services_on(await page(cast["teacher"], "/hall"))
    assert {"seal_use", "official_car"} <= teacher
    assert "student_leave" not in teacher


async def test_search_category_and_department_filter_with_htmx(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    student = cast["student"]
    fragment = (await student.get("/hall?q=请假", headers=HTMX)).text
    assert "<html" not in fragment
    assert services_on(fragment) == {"student_leave"}
    by_category = (await student.get("/hall?q=&category=教务服务", headers=HTMX)).text
    assert services_on(by_category) == {"enrolment_certificate"}
    full = await page(student, "/hall")
    registry = re.search(r'<option value="(\d+)">教务处</option>', full)
    assert registry, "the department filter lists the offices of my services"
    by_office = (await student.get(f"/hall?department={registry.group(1)}", headers=HTMX)).text
    assert services_on(by_office) == {"enrolment_certificate"}
    nothing = (await student.get("/hall?q=不存在的服务", headers=HTMX)).text
    assert 'data-testid="empty-state"' in nothing
    # A filter form sends empty fields as "": they mean "any".
    assert "student_leave" in services_on(await page(student, "/hall?q=&category=&department="))


async def test_counts_favourites_and_popular(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    student = cast["student"]
    response = await post(student, "/hall/services/student_card/favourite", {"on": "true"})
    redirected_to(response, "/hall/services/student_card")
    html = await page(student, "/hall")
    assert "已收藏“学生证补办”" in html  # the flash of the redirect
    assert re.search(r'data-testid="favourite-service">.*学生证补办', html)
    await post(
        student,
        "/hall/services/enrolment_certificate/apply",
        {
            "data.name": "沈同学",
            "data.number": "1",
            "data.language": "中文",
            "data.purpose": "签证",
            "data.copies": "1",
        },
    )
    html = await page(student, "/hall")
    assert re.search(r'data-testid="popular-service">.*在读证明', html)
    running = re.search(r'data-testid="count-running">(\d+)<', html)
    assert running and int(running.group(1)) >= 1


async def test_favourite_toggle_swaps_in_place_with_htmx(cast_of: CastOf) -> None:
    cast = await cast_of("student")
    student = cast["student"]
    on = await post(student, "/hall/services/venue_booking/favourite", {"on": "true"}, **HTMX)
    assert on.status_code == 200 and "<html" not in on.text
    assert "已收藏" in on.text and 'name="on" value="false"' in on.text
    off = await post(student, "/hall/services/venue_booking/favourite", {"on": "false"}, **HTMX)
    assert 'name="on" value="true"' in off.text
    guide = await page(student, "/hall/services/venue_booking")
    assert 'aria-pressed="false"' in guide


async def test_guide_shows_paragraphs_facts_and_the_apply_button(cast_of: CastOf) -> None:
    cast = await cast_of("student", "teacher")
    html = await page(cast["student"], "/hall/services/student_leave")
    assert count_testid(html, "guide-paragraph") == 3
    assert "学生工作处" in html and "约 1 个工作日" in html
    assert 'data-testid="service-audience">学生<' in html
    assert 'href="/hall/services/student_leave/apply"' in html
    # Staff may read a student service's guide, but are told it is not for them.
    staff_view = await page(cast["teacher"], "/hall/services/student_leave")
    assert "apply-button" not in staff_view and "该服务面向学生" in staff_view


async def test_link_services_lead_to_their_link(cast_of: CastOf) -> None:
    cast = await cast_of("student", "admin")
    created = await cast["admin"].post(
        "/api/v1/workflow/services",
        json={
            "key": "t_link_library",
            "name": "图书续借",
            "category": "图书服务",
            "kind": "link",
            "link": "/library/renew",
            "audience": "all",
        },
    )
    assert created.status_code == 201, created.text
    html = await page(cast["student"], "/hall/services/t_link_library")
    assert 'data-testid="service-link"' in html and 'href="/library/renew"' in html
    apply = await cast["student"].get("/hall/services/t_link_library/apply", headers=HTML)
    redirected_to(apply, "/library/renew")


async def test_unpublished_and_unknown_services_are_not_found(cast_of: CastOf) -> None:
    cast = await cast_of("student", "admin")
    hidden = await cast["admin"].patch(
        "/api/v1/workflow/services/student_card", json={"published": False}
    )
    assert hidden.status_code == 200, hidden.text
    student = cast["student"]
    assert "student_card" not in services_on(await page(student, "/hall"))
    await page(student, "/hall/services/student_card", 404)
    await page(student, "/hall/services/student_card/apply", 404)
    await page(student, "/hall/services/no_such_service", 404)


async def test_signed_out_visitors_are_sent_to_sign_in(anon: httpx.AsyncClient) -> None:
    for url in ("/hall", "/hall/mine", "/hall/tasks", "/hall/delegations", "/workflow/stats"):
        response = await anon.get(url, headers=HTML)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/login?next="), url
