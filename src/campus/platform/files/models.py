"""Tables of the file service (private to this module)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class File(Base):
    """An uploaded file. Its bytes are the storage blob of its ``sha256``; several files with
    the same content share one blob.

    ``bound_module`` and ``bound_key`` name the object of another module the file is attached
    to (a workflow instance, a leave request…); an unbound file is an upload not yet used, and
    is swept after a day. A deleted file is only marked: the sweep removes the row and, when no
    other file shares it, the blob (see ``actions.do_purge_deleted``).
    """

    __tablename__ = "files_file"
    __table_args__ = (
        Index("ix_files_file_bound", "bound_module", "bound_key"),
        Index("ix_files_file_unbound_created", "bound_module", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # A person id of the user center: a plain column, as every reference across modules.
    owner_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    bound_module: Mapped[str | None] = mapped_column(String(60), nullable=True)
    bound_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
