"""Every message of the community has its English, and the catalog holds no stale ones."""

from __future__ import annotations

from campus.domains.community import labels, manifest
from tests.catalogs import catalog as read_catalog
from tests.catalogs import package_messages

PACKAGE = manifest.MODULE.directory


def messages() -> set[str]:
    found = package_messages(PACKAGE)
    # Labels are shown through _(label).
    for name, table in vars(labels).items():
        if name.endswith("_LABELS"):
            found.update(table.values())
    return found


def catalog() -> dict[str, str]:
    return read_catalog(PACKAGE / "locale" / "en.po")


def test_every_chinese_message_has_an_english_translation() -> None:
    found = messages()
    assert len(found) > 150
    translated = catalog()
    missing = sorted(m for m in found if not translated.get(m))
    assert not missing, missing


def test_the_catalog_holds_no_stale_messages() -> None:
    assert set(catalog()) <= messages(), sorted(set(catalog()) - messages())


async def test_pages_and_problems_speak_english_when_asked(scene) -> None:  # type: ignore[no-untyped-def]
    client = scene.bob.client
    client.headers["Accept-Language"] = "en"
    missing = await client.put("/api/v1/community/people/999999999/follow")
    assert missing.json()["detail"] == "No such user"
    problem = await client.put(f"/api/v1/community/people/{scene.bob.id}/follow")
    assert problem.json()["errors"][0]["reason"] == "You cannot follow yourself"
    page = await client.get("/community", headers={"Accept": "text/html"})
    assert "Latest" in page.text and "New post" in page.text
