"""Service URL checks and pattern matching: what a ticket may be sent to."""

from __future__ import annotations

import time

import pytest

from campus.platform.auth.cas.urls import (
    MatchKind,
    canonical_url,
    check_pattern,
    matches,
    same_service,
    with_params,
    with_ticket,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://Lib.Demo.EDU.cn", "https://lib.demo.edu.cn/"),
        ("https://lib.demo.edu.cn:443/a?b=1#frag", "https://lib.demo.edu.cn/a?b=1"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("http://lib.demo.edu.cn:80/", "http://lib.demo.edu.cn/"),
    ],
)
def test_canonical_form(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "/relative/path",
        "//lib.demo.edu.cn/",
        "javascript:alert(1)",
        "data:text/html,<script>",
        "ftp://lib.demo.edu.cn/",
        "https://user:pw@lib.demo.edu.cn/",
        "https://lib.demo.edu.cn@evil.example/",
        "https://lib.demo.edu.cn\\@evil.example/",
        "https://lib.demo.edu.cn/a b",
        "https://lib.demo.edu.cn/\r\nx",
        "https://lib.demo.edu.cn/a/../b",
        "https://lib.demo.edu.cn/a/%2E%2E/b",
        "https://lib.demo.edu.cn:99999/",
        "https://[::1]/",
        "https://lib_demo.edu.cn/",
        "https://" + "a" * 3000 + ".cn/",
    ],
)
def test_urls_that_are_never_accepted(raw: str) -> None:
    assert canonical_url(raw) is None


def test_prefix_ends_at_a_path_boundary_on_the_same_origin() -> None:
    prefix = "https://lib.demo.edu.cn/opac"
    for url, expected in [
        ("https://lib.demo.edu.cn/opac", True),
        ("https://lib.demo.edu.cn/opac/search?q=1", True),
        ("https://lib.demo.edu.cn/opacity", False),
        ("https://lib.demo.edu.cn.evil.cn/opac/", False),
        ("http://lib.demo.edu.cn/opac/", False),
        ("https://lib.demo.edu.cn:8443/opac/", False),
        ("https://evil.cn/opac/", False),
    ]:
        canonical = canonical_url(url)
        assert canonical is not None
        assert matches(MatchKind.PREFIX, prefix, canonical) is expected, url


def test_exact_and_regex_are_anchored() -> None:
    exact = "https://jwxt.demo.edu.cn/login"
    assert matches(MatchKind.EXACT, exact, "https://jwxt.demo.edu.cn/login")
    assert not matches(MatchKind.EXACT, exact, "https://jwxt.demo.edu.cn/login?next=x")
    pattern = r"https://(www\.)?lib\.demo\.edu\.cn/"
    assert matches(MatchKind.REGEX, pattern, "https://www.lib.demo.edu.cn/")
    assert not matches(MatchKind.REGEX, pattern, "https://lib.demo.edu.cn/x")
    assert not matches(MatchKind.REGEX, pattern, "https://evil.cn/?https://lib.demo.edu.cn/")


def test_a_catastrophic_regex_gives_up_quickly() -> None:
    pattern = r"https://(a|aa)+$"
    url = "https://" + "a" * 64 + "!"
    started = time.perf_counter()
    assert not matches(MatchKind.REGEX, pattern, url)
    assert time.perf_counter() - started < 2


def test_patterns_are_checked_before_saving() -> None:
    assert check_pattern(MatchKind.PREFIX, "https://lib.demo.edu.cn/") is None
    assert check_pattern(MatchKind.REGEX, r"https://x\.cn/.*") is None
    assert check_pattern(MatchKind.REGEX, "(") is not None
    assert check_pattern(MatchKind.PREFIX, "https://x.cn/?a=1") is not None
    assert check_pattern(MatchKind.EXACT, "x.cn") is not None
    assert check_pattern(MatchKind.EXACT, "") is not None


def test_same_service_ignores_case_default_port_and_fragment_only() -> None:
    assert same_service("https://LIB.demo.edu.cn:443/a?x=1#f", "https://lib.demo.edu.cn/a?x=1")
    assert not same_service("https://lib.demo.edu.cn/a?x=1", "https://lib.demo.edu.cn/a?x=2")
    assert not same_service("javascript:x", "javascript:x")


def test_ticket_and_parameters_are_added_to_the_query() -> None:
    assert with_ticket("https://a.cn/p", "ST-1") == "https://a.cn/p?ticket=ST-1"
    assert with_ticket("https://a.cn/p?x=1#top", "ST-1") == "https://a.cn/p?x=1&ticket=ST-1#top"
    url = with_params("https://a.cn/cb?keep=1", {"pgtId": "PGT-1", "pgtIou": "PGTIOU-1"})
    assert url == "https://a.cn/cb?keep=1&pgtId=PGT-1&pgtIou=PGTIOU-1"
