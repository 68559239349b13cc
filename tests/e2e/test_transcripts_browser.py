"""Transcripts in a real browser: the demo student, on a phone, issues a Chinese transcript
(the PDF is downloaded and names them), finds it among their issued transcripts, and whoever
holds the paper opens its verification page without signing in."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PHONE, _fresh_page, sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser


def test_a_student_issues_a_transcript_that_anyone_can_verify(
    phone_page: Page, browser: Browser, server: LiveServer, tmp_path: Path
) -> None:
    page = phone_page
    student = server.login("student")
    sign_in(page, student.login, student.password)
    page.goto("/academic/transcripts/me")
    expect(page.get_by_test_id("transcript-summary")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("issue-zh").click()
    saved = tmp_path / "transcript.pdf"
    download.value.save_as(saved)
    text = pypdf.PdfReader(saved).pages[0].extract_text()
    assert student.name in text and "成绩单" in text
    code = re.search(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}", text)
    assert code is not None, text

    page.goto("/academic/transcripts/me")
    expect(page.get_by_test_id("issued-row").first).to_contain_text(code.group(0))

    with _fresh_page(browser, server, viewport=PHONE) as stranger:
        stranger.goto(f"/verify/transcripts/{code.group(0)}")
        expect(stranger.get_by_test_id("verify-result")).to_contain_text("真实有效")
        expect(stranger.get_by_test_id("verify-name")).to_have_text(student.name)
