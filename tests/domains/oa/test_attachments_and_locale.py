"""Attachments of notices and documents (kept by the file service, served after this module's
own access check) and the English catalog of the module's messages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
from babel.messages.pofile import read_po

from campus.domains.oa import labels
from tests.conftest import LoginAs
from tests.domains.oa.conftest import HTML, NOTICES, SignIn, Tree, assert_problem, student_in

MODULE = Path(__file__).resolve().parents[3] / "src" / "campus" / "domains" / "oa"


async def upload(client: httpx.AsyncClient, name: str, content: bytes) -> str:
    response = await client.post("/api/v1/files", files={"file": (name, content, "text/plain")})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_reader_downloads_a_notices_attachment_and_nobody_else(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    reader = await sign_in(await student_in(admin, tree))
    file_id = await upload(admin, "日程表.txt", "第一周：报到".encode())
    body = {
        "title": "附件通知",
        "targets": [{"kind": "org", "id": tree.college_a}],
        "attachments": [file_id],
    }
    notice = (await admin.post(NOTICES, json=body)).json()
    assert [a["name"] for a in notice["attachments"]] == ["日程表.txt"]
    await admin.post(f"{NOTICES}/{notice['id']}/publish")
    url = f"{NOTICES}/{notice['id']}/attachments/{file_id}"
    response = await reader.get(url)
    assert response.status_code == 200 and response.content == "第一周：报到".encode()
    # The file is bound to this notice: it cannot be attached to another object.
    again = await admin.post(NOTICES, json={**body, "title": "再用一次"})
    assert_problem(again, 422, "attachments.0")
    # Someone else's upload cannot be attached either.
    theirs = await upload(reader, "我的.txt", b"x")
    assert_problem(await admin.post(NOTICES, json={**body, "attachments": [theirs]}), 422)
    # A reader of another notice's id gets nothing; an id not in the notice is absent.
    assert_problem(await reader.get(f"{NOTICES}/{notice['id']}/attachments/{theirs}"), 404)
    hidden = await admin.post(
        NOTICES, json={"title": "乙院", "targets": [{"kind": "org", "id": tree.college_b}]}
    )
    await admin.post(f"{NOTICES}/{hidden.json()['id']}/publish")
    assert_problem(await reader.get(f"{NOTICES}/{hidden.json()['id']}/attachments/{file_id}"), 403)


async def test_pages_speak_english_when_asked(login_as: LoginAs) -> None:
    student = await login_as("student")
    for url, words in (
        ("/oa/notices", "My notices"),
        ("/oa/schedule", "Invitations to answer"),
        ("/oa/inbox", "Inbox"),
    ):
        response = await student.get(url, headers={**HTML, "Accept-Language": "en"})
        assert response.status_code == 200 and words in response.text, url


def _messages() -> set[str]:
    found: set[str] = set()
    for path in MODULE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    pattern = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
    for path in (MODULE / "templates").rglob("*.html"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    for name in dir(labels):
        value = getattr(labels, name)
        if name.isupper() and isinstance(value, dict):
            found.update(value.values())
    return {m for m in found if re.search(r"[\u4e00-\u9fff]", m)}


def test_every_message_has_english() -> None:
    with (MODULE / "locale" / "en.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    english = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in _messages() if not english.get(m))
    assert not missing, missing
