"""Reads of graduation audit runs and their results."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import sheets
from campus.domains.academic.graduation.models import AuditRun, StudentAudit
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _

VERDICT_LABELS = {"passed": "通过", "failed": "未通过", "no_programme": "无培养方案"}


async def run_or_404(session: AsyncSession, run_id: int) -> AuditRun:
    run = await session.get(AuditRun, run_id)
    if run is None:
        raise NotFound(_("毕业审核 {id} 不存在", id=run_id))
    return run


async def recent_runs(session: AsyncSession, limit: int = 20) -> list[AuditRun]:
    return list(await session.scalars(select(AuditRun).order_by(AuditRun.id.desc()).limit(limit)))


async def audits_of(
    session: AsyncSession, run_id: int, verdict: str | None = None
) -> list[StudentAudit]:
    stmt = select(StudentAudit).where(StudentAudit.run_id == run_id)
    if verdict:
        stmt = stmt.where(StudentAudit.verdict == verdict)
    return list(await session.scalars(stmt.order_by(StudentAudit.student_no)))


def most_missing(audits: list[StudentAudit], limit: int = 10) -> list[tuple[str, int]]:
    """The required courses most often missing among the audits, with how many miss each."""
    counted: Counter[str] = Counter()
    for found in audits:
        for group in (found.report or {}).get("groups", []):
            for course in group["missing_required"]:
                counted[f"{course['code']} {course['name']}"] += 1
    return counted.most_common(limit)


def missing_text(found: StudentAudit) -> str:
    """What the student lacks, in one line (for the table and the sheet)."""
    if found.report is None:
        return "专业、年级没有已发布的培养方案"
    parts = []
    for group in found.report["groups"]:
        if group["missing_required"]:
            names = "、".join(c["name"] for c in group["missing_required"])
            parts.append(f"{group['name']}缺必修：{names}")
        elif Decimal(str(group["missing_credits"])) > 0:
            parts.append(f"{group['name']}差 {group['missing_credits']} 学分")
    if Decimal(str(found.report["missing_total"])) > 0:
        parts.append(f"总学分差 {found.report['missing_total']}")
    return "；".join(parts)


COLUMNS = (
    sheets.Column("学号", "student_no"),
    sheets.Column("姓名", "name", width=10),
    sheets.Column("结论", "verdict", width=10),
    sheets.Column("已获学分", "earned", width=10),
    sheets.Column("缺少学分", "missing", width=10),
    sheets.Column("缺少必修门数", "required", width=12),
    sheets.Column("未满足的要求", "detail", width=60),
)


def results_workbook(audits: list[StudentAudit]) -> bytes:
    rows = (
        [
            a.student_no,
            a.name,
            VERDICT_LABELS[a.verdict],
            float(a.total_earned),
            float(a.missing_total),
            a.missing_required,
            missing_text(a),
        ]
        for a in audits
    )
    return sheets.workbook("毕业审核", COLUMNS, rows)
