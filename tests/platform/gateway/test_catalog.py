"""Every message of the API center has its English."""

from __future__ import annotations

from campus.platform.gateway import manifest
from tests.catalogs import catalog, package_messages

PACKAGE = manifest.MODULE.directory


def test_every_chinese_message_has_an_english_translation() -> None:
    translated = catalog(PACKAGE / "locale" / "en.po")
    found = package_messages(PACKAGE)
    assert len(found) > 40
    missing = sorted(m for m in found if not translated.get(m))
    assert not missing, missing


def test_the_catalog_holds_no_stale_messages() -> None:
    ids = set(catalog(PACKAGE / "locale" / "en.po"))
    assert ids <= package_messages(PACKAGE), sorted(ids - package_messages(PACKAGE))
