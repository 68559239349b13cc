"""Every form of every template can pass the CSRF check (kernel/web.py): a plain POST form
carries the token field, and a form that uploads files is sent by htmx, whose header carries the
token — the check reads the field only from urlencoded bodies, so a plain multipart form would
always be refused."""

from __future__ import annotations

import re
from pathlib import Path

import campus

TEMPLATES = Path(campus.__file__).parent
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
POSTS = re.compile(r'method\s*=\s*"post"', re.I)
BY_HTMX = re.compile(r"\bhx-(post|put|patch|delete)\b")
TOKEN = re.compile(r"csrf_token|\{\{\s*csrf(\(\))?\s*\}\}")


def plain_post_forms() -> list[tuple[str, str, str]]:
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        for form in FORM.finditer(template.read_text(encoding="utf-8")):
            attributes, body = form.group(1), form.group(2)
            if POSTS.search(attributes) and not BY_HTMX.search(attributes):
                found.append((str(template.relative_to(TEMPLATES)), attributes.strip(), body))
    return found


def test_there_are_plain_post_forms_to_check() -> None:
    assert len(plain_post_forms()) > 50


def test_every_plain_post_form_carries_the_token() -> None:
    missing = [
        (name, attrs[:80]) for name, attrs, body in plain_post_forms() if not TOKEN.search(body)
    ]
    assert not missing, missing


def test_no_plain_form_uploads_files() -> None:
    multipart = [
        (name, attrs[:80]) for name, attrs, _ in plain_post_forms() if "multipart" in attrs
    ]
    assert not multipart, "send file uploads with hx-post and hx-encoding instead"
