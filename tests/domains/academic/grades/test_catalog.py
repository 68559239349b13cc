"""The grade policy speaks English when asked: every message of the policy (its checks, its
page, the rule labels) has its English, and the grades catalogue holds no stale message."""

from __future__ import annotations

from pathlib import Path

from campus.domains.academic.grades import policy
from campus.domains.academic.grades.schemas import MAKEUP_LABELS, RETAKE_LABELS
from tests.catalogs import catalog, messages_in, package_messages
from tests.domains.academic.grades.conftest import API, School

GRADES = Path(policy.__file__).parent
TEMPLATES = GRADES.parent / "templates" / "academic" / "grades"
PO = GRADES / "locale" / "en.po"


def test_every_message_of_the_policy_has_an_english_translation() -> None:
    found = messages_in([GRADES / "policy.py", TEMPLATES / "policy.html"])
    found |= {*MAKEUP_LABELS.values(), *RETAKE_LABELS.values()}
    assert len(found) > 30
    translated = catalog(PO)
    assert not sorted(m for m in found if not translated.get(m))


def test_the_catalog_holds_no_stale_messages() -> None:
    known = package_messages(GRADES) | messages_in(TEMPLATES.glob("*.html"))
    known |= {*MAKEUP_LABELS.values(), *RETAKE_LABELS.values()}
    assert set(catalog(PO)) <= known, sorted(set(catalog(PO)) - known)


async def test_the_policy_page_and_its_problems_in_english(school: School) -> None:
    client = school.registrar
    client.headers["Accept-Language"] = "en"
    page = await client.get("/academic/grades/policy")
    assert "Make-ups, retakes and academic warning" in page.text
    assert "Capped at a pass" in page.text
    current = (await client.get(f"{API}/policy")).json()
    response = await client.put(f"{API}/policy", json={**current, "warning_credits": "0"})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error == {
        "field": "warning_credits",
        "reason": "The warning threshold must be above 0 and at most 1000",
    }
