"""Every message of the forms has its English. The catalogs of all modules make one (a message
is translated once, wherever it is written): words other modules already translate, such as
人员 or 必填, are left to their catalogs rather than translated a second, different way."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

import campus.platform.workflow.forms as forms

FORMS = Path(forms.__file__).parent
WORKFLOW = FORMS.parent
# _("…") or _('…') in Python and in templates, the message being its first argument.
MESSAGE = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
HAN = re.compile(r"[\u4e00-\u9fff]")


def messages() -> set[str]:
    found: set[str] = set()
    templates = WORKFLOW / "templates" / "workflow" / "forms"
    for path in [*FORMS.rglob("*.py"), *templates.rglob("*.html")]:
        for double, single in MESSAGE.findall(path.read_text(encoding="utf-8")):
            text = double or single
            if HAN.search(text):
                found.add(text)
    return found


def catalogs() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(WORKFLOW.parents[1].rglob("locale/en.po")):
        with path.open("rb") as fh:
            merged.update({m.id: m.string for m in read_po(fh, locale="en") if m.id})
    return merged


def test_every_chinese_message_of_the_forms_has_an_english_translation() -> None:
    catalog = catalogs()
    found = messages()
    assert len(found) > 200
    missing = sorted(m for m in found if not catalog.get(m))
    assert not missing, missing
