"""The transcript as a PDF (ReportLab): an A4 page or more with the student's record, a table of
results by term, the totals, and a verification QR code with its code and address.

Chinese text uses the PDF standard CJK font STSong-Light, which every PDF reader carries: no
font file is embedded, so the output is small and needs nothing installed (ADR 0003)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from campus.domains.academic.transcripts.content import Line, TranscriptContent

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

WORDS = {
    "zh": {
        "title": "成绩单",
        "student_no": "学号",
        "name": "姓名",
        "college": "学院",
        "major": "专业",
        "cohort": "年级",
        "enrolled": "入学日期",
        "status": "学籍状态",
        "code": "课程代码",
        "course": "课程名称",
        "credits": "学分",
        "grade": "成绩",
        "points": "绩点",
        "attempt": "备注",
        "courses": "课程门数",
        "earned": "已获学分",
        "gpa": "平均学分绩点",
        "none": "暂无已发布的成绩",
        "issued": "签发日期",
        "verify": "验证码",
        "scan": "扫描二维码或访问以下地址核验本成绩单：",
    },
    "en": {
        "title": "Academic Transcript",
        "student_no": "Student No.",
        "name": "Name",
        "college": "College",
        "major": "Major",
        "cohort": "Cohort",
        "enrolled": "Enrolled",
        "status": "Status",
        "code": "Code",
        "course": "Course",
        "credits": "Credits",
        "grade": "Grade",
        "points": "Points",
        "attempt": "Note",
        "courses": "Courses",
        "earned": "Credits earned",
        "gpa": "GPA",
        "none": "No published results yet",
        "issued": "Issued",
        "verify": "Verification code",
        "scan": "Scan the QR code or visit this address to verify this transcript:",
    },
}


class QrCode(Flowable):  # type: ignore[misc]  # ReportLab ships no types
    """A QR code drawn as vector squares (no image library needed)."""

    def __init__(self, data: str, size: float) -> None:
        super().__init__()
        self.matrix = segno.make(data, error="m", micro=False).matrix
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        cell = self.size / (len(self.matrix) + 8)  # a four-module quiet zone on each side
        self.canv.setFillColor(colors.black)
        for y, row in enumerate(self.matrix):
            for x, dark in enumerate(row):
                if dark:
                    top = self.size - (y + 4 + 1) * cell
                    self.canv.rect((x + 4) * cell, top, cell, cell, stroke=0, fill=1)


def render(content: TranscriptContent, site: str, code: str, issued: str, url: str) -> bytes:
    """The PDF bytes of ``content``, issued under ``code`` on ``issued``, verifiable at ``url``."""
    words = WORDS[content.language]
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=1)
    heading = ParagraphStyle("heading", parent=body, fontSize=10, leading=14, spaceBefore=6)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{site} {words['title']} {content.student_no}",
    )
    story: list[Flowable] = [_p(f"{site} {words['title']}", title), Spacer(1, 4 * mm)]
    story.append(_record_table(content, words, body))
    for block in content.terms:
        story.append(_p(block.name, heading))
        story.append(_results_table(block.lines, words, body))
    if not content.terms:
        story.append(_p(words["none"], heading))
    totals = (
        f"{words['courses']}：{content.courses}　{words['earned']}：{content.credits_earned}　"
        f"{words['gpa']}（{content.gpa_scale}）：{content.gpa or '—'}"
    )
    story += [Spacer(1, 4 * mm), _p(totals, heading), Spacer(1, 6 * mm)]
    story.append(_verification(words, body, code, issued, url))
    doc.build(story)
    return out.getvalue()


def _record_table(
    content: TranscriptContent, words: dict[str, str], style: ParagraphStyle
) -> Table:
    major = f"{content.major}（{content.major_code}）" if content.major_code else content.major
    cells = [
        [words["name"], content.name, words["student_no"], content.student_no],
        [words["college"], content.college, words["major"], major],
        [words["cohort"], str(content.cohort), words["enrolled"], content.enrolled_on],
        [words["status"], content.status, "", ""],
    ]
    rows = [[_p(text, style) for text in row] for row in cells]
    table = Table(rows, colWidths=[22 * mm, 68 * mm, 22 * mm, 68 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey)]))
    return table


def _results_table(lines: list[Line], words: dict[str, str], style: ParagraphStyle) -> Table:
    header = ["code", "course", "credits", "grade", "points", "attempt"]
    rows = [[_p(words[key], style) for key in header]]
    for line in lines:
        values = [line.code, line.name, line.credits, line.grade, line.points, line.attempt]
        rows.append([_p(value, style) for value in values])
    widths = [22 * mm, 88 * mm, 14 * mm, 20 * mm, 14 * mm, 22 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
            ]
        )
    )
    return table


def _verification(
    words: dict[str, str], style: ParagraphStyle, code: str, issued: str, url: str
) -> Table:
    text = [
        _p(f"{words['issued']}：{issued}", style),
        _p(f"{words['verify']}：{code}", style),
        _p(words["scan"], style),
        _p(url, style),
    ]
    table = Table([[QrCode(url, 28 * mm), text]], colWidths=[32 * mm, 148 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return table


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (ReportLab reads markup in paragraphs: escape it)."""
    return Paragraph(escape(text), style)
