"""Input and output models of the client registry and the signing keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ClientType = Literal["confidential", "public"]
GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
# Two characters and up: a gateway consumer's name (two or more) serves as its client's id.
CLIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"
MAX_URIS = 20


def _default_grant_types() -> list[GrantType]:
    return ["authorization_code", "refresh_token"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ClientCreate(_Input):
    client_id: str | None = Field(
        None, pattern=CLIENT_ID_PATTERN, description="留空则自动生成；创建后不能修改"
    )
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=500)
    client_type: ClientType = Field("confidential", description="public：无密钥，必须使用 PKCE")
    first_party: bool = Field(False, description="本校自有系统：登录时不再询问授权")
    redirect_uris: list[str] = Field(default_factory=list, max_length=MAX_URIS)
    post_logout_redirect_uris: list[str] = Field(default_factory=list, max_length=MAX_URIS)
    allowed_scopes: list[str] = Field(default_factory=lambda: ["openid", "profile"])
    grant_types: list[GrantType] = Field(default_factory=_default_grant_types)
    backchannel_logout_uri: str | None = Field(None, max_length=500)
    frontchannel_logout_uri: str | None = Field(None, max_length=500)


class ClientUpdate(_Input):
    """Fields to change; those left out stay as they are."""

    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)
    first_party: bool | None = None
    redirect_uris: list[str] | None = Field(None, max_length=MAX_URIS)
    post_logout_redirect_uris: list[str] | None = Field(None, max_length=MAX_URIS)
    allowed_scopes: list[str] | None = None
    grant_types: list[GrantType] | None = None
    backchannel_logout_uri: str | None = Field(None, max_length=500)
    frontchannel_logout_uri: str | None = Field(None, max_length=500)
    active: bool | None = None


class ClientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    name: str
    description: str
    client_type: ClientType
    first_party: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    allowed_scopes: list[str]
    grant_types: list[GrantType]
    backchannel_logout_uri: str | None
    frontchannel_logout_uri: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class ClientWithSecret(ClientOut):
    """A client as it is answered once after creation or a new secret: with the secret, which
    is stored only as a digest and never shown again."""

    client_secret: str | None = None


class KeyOut(BaseModel):
    kid: str
    status: Literal["active", "retired"]
    created_at: datetime
    retired_at: datetime | None
    published_until: datetime | None = Field(
        None, description="退役密钥在此时间前仍在 JWKS 中发布（其签发的令牌均已过期）"
    )
