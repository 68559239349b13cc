"""Tables of the OpenID Connect provider (private to auth.oidc).

No secret is stored in the clear: client secrets, codes and refresh tokens are kept as SHA-256
digests (they are long random strings, so a digest cannot be reversed by guessing); signing
keys are encrypted with a key derived from the site's secret key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class SigningKey(Base):
    """An RS256 signing key. One is active; retired keys stay published until every token
    they signed has expired."""

    __tablename__ = "auth_oidc_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), index=True)  # active | retired
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    private_key_encrypted: Mapped[str] = mapped_column(Text)


class Client(Base):
    """A registered relying party (an application that signs its users in through Campus)."""

    __tablename__ = "auth_oidc_client"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    # public clients (single-page and mobile apps) have no secret and must use PKCE S256.
    client_type: Mapped[str] = mapped_column(String(20))  # confidential | public
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    first_party: Mapped[bool] = mapped_column(default=False)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    allowed_scopes: Mapped[list[str]] = mapped_column(JSON)
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Loaded in a hidden frame of the page that signs the person out (with iss and sid).
    frontchannel_logout_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuthorizationCode(Base):
    """A one-time code handed to a client's redirect URI; exchanged once, within a minute."""

    __tablename__ = "auth_oidc_code"
    __table_args__ = (Index("ix_auth_oidc_code_expires", "expires_at"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(BigId)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(500), nullable=True)
    code_challenge: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code_challenge_method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    issuer: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The grant the exchange created: a replayed code revokes it.
    grant_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class Grant(Base):
    """What one authorization (or one client-credentials request) produced: a family of
    access and refresh tokens that is revoked as a whole (logout, reuse, revocation)."""

    __tablename__ = "auth_oidc_grant"
    __table_args__ = (
        Index("ix_auth_oidc_grant_session", "session_id", "revoked_at"),
        Index("ix_auth_oidc_grant_expires", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scope: Mapped[str] = mapped_column(String(500))
    issuer: Mapped[str] = mapped_column(String(300))
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The last moment a token of the family can still be valid (the newest refresh token's).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(30), nullable=True)


class RefreshToken(Base):
    """A refresh token (its digest). Used once: each use rotates it; a second use is a reuse."""

    __tablename__ = "auth_oidc_refresh_token"
    __table_args__ = (Index("ix_auth_oidc_refresh_token_expires", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("auth_oidc_grant.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AccessToken(Base):
    """An issued access token (a JWT) by its ``jti``: introspection and userinfo look here to
    honour revocation and logout, which a JWT alone cannot express."""

    __tablename__ = "auth_oidc_access_token"
    __table_args__ = (Index("ix_auth_oidc_access_token_expires", "expires_at"),)

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    grant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("auth_oidc_grant.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Consent(Base):
    """The scopes a person has allowed a (third-party) client; asked again for new scopes."""

    __tablename__ = "auth_oidc_consent"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
