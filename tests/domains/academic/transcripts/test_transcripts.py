"""Transcripts through HTTP: a student issues theirs in Chinese and in English, the PDF says
what the results say, the public verification page confirms it (and says so once a grade has
changed), and nobody reads another student's transcript."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import httpx
import pypdf
from sqlalchemy import select, update

from campus.domains.academic.grades.models import CourseResult
from campus.domains.academic.transcripts.models import Transcript
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.users.models import OrgUnit
from tests.domains.academic.status.conftest import Enrolled, Places
from tests.domains.academic.transcripts.conftest import publish_results
from tests.platform.access.conftest import assert_problem

API = "/api/v1/academic/transcripts"
CODE = re.compile(r"^[A-Z2-7]{4}(-[A-Z2-7]{4}){3}$")


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


async def _issue(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await client.post(API, json=body)
    assert response.status_code == 201, response.text
    found: dict[str, object] = response.json()
    return found


async def _pdf(client: httpx.AsyncClient, url: object) -> str:
    response = await client.get(str(url))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return _text(response.content)


async def test_a_student_issues_a_chinese_transcript_that_verifies(
    db: Runtime, enrolled: Enrolled, places: Places, anon: httpx.AsyncClient
) -> None:
    client, person = await enrolled()
    await publish_results(db, person["id"], places.tree.college_a)
    grades = (await client.get("/api/v1/academic/grades/me")).json()

    issued = await _issue(client, language="zh")
    assert CODE.match(str(issued["code"]))
    text = await _pdf(client, issued["pdf_url"])
    assert person["name"] in text and "成绩单" in text
    assert "2024-2025学年第一学期" in text and "2024-2025学年第二学期" in text
    assert "成绩单·高等数学" in text and "92.5" in text
    assert "优" in text and "补考" in text
    assert f"平均学分绩点（4.0）：{Decimal(grades['gpa']):.2f}" in text
    assert str(issued["code"]) in text

    verified = await anon.get(f"{API}/verify/{issued['code']}")
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["current"] is True
    assert body["content"]["gpa"] == f"{Decimal(grades['gpa']):.2f}"
    assert body["content"]["credits_earned"] == f"{Decimal(grades['earned_credits']).normalize():f}"
    page = await anon.get(f"/verify/transcripts/{str(issued['code']).lower()}")
    assert page.status_code == 200
    assert "真实有效" in page.text and person["name"] in page.text

    async with db.db.read() as session:
        row = await session.scalar(select(Transcript).where(Transcript.code == issued["code"]))
        assert row is not None and row.person_id == person["id"]
        audited = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "academic.transcript.issue",
                AuditEntry.target_id == str(row.id),
            )
        )
        events = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name == "academic.transcript.issued")
        )
        assert any(payload["transcript_id"] == row.id for payload in events)
    assert audited is not None


async def test_the_english_transcript_names_courses_and_student_in_english(
    db: Runtime, enrolled: Enrolled, places: Places
) -> None:
    client, person = await enrolled(name="王小明")
    await publish_results(db, person["id"], places.tree.college_a)
    async with db.db.transaction() as session:
        await session.execute(
            update(OrgUnit)
            .where(OrgUnit.id == places.tree.college_a)
            .values(name_en="School of Testing")
        )
    issued = await _issue(client, language="en")
    text = await _pdf(client, issued["pdf_url"])
    assert "Academic Transcript" in text
    assert "WANG Xiaoming" in text
    assert "Advanced Mathematics" in text and "Linear Algebra" in text
    assert "Excellent" in text and "Make-up" in text
    assert "2024-2025 Autumn" in text and "2024-2025 Spring" in text
    assert "School of Testing" in text  # the college's English name


async def test_a_changed_grade_is_told_on_the_verification_page_and_the_paper_stays(
    db: Runtime, enrolled: Enrolled, places: Places, anon: httpx.AsyncClient
) -> None:
    client, person = await enrolled()
    await publish_results(db, person["id"], places.tree.college_a)
    issued = await _issue(client, language="zh")
    async with db.db.transaction() as session:
        await session.execute(
            update(CourseResult)
            .where(CourseResult.person_id == person["id"], CourseResult.score == Decimal("92.5"))
            .values(score=Decimal("95"))
        )
    body = (await anon.get(f"{API}/verify/{issued['code']}")).json()
    assert body["current"] is False
    lines = [line for term in body["content"]["terms"] for line in term["lines"]]
    assert "92.5" in [line["grade"] for line in lines]  # as issued
    page = await anon.get(f"/verify/transcripts/{issued['code']}")
    assert "签发后成绩记录已有变更" in page.text
    assert "92.5" in await _pdf(client, issued["pdf_url"])


async def test_nobody_reads_or_issues_another_students_transcript(
    db: Runtime, enrolled: Enrolled, places: Places, registrar: httpx.AsyncClient
) -> None:
    client, person = await enrolled(name="李四")
    other, _other_person = await enrolled(name="王五")
    await publish_results(db, person["id"], places.tree.college_a)
    issued = await _issue(client, language="zh")
    assert_problem(await other.get(str(issued["pdf_url"])), 404)
    assert_problem(await other.post(API, json={"person_id": person["id"]}), 404)

    by_registrar = await _issue(registrar, person_id=person["id"], language="zh")
    assert person["name"] in await _pdf(registrar, by_registrar["pdf_url"])
    assert person["name"] in await _pdf(registrar, issued["pdf_url"])
    assert "李四" in await _pdf(client, by_registrar["pdf_url"])  # the student's own, too
    record_page = await registrar.get(f"/academic/status/records/{person['id']}")
    assert f"/academic/transcripts/students/{person['id']}" in record_page.text
    page = await registrar.get(f"/academic/transcripts/students/{person['id']}")
    assert page.status_code == 200 and "成绩单·高等数学" in page.text
    assert (await other.get(f"/academic/transcripts/students/{person['id']}")).status_code == 404


async def test_bad_requests_are_refused_and_write_nothing(
    db: Runtime, enrolled: Enrolled, anon: httpx.AsyncClient
) -> None:
    client, person = await enrolled()
    assert_problem(await client.post(API, json={"language": "fr"}), 422, "language")
    assert_problem(await client.post(API, json={"person_id": 0}), 422, "person_id")
    assert_problem(await anon.post(API, json={"language": "zh"}), 401)
    assert_problem(await anon.get(f"{API}/verify/AAAA-BBBB-CCCC-DDDD"), 404)
    assert (await anon.get("/verify/transcripts/AAAA-BBBB-CCCC-DDDD")).status_code == 404
    async with db.db.read() as session:
        issued = await session.scalars(
            select(Transcript).where(Transcript.person_id == person["id"])
        )
        assert list(issued) == []


async def test_a_student_without_results_gets_an_honest_empty_transcript(
    enrolled: Enrolled,
) -> None:
    client, _person = await enrolled()
    page = await client.get("/academic/transcripts/me")
    assert page.status_code == 200
    assert "暂无已发布的成绩" in page.text
    issued = await _issue(client, language="zh")
    assert "暂无已发布的成绩" in await _pdf(client, issued["pdf_url"])
