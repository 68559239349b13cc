"""Chinese by default; English when the browser asks for it or the person chose it."""

from __future__ import annotations

import httpx
import pytest

from campus.kernel.errors import VALIDATION_REASONS
from campus.kernel.i18n import LazyText, _, negotiate, set_locale, shown, storable, translate
from campus.kernel.web import LOCALE_COOKIE


async def test_chinese_by_default(anon: httpx.AsyncClient) -> None:
    del anon.headers["Accept-Language"]
    response = await anon.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["title"] == "请先登录"
    assert response.headers["content-language"] == "zh-CN"


async def test_english_via_accept_language(anon: httpx.AsyncClient) -> None:
    response = await anon.get(
        "/api/v1/auth/me", headers={"Accept-Language": "en-US,en;q=0.9,zh-CN;q=0.5"}
    )
    assert response.status_code == 401
    assert response.json()["title"] == "Please sign in"
    assert response.headers["content-language"] == "en"


async def test_english_via_cookie_even_when_the_browser_prefers_chinese(
    anon: httpx.AsyncClient,
) -> None:
    anon.cookies.set(LOCALE_COOKIE, "en")
    response = await anon.get("/api/v1/no-such-route", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert response.json()["title"] == "Not found"
    assert response.headers["content-language"] == "en"


async def test_chinese_cookie_beats_an_english_browser(anon: httpx.AsyncClient) -> None:
    anon.cookies.set(LOCALE_COOKIE, "zh_CN")
    response = await anon.get("/api/v1/auth/me", headers={"Accept-Language": "en"})
    assert response.json()["title"] == "请先登录"


async def test_locale_of_one_request_does_not_leak_into_the_next(
    anon: httpx.AsyncClient,
) -> None:
    english = await anon.get("/api/v1/auth/me", headers={"Accept-Language": "en"})
    chinese = await anon.get("/api/v1/auth/me")
    assert english.json()["title"] == "Please sign in"
    assert chinese.json()["title"] == "请先登录"


@pytest.mark.parametrize(
    ("header", "cookie", "expected"),
    [
        (None, None, "zh_CN"),
        ("fr-FR,fr;q=0.9", None, "zh_CN"),
        ("fr-FR,en;q=0.8", None, "en"),
        ("zh-TW,en;q=0.8", None, "zh_CN"),
        ("EN-gb", None, "en"),
        ("en", "zh_CN", "zh_CN"),
        ("zh-CN", "en", "en"),
        ("en", "klingon", "en"),
    ],
)
def test_negotiation(header: str | None, cookie: str | None, expected: str) -> None:
    assert negotiate(header, cookie) == expected


def test_lazy_text_is_translated_when_shown_with_its_parameters() -> None:
    message = _("上传内容不能超过 {mb} MB", mb=5)
    assert isinstance(message, LazyText)
    assert translate(message.message, "en", mb=5) == "Uploads may not exceed 5 MB"
    assert translate(message.message, "zh_CN", mb=5) == "上传内容不能超过 5 MB"
    assert translate("没有英文的句子", "en") == "没有英文的句子", (
        "untranslated falls back to Chinese"
    )


def test_every_reason_for_bad_input_reads_in_english_too() -> None:
    """Each pydantic error type the kernel words in Chinese has its English."""
    for template in set(VALIDATION_REASONS.values()) - {"{error}"}:
        english = translate(template, "en")
        assert english != template and english.isascii(), template


def test_a_stored_message_is_shown_in_the_readers_language() -> None:
    kept = storable(_("文档地址回答 HTTP {status}", status=502))
    assert kept.startswith("i18n:") and "502" in kept
    try:
        set_locale("en")
        assert shown(kept) == "The document's address answered HTTP 502"
        set_locale("zh_CN")
        assert shown(kept) == "文档地址回答 HTTP 502"
    finally:
        set_locale("zh_CN")
    # Plain text, nothing, or a kept message cut short are shown as they are.
    assert storable("上游自己的话") == "上游自己的话" and shown("上游自己的话") == "上游自己的话"
    assert shown(None) is None and shown("") == ""
    assert shown(kept[:20]) == kept[:20]
