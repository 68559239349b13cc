"""Tables of the app center (private to this module). Module apps are not stored: they come
from the running modules' manifests, so favourites and usage name apps by their code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class App(Base):
    """An external system (signing in through Campus) or a third-party link."""

    __tablename__ = "appcenter_app"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # external | link
    description: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(20))
    icon: Mapped[str] = mapped_column(String(40))  # a Tabler icon name, shown without a picture
    icon_file_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # uploaded
    url: Mapped[str] = mapped_column(String(500))
    sso_client: Mapped[str | None] = mapped_column(String(80), nullable=True)
    roles: Mapped[list[str]] = mapped_column(JSON)  # empty: every role
    org_unit_ids: Mapped[list[int]] = mapped_column(JSON)  # empty: every unit
    order: Mapped[int] = mapped_column(Integer, default=100)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Favourite(Base):
    __tablename__ = "appcenter_favourite"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app_code: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Usage(Base):
    """How often a person opened an app; bumped with one upsert per click."""

    __tablename__ = "appcenter_usage"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    app_code: Mapped[str] = mapped_column(String(80), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
