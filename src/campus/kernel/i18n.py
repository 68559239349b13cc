"""Translations: Chinese is the source language, English comes from gettext catalogs (Babel).

Messages are written in Chinese in the code, wrapped in ``_()``; ``en.po`` files next to the
modules hold their English. The locale of the current request lives in a context variable.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

SUPPORTED_LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"

_current_locale: ContextVar[str] = ContextVar("campus_locale", default=DEFAULT_LOCALE)
_catalogs: dict[str, dict[str, str]] = {"en": {}}


def load_catalog(path: Path, locale: str = "en") -> None:
    """Merge a .po file's translations into the catalog of ``locale``."""
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    target = _catalogs.setdefault(locale, {})
    for message in catalog:
        if message.id and message.string and isinstance(message.id, str):
            target[message.id] = str(message.string)


def load_catalogs_under(root: Path) -> None:
    for po in sorted(root.rglob("locale/en.po")):
        load_catalog(po, "en")


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current_locale.get()


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """Pick zh_CN or en from a cookie or an Accept-Language header; Chinese by default."""
    if cookie in SUPPORTED_LOCALES:
        return cookie
    if not accept_language:
        return DEFAULT_LOCALE
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


def translate(message: str, locale: str | None = None, **params: Any) -> str:
    locale = locale or get_locale()
    text = message if locale == DEFAULT_LOCALE else _catalogs.get(locale, {}).get(message, message)
    return text.format(**params) if params else text


@dataclass(frozen=True)
class LazyText:
    """A message translated when it is shown, in the locale of that moment."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return translate(self.message, **self.params)


def _(message: str, **params: Any) -> LazyText:
    return LazyText(message, params)


def gettext(message: str, **params: Any) -> str:
    return translate(message, **params)


# A message kept in a database column and shown later, perhaps in another locale: its Chinese
# source and parameters, translated whenever it is read (``shown``).
STORED_PREFIX = "i18n:"


def storable(text: LazyText | str) -> str:
    """What a column keeps of a message: a LazyText as its source and parameters, plain text
    (a name, an upstream's own words) as it is."""
    if isinstance(text, str):
        return text
    body = {"m": text.message, "p": {k: str(v) for k, v in text.params.items()}}
    return STORED_PREFIX + json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def shown(stored: str | None) -> str | None:
    """A stored message in the current locale (plain text, or anything unreadable, as it is)."""
    if not stored or not stored.startswith(STORED_PREFIX):
        return stored
    try:
        body = json.loads(stored[len(STORED_PREFIX) :])
        return translate(str(body["m"]), **dict(body.get("p") or {}))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return stored
