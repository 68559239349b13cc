"""Every message of the forms has its English. The catalogs of all modules make one (a message
is translated once, wherever it is written): words other modules already translate, such as
人员 or 必填, are left to their catalogs rather than translated a second, different way."""

from __future__ import annotations

from pathlib import Path

import campus.platform.workflow.forms as forms
from tests.catalogs import catalog as read_catalog
from tests.catalogs import messages_in

FORMS = Path(forms.__file__).parent
WORKFLOW = FORMS.parent


def messages() -> set[str]:
    templates = WORKFLOW / "templates" / "workflow" / "forms"
    return messages_in([*FORMS.rglob("*.py"), *templates.rglob("*.html")])


def catalogs() -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted(WORKFLOW.parents[1].rglob("locale/en.po")):
        merged.update(read_catalog(path))
    return merged


def test_every_chinese_message_of_the_forms_has_an_english_translation() -> None:
    catalog = catalogs()
    found = messages()
    assert len(found) > 200
    missing = sorted(m for m in found if not catalog.get(m))
    assert not missing, missing
