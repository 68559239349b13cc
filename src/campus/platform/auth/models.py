"""Tables of the authentication center (private to this module).

No raw secret is stored: session tokens, verification codes and recovery codes are kept as
digests; the TOTP seed, which must be read back, is encrypted with a key derived from the
site's secret key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Credential(Base):
    """A person's password (argon2id) and the state of guessing against it."""

    __tablename__ = "auth_credential"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Consecutive failures; reset by a success or once a lockout has run out.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuthSession(Base):
    """A single sign-on session: the server side of the ``campus_session`` cookie.

    ``sid`` is the public id (shown in "my devices", carried by events); the cookie holds a
    random token of which only the SHA-256 digest is kept here and in the cache.
    """

    __tablename__ = "auth_session"
    __table_args__ = (
        Index("ix_auth_session_person", "person_id", "ended_at"),
        Index("ix_auth_session_expiry", "ended_at", "expires_at"),
    )

    sid: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime())
    amr: Mapped[list[str]] = mapped_column(JSON)
    remember: Mapped[bool] = mapped_column(default=False)
    # A step the person must take before the session carries permissions:
    # "change_password" or "enrol_mfa"; None for a full session.
    pending: Mapped[str | None] = mapped_column(String(20), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class Totp(Base):
    """A person's TOTP authenticator; unconfirmed until they have entered one code from it."""

    __tablename__ = "auth_totp"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The time step of the last accepted code: a code is never accepted twice.
    last_step: Mapped[int | None] = mapped_column(BigId, nullable=True)


class RecoveryCode(Base):
    """One single-use recovery code of the second factor (its digest)."""

    __tablename__ = "auth_recovery_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ResetCode(Base):
    """A password-reset verification code sent through a channel (its digest)."""

    __tablename__ = "auth_reset_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    channel: Mapped[str] = mapped_column(String(10))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
