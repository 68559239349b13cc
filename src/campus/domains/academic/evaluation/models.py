"""Tables of teaching evaluation (评教). Private to the academic module.

Anonymity is built into the tables: a ballot (``acad_eval_ballot``) and its scores hold no person
id, no time and no sequence (the ballot's key is random, and on SQLite the table is stored by
that key, not in the order of writing). Who has evaluated which section is a separate table
(``acad_eval_completion``) with nothing that points at a ballot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class EvalForm(Base):
    """评教问卷: one per term, with its window and the smallest number of answers a section's
    results are shown for."""

    __tablename__ = "acad_eval_form"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="RESTRICT"), unique=True
    )
    name: Mapped[str] = mapped_column(String(80))
    intro: Mapped[str] = mapped_column(Text, default="")
    anchors: Mapped[list[str]] = mapped_column(JSON)  # the labels of scores 1..5
    comment_enabled: Mapped[bool] = mapped_column(default=True)
    min_answers: Mapped[int] = mapped_column(Integer, default=5)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvalItem(Base):
    """One statement rated 1..5, in a dimension (教学态度, 教学内容…)."""

    __tablename__ = "acad_eval_item"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    form_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_eval_form.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    dimension: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(200))


class EvalBallot(Base):
    """One anonymous answer sheet for a section: which section, and the comment. No person,
    no time, a random key."""

    __tablename__ = "acad_eval_ballot"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    form_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_eval_form.id", ondelete="RESTRICT"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="RESTRICT"), index=True
    )
    comment: Mapped[str] = mapped_column(Text, default="")


class EvalScore(Base):
    """A ballot's score of one item."""

    __tablename__ = "acad_eval_score"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ballot_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("acad_eval_ballot.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_eval_item.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)


class EvalCompletion(Base):
    """That a student has evaluated a section (once): for the completion rates and to refuse a
    second ballot. Nothing here leads to the ballot."""

    __tablename__ = "acad_eval_completion"
    __table_args__ = (UniqueConstraint("section_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    form_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_eval_form.id", ondelete="RESTRICT"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="RESTRICT")
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)  # users_person.id
