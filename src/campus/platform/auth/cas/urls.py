"""Service URLs: which ones CAS accepts, how they are compared, and how patterns match them.

A service URL decides where a browser is sent with a ticket, so it is checked strictly before
anything else: absolute http(s) only, no user-info (``https://lib@evil.example``), no control
characters, backslashes or dot segments, and a bounded length. Patterns are anchored: an exact
URL, a prefix that must end at a path boundary on the same scheme, host and port, or a regular
expression that must match the whole URL, run with a time limit so that a bad pattern cannot
hang a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import regex
import structlog

from campus.kernel.i18n import LazyText, _

log = structlog.get_logger(__name__)

MAX_URL_LENGTH = 2048
MAX_PATTERN_LENGTH = 500
REGEX_TIMEOUT_SECONDS = 0.05
WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Anything below space, DEL, whitespace and backslashes: browsers "repair" them differently.
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


class MatchKind(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    REGEX = "regex"


def canonical_url(raw: str, schemes: Iterable[str] = WEB_SCHEMES) -> str | None:
    """The URL in the form used for comparisons, or None if CAS must not accept it.

    Scheme and host are lower-cased, a default port is dropped, an empty path becomes ``/``,
    the query is kept as sent and the fragment dropped.
    """
    if not raw or len(raw) > MAX_URL_LENGTH or _UNSAFE.search(raw):
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in set(schemes) or "@" in parts.netloc or not _valid_host(host):
        return None
    if _has_dot_segment(parts.path):
        return None
    netloc = host if port is None or port == DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def _valid_host(host: str) -> bool:
    """A DNS name or an IPv4 address; IPv6 literals and odd characters are refused."""
    return bool(_HOST.match(host))


def _has_dot_segment(path: str) -> bool:
    segments = unquote(path).split("/")
    return any(segment in (".", "..") for segment in segments)


def same_service(a: str, b: str) -> bool:
    """Whether two service URLs name the same service (a ticket is bound to its URL)."""
    left, right = canonical_url(a), canonical_url(b)
    return left is not None and left == right


def check_pattern(kind: MatchKind, pattern: str) -> LazyText | None:
    """Why ``pattern`` cannot be saved, or None if it can."""
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        return _("长度应为 1–{limit} 个字符", limit=MAX_PATTERN_LENGTH)
    if kind is MatchKind.REGEX:
        try:
            regex.compile(pattern)
        except regex.error as exc:
            return _("不是有效的正则表达式：{error}", error=str(exc))
        return None
    if canonical_url(pattern) is None:
        return _("应为完整的 http 或 https 网址，且不含用户名、空白或“..”路径段")
    if kind is MatchKind.PREFIX and (urlsplit(pattern).query or "#" in pattern):
        return _("前缀不能包含查询参数或片段")
    return None


def matches(kind: MatchKind, pattern: str, url: str) -> bool:
    """Whether the service URL ``url`` (already canonical) is covered by the pattern."""
    if kind is MatchKind.REGEX:
        return _regex_matches(pattern, url)
    expected = canonical_url(pattern)
    if expected is None:
        return False
    if kind is MatchKind.EXACT:
        return url == expected
    return _prefix_matches(expected, url)


def _prefix_matches(prefix: str, url: str) -> bool:
    """Same scheme, host and port; the path continues the prefix's path at a ``/``."""
    want, got = urlsplit(prefix), urlsplit(url)
    if (want.scheme, want.netloc) != (got.scheme, got.netloc):
        return False
    base = want.path
    if got.path == base:
        return True
    return got.path.startswith(base if base.endswith("/") else base + "/")


def _regex_matches(pattern: str, url: str) -> bool:
    try:
        return regex.fullmatch(pattern, url, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        log.warning("cas_service_pattern_timeout", pattern=pattern[:100])
        return False
    except regex.error:
        return False


def with_ticket(service: str, ticket: str) -> str:
    """The service URL with ``ticket`` added to its query, before any fragment."""
    base, hashmark, fragment = service.partition("#")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode({'ticket': ticket})}{hashmark}{fragment}"


def with_params(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to the parameters it already has."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
