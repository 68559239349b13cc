"""The pages of course selection over HTTP: the search with its 选课 buttons (a place, a replay,
a refusal inline and counted, a waitlist), 我的选课 with its timetable preview and 退选, the
registrar's rounds (a refused form changes nothing), the draw and the dashboard; and the notice
a student gets when their place changes by someone else's hand."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from campus.domains.academic.selection.models import Enrollment, Round
from campus.domains.academic.selection.queries import refusal_key
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.domains.academic.conftest import HTML
from tests.domains.academic.selection.conftest import API, Student, World, choose
from tests.platform.messaging.conftest import deliver, inbox, outbox_events

SEARCH = "/academic/selection"
MINE = "/academic/selection/me"
ROUNDS = "/academic/selection/rounds"
HTMX = {"HX-Request": "true"}


def cell(page: str, day: int, block: int) -> str:
    """A cell of the timetable preview."""
    return page.split(f'data-testid="preview-{day}-{block}"', 1)[1].split("</td>", 1)[0]


def card_of(page: str, section_id: int) -> str:
    return page.split(f' id="offer-{section_id}"', 1)[1].split(' id="offer-', 1)[0]


def key_of(page: str, section_id: int) -> str:
    """The idempotency key the page drew into the section's 选课 form."""
    found = re.search(r'name="key" value="([^"]+)"', card_of(page, section_id))
    assert found, f"no 选课 button for section {section_id}"
    return found.group(1)


