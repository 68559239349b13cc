"""Every message of the permission center has its English."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from campus.platform.access import manifest

PACKAGE = manifest.MODULE.directory
# _("…") or _('…') in Python and in templates, the message being its first argument.
MESSAGE = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
HAN = re.compile(r"[\u4e00-\u9fff]")


def messages() -> set[str]:
    found: set[str] = set()
    for path in [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.html")]:
        for double, single in MESSAGE.findall(path.read_text(encoding="utf-8")):
            text = double or single
            if HAN.search(text):
                found.add(text)
    return found


def test_every_chinese_message_has_an_english_translation() -> None:
    with (PACKAGE / "locale" / "en.po").open("rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh, locale="en") if m.id}
    found = messages()
    assert len(found) > 80
    missing = sorted(m for m in found if not catalog.get(m))
    assert not missing, missing


def test_the_catalog_holds_no_stale_messages() -> None:
    with (PACKAGE / "locale" / "en.po").open("rb") as fh:
        ids = {m.id for m in read_po(fh, locale="en") if m.id}
    assert ids <= messages(), sorted(ids - messages())
