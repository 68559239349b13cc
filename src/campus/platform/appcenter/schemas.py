"""Input and output models of the app center."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from campus.kernel.i18n import _

CODE_PATTERN = r"^[a-z][a-z0-9-]{1,39}$"
ICONS_CSS = (
    Path(__file__).parents[2]
    / "web"
    / "static"
    / "vendor"
    / "tabler-icons"
    / "tabler-icons.min.css"
)
AppKind = Literal["module", "external", "link"]


@cache
def icon_names() -> frozenset[str]:
    """The names of the project's icon set (Tabler Icons, served locally)."""
    return frozenset(re.findall(r"\.ti-([a-z0-9-]+):before", ICONS_CSS.read_text()))


FILES_MODULE = "appcenter"  # the module an uploaded icon is bound to, under app_key


def app_key(app_id: int) -> str:
    return f"app:{app_id}"


def icon_url(code: str, file_id: str | None) -> str | None:
    """Where an app's uploaded icon is served; the file id in the query lets browsers keep it."""
    return None if not file_id else f"/api/v1/appcenter/apps/{code}/icon?v={file_id}"


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(str(_("应为 http:// 或 https:// 开头的地址")))
    return value


def _icon(value: str) -> str:
    if value not in icon_names():
        raise ValueError(str(_("图标“{name}”不在图标库中", name=value)))
    return value


class _Checked(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("url", check_fields=False)
    @classmethod
    def http_url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("icon", check_fields=False)
    @classmethod
    def known_icon(cls, value: str | None) -> str | None:
        return None if value is None else _icon(value)

    @field_validator("sso_client", "icon_file_id", check_fields=False)
    @classmethod
    def blank_is_none(cls, value: str | None) -> str | None:
        return value or None


class AppPatch(_Checked):
    """What an administrator may change of an app; every field optional."""

    name: str | None = Field(default=None, min_length=1, max_length=40)
    kind: Literal["external", "link"] | None = None
    description: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=20)
    icon: str | None = Field(default=None, max_length=40)
    icon_file_id: str | None = Field(
        default=None, max_length=32, description="上传的图标图片（文件编号）；null 为不用图片"
    )
    url: str | None = Field(default=None, max_length=500)
    sso_client: str | None = Field(default=None, max_length=80, description="如 oidc:<client_id>")
    roles: list[str] | None = Field(default=None, max_length=50, description="角色代码；空为所有人")
    org_units: list[str] | None = Field(
        default=None, max_length=50, description="组织机构代码；空为全校"
    )
    order: int | None = Field(default=None, ge=0, le=10000)
    enabled: bool | None = None


class AppIn(_Checked):
    """A new app: code, name and URL are required."""

    code: str = Field(pattern=CODE_PATTERN, description="应用代码：小写字母、数字和连字符")
    name: str = Field(min_length=1, max_length=40)
    kind: Literal["external", "link"] = "link"
    description: str = Field(default="", max_length=200)
    category: str = Field(default="其他", min_length=1, max_length=20)
    icon: str = Field(default="apps", max_length=40)
    icon_file_id: str | None = Field(
        default=None, max_length=32, description="上传的图标图片（文件编号），代替图标库图标"
    )
    url: str = Field(max_length=500)
    sso_client: str | None = Field(default=None, max_length=80, description="如 oidc:<client_id>")
    roles: list[str] = Field(default_factory=list, max_length=50)
    org_units: list[str] = Field(default_factory=list, max_length=50)
    order: int = Field(default=100, ge=0, le=10000)
    enabled: bool = True


class AppUsageOut(BaseModel):
    """How much one app is used, for administrators: people and opens, and the last open."""

    code: str
    name: str
    kind: str  # module | external | link | removed
    people: int
    uses: int
    last_used_at: datetime


class AppOut(BaseModel):
    """A stored app as administrators see it."""

    code: str
    name: str
    kind: str
    description: str
    category: str
    icon: str
    icon_file_id: str | None = None
    icon_url: str | None = None  # the uploaded picture, shown instead of the icon
    url: str
    sso_client: str | None
    roles: list[str]
    org_units: list[str]
    order: int
    enabled: bool
    demo: bool
    updated_at: datetime


class AppCard(BaseModel):
    """An app as the person who may open it sees it."""

    code: str
    name: str
    kind: AppKind
    description: str
    category: str
    icon: str
    icon_url: str | None = None  # the uploaded picture, shown instead of the icon
    url: str
    open_url: str
    module: str | None = None
    initials: str = ""
    favourite: bool = False
    uses: int = 0
    order: int = 100