async def search(client: httpx.AsyncClient, **params: object) -> str:
    response = await client.get(SEARCH, params=params, headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


async def press(client: httpx.AsyncClient, section_id: int, key: str) -> httpx.Response:
    """The 选课 button, as htmx posts it."""
    return await client.post(
        f"/academic/selection/sections/{section_id}/select", data={"key": key}, headers=HTMX
    )


async def places(db: Runtime, section_id: int, status: str = "selected") -> set[int]:
    async with db.db.read() as session:
        return set(
            await session.scalars(
                select(Enrollment.person_id).where(
                    Enrollment.section_id == section_id, Enrollment.status == status
                )
            )
        )


async def change_round(db: Runtime, round_id: int, **values: object) -> None:
    async with db.db.transaction() as session:
        found = await session.get(Round, round_id)
        assert found is not None
        for name, value in values.items():
            setattr(found, name, value)


async def test_a_student_selects_from_the_search_and_a_double_click_is_one_request(
    db: Runtime, world: World, student: Student
) -> None:
    client, me = await student()
    page = await search(client)
    assert 'data-testid="round-info"' in page and "正选" in page
    assert "课程X" in page and "课程Z" in page
    x1 = world.sections["x1"]
    key = key_of(page, x1)
    assert key != key_of(page, world.sections["z"]), "one key per button"
    first = await press(client, x1, key)
    assert first.status_code == 200, first.text
    assert "<html" not in first.text, "the card alone, for htmx to swap"
    assert 'data-testid="offer-status"' in first.text and "已选中" in first.text
    assert re.search(r'data-testid="offer-remaining"[^>]*>1<', first.text)
    again = await press(client, x1, key)  # the double click
    assert again.status_code == 200 and "已选中" in again.text
    assert await places(db, x1) == {me}
    assert len(await outbox_events(db, "academic.selection.place_changed")) == 1
    page = await search(client)
    assert 'name="key"' not in card_of(page, x1), "held: no button"
    z = world.sections["z"]
    plain = await client.post(  # without script: the form posts and the page comes back
        f"/academic/selection/sections/{z}/select", data={"key": key_of(page, z)}
    )
    assert plain.status_code == 303 and plain.headers["location"] == SEARCH
    assert "已选中" in card_of(await search(client), z)


async def test_a_refusal_is_shown_on_the_card_counted_and_changes_nothing(
    db: Runtime, world: World, student: Student
) -> None:
    client, _me = await student()
    assert (await choose(client, world.sections["x1"])).status_code == 200
    y = world.sections["y"]
    key = key_of(await search(client), y)
    refused = await press(client, y, key)
    assert refused.status_code == 200, refused.text
    assert 'data-testid="offer-refusal"' in refused.text
    assert "与“X（x1）”上课时间冲突" in refused.text
    assert f'value="{key}"' in refused.text, "a refusal wrote nothing: the same request may retry"
    assert await places(db, y) == set()
    assert await db.cache.get(refusal_key(world.round_id, "clash")) == b"1"


async def test_a_full_section_puts_the_next_student_on_its_waitlist(
    db: Runtime, world: World, student: Student
) -> None:
    (first, _), (second, second_id) = await student(), await student()
    z = world.sections["z"]
    assert (await choose(first, z)).status_code == 200
    page = await search(second)
    assert "已满，选课将排队候补" in page
    answer = await press(second, z, key_of(page, z))
    assert "候补中（第 1 位）" in answer.text
    assert re.search(r'data-testid="offer-waitlist">1<', answer.text)
    assert await places(db, z, "waitlisted") == {second_id}


async def test_the_search_filters_by_keyword_and_college(world: World, student: Student) -> None:
    client, _ = await student()
    only_y = await search(client, q="课程Y")
    assert "课程Y" in only_y and "课程X" not in only_y
    partial = await client.get(SEARCH, params={"q": "课程Y"}, headers={**HTML, **HTMX})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert "课程Y" in partial.text
    elsewhere = await search(client, college_id=world.other_major_id)
    assert "课程X" not in elsewhere and 'data-testid="empty-state"' in elsewhere
    blank = await search(client, college_id="")  # the filter's 全部 choice
    assert "课程X" in blank
    too_long = await client.get(SEARCH, params={"q": "长" * 41}, headers=HTML)
    assert too_long.status_code == 422


async def test_bad_requests_to_the_button_are_refused(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    client, _ = await student()
    x1 = world.sections["x1"]
    short = await press(client, x1, "abc")
    assert short.status_code == 422 and "key" in short.text
    forged = await client.post(
        f"/academic/selection/sections/{x1}/select",
        data={"key": "k" * 20},
        headers={**HTMX, "X-CSRF-Token": "forged"},
    )
    assert forged.status_code == 403
    missing = await press(client, 987654321, "k" * 20)
    assert missing.status_code == 404
    staff = await login_as("staff")
    page = await search(staff, term_id=world.term_id)
    assert 'data-testid="not-student"' in page and 'data-testid="select"' not in page
    assert (await press(staff, x1, "k" * 20)).status_code == 403
    assert await places(db, x1) == set()


async def test_outside_a_round_the_search_has_no_buttons(
    db: Runtime, world: World, student: Student
) -> None:
    client, _ = await student()
    await change_round(db, world.round_id, closes_at=clock.now() - timedelta(minutes=1))
    page = await search(client, term_id=world.term_id)
    assert "当前不在选课时间内" in page
    assert "课程X" in page and 'data-testid="select"' not in page


async def test_my_selections_show_places_credits_and_my_week_and_a_drop_promotes(
    db: Runtime, world: World, student: Student
) -> None:
    (me, _), (other, other_id) = await student(), await student()
    z, x1 = world.sections["z"], world.sections["x1"]
    for section in (z, x1):
        assert (await choose(me, section)).status_code == 200
    assert (await choose(other, z)).json()["status"] == "waitlisted"
    page = (await me.get(MINE, headers=HTML)).text
    assert page.count('data-testid="my-place"') == 2 and "已选中" in page
    assert re.search(r'data-testid="my-credits">5<', page)  # 3 + 2
    assert 'data-testid="preview-grid"' in page
    assert "X（x1）" in cell(page, 0, 1) and "Z（z）" in cell(page, 2, 1)
    assert "Y（y）" not in page, "only what I hold"
    others = (await other.get(MINE, headers=HTML)).text
    assert "候补中（第 1 位）" in others
    dropped = await me.post(f"/academic/selection/me/sections/{z}/drop", headers=HTMX)
    assert dropped.status_code == 200, dropped.text
    assert 'data-testid="drop-message"' in dropped.text and "已退选" in dropped.text
    assert re.search(r'data-testid="my-credits">3<', dropped.text)
    assert "Z（z）" not in dropped.text.split('data-testid="preview-grid"', 1)[1]
    assert await places(db, z) == {other_id}, "the waitlist's head took the seat"
    again = await me.post(f"/academic/selection/me/sections/{z}/drop", headers=HTMX)
    assert again.status_code == 404


async def test_a_round_without_drops_refuses_inline(
    db: Runtime, world: World, student: Student
) -> None:
    client, me = await student()
    x1 = world.sections["x1"]
    assert (await choose(client, x1)).status_code == 200
    await change_round(db, world.round_id, drop_allowed=False)
    page = (await client.get(MINE, headers=HTML)).text
    assert 'data-testid="drop"' not in page and "本轮不允许退选" in page
    refused = await client.post(f"/academic/selection/me/sections/{x1}/drop", headers=HTMX)
    assert refused.status_code == 200
    assert "本轮选课不允许退选" in refused.text
    assert await places(db, x1) == {me}


async def test_the_registrar_creates_rounds_and_bad_input_changes_nothing(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    registrar = await login_as("staff")
    page = await registrar.get(ROUNDS, params={"term_id": world.term_id}, headers=HTML)
    assert page.status_code == 200 and "正选" in page.text
    client, _ = await student()
    assert (await client.get(ROUNDS, headers=HTML)).status_code == 403
    form = {
        "term_id": str(world.term_id),
        "name": "补退选",
        "kind": "add_drop",
        "opens_at": "2026-09-14T08:00",
        "closes_at": "2026-09-13T08:00",
        "grades": "2024, 二〇二四",
        "max_credits": "abc",
        "waitlist": "true",
    }
    async with db.db.read() as session:
        before = await session.scalar(select(func.count()).select_from(Round))
    bad = await registrar.post(ROUNDS, data=form, headers=HTML)
    assert bad.status_code == 422
    for field, reason in (("grades", "应为整数"), ("max_credits", "不超过 60")):
        assert re.search(rf'data-testid="error-{field}">[^<]*{reason}', bad.text), field
    assert 'value="补退选"' in bad.text, "the form keeps what was typed"
    form.update(grades="2024", max_credits="12.5")
    backwards = await registrar.post(ROUNDS, data=form, headers=HTML)
    assert re.search(r'data-testid="error-closes_at">结束时间应晚于开始时间', backwards.text)
    blank = await registrar.post(ROUNDS, data={**form, "name": ""}, headers=HTML)
    assert re.search(r'data-testid="error-name">必填', blank.text)
    no_term = await registrar.post(
        ROUNDS,
        data={**form, "term_id": "987654321", "closes_at": "2026-09-20T08:00"},
        headers=HTML,
    )
    assert no_term.status_code == 422
    assert re.search(r'data-testid="error-term_id">学期 987654321 不存在', no_term.text)
    async with db.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Round)) == before
    made = await registrar.post(ROUNDS, data={**form, "closes_at": "2026-09-20T08:00"})
    assert made.status_code == 303, made.text
    async with db.db.read() as session:
        found = await session.scalar(select(Round).where(Round.name == "补退选"))
        assert found is not None
        assert found.opens_at == datetime(2026, 9, 14, 0, 0, tzinfo=UTC), "typed in campus time"
        assert found.grades == [2024] and found.waitlist and not found.drop_allowed


async def test_the_registrar_draws_a_lottery_round_and_reads_its_dashboard(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    z = world.sections["z"]
    await change_round(db, world.round_id, kind="lottery")
    wishes = [await student(), await student()]
    for client, _ in wishes:
        assert (await choose(client, z)).json()["status"] == "preferred"
    first = wishes[0][0]
    assert (await choose(first, world.sections["x2"])).status_code == 200
    refusal = await choose(first, world.sections["x1"])  # x2 is of the same course
    assert refusal.json()["reason"] == "same_course"
    registrar = await login_as("staff")
    board = await registrar.get(f"{ROUNDS}/{world.round_id}", headers=HTML)
    assert board.status_code == 200
    assert re.search(r'data-testid="count-preferred">3<', board.text)
    assert 'data-testid="chart-hot"' in board.text and 'data-testid="chart-refusals"' in board.text
    same_course = board.text.split('data-testid="refusal-same_course"', 1)[1].split("</tr>")[0]
    assert "已选同课程" in same_course and ">1<" in same_course
    assert 'data-testid="draw"' not in board.text, "not before the round closes"
    early = await registrar.post(f"{ROUNDS}/{world.round_id}/draw")
    assert early.status_code == 303
    assert await places(db, z) == set()
    await change_round(db, world.round_id, closes_at=clock.now() - timedelta(seconds=1))
    board = await registrar.get(f"{ROUNDS}/{world.round_id}", headers=HTML)
    assert 'data-testid="draw"' in board.text
    drawn = await registrar.post(f"{ROUNDS}/{world.round_id}/draw")
    assert drawn.status_code == 303
    assert len(await places(db, z)) == 1 and len(await places(db, z, "lost")) == 1
    after = await registrar.get(f"{ROUNDS}/{world.round_id}", headers=HTML)
    assert "抽签完成：2 个教学班，2 人中签，1 人未中签" in after.text
    assert re.search(r'data-testid="count-lost">1<', after.text)
    client, _ = wishes[1]
    assert (await client.get(f"{ROUNDS}/{world.round_id}", headers=HTML)).status_code == 403
    assert (await client.post(f"{ROUNDS}/{world.round_id}/draw")).status_code == 403


async def test_a_student_is_told_when_someone_else_changes_their_place(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    (first, _), (second, second_id) = await student(), await student()
    z = world.sections["z"]
    assert (await choose(first, z)).status_code == 200
    assert (await choose(second, z)).json()["status"] == "waitlisted"
    assert (await first.delete(f"{API}/sections/{z}")).status_code == 204
    registrar = await login_as("staff")
    added = await registrar.post(
        f"{API}/sections/{world.sections['x1']}/overrides",
        json={"person_id": second_id, "reason": "毕业班补修"},
    )
    assert added.status_code == 204
    for event in await outbox_events(db, "academic.selection.place_changed"):
        await deliver(db, "messaging.selection_place", event)
        await deliver(db, "messaging.selection_place", event)  # delivered twice: one notice
    titles = sorted(i["title"] for i in (await inbox(second))["items"] if "选课" in i["title"])
    assert titles == ["选课变更：已为你选上X（x1）", "选课结果：Z（z）候补成功"]
    notices = [i for i in (await inbox(first))["items"] if "选课" in i["title"]]
    assert notices == [], "their own selection and drop are no news to them"
