"""Permission codes of academic affairs. Reading the calendar, the catalogue, programmes and
published timetables needs no code; a student reads their own status and timetable, a teacher
their own sections, through ``access_*`` functions."""

from campus.kernel.i18n import _
from campus.kernel.manifest import Permission

CALENDAR_MANAGE = "academic.calendar.manage"
ROOM_MANAGE = "academic.room.manage"
COURSE_MANAGE = "academic.course.manage"
PROGRAMME_MANAGE = "academic.programme.manage"
OFFERING_MANAGE = "academic.offering.manage"
STATUS_READ = "academic.status.read"
STATUS_MANAGE = "academic.status.manage"
TIMETABLE_MANAGE = "academic.timetable.manage"
EXAM_MANAGE = "academic.exam.manage"
SELECTION_MANAGE = "academic.selection.manage"
EVALUATION_MANAGE = "academic.evaluation.manage"
EVALUATION_READ = "academic.evaluation.read"
GRADE_REVIEW = "academic.grade.review"
GRADE_PUBLISH = "academic.grade.publish"

PERMISSIONS = (
    Permission(CALENDAR_MANAGE, _("维护校历：学期、教学周、节假日与调休、作息时间")),
    Permission(ROOM_MANAGE, _("维护教学楼与教室")),
    Permission(COURSE_MANAGE, _("维护课程库（范围内开课单位的课程）")),
    Permission(PROGRAMME_MANAGE, _("维护培养方案（范围内学院的专业），生成教学计划")),
    Permission(OFFERING_MANAGE, _("开课：维护范围内开课单位的教学班、任课教师与上课班级")),
    Permission(STATUS_READ, _("查看范围内学生的学籍与学籍异动")),
    Permission(STATUS_MANAGE, _("维护学籍、办理学籍异动、维护学籍异动流程")),
    Permission(TIMETABLE_MANAGE, _("排课：运行排课、手工调整、发布课表")),
    Permission(EXAM_MANAGE, _("安排考试：考场、监考与座位")),
    Permission(
        SELECTION_MANAGE, _("选课：设置选课轮次、抽签、为范围内教学班加退学生（须注明理由）")
    ),
    Permission(
        EVALUATION_MANAGE, _("评教：维护各学期评教问卷与时间，查看范围内的完成情况与评教结果")
    ),
    Permission(EVALUATION_READ, _("查看范围内开课单位的评教完成情况与评教结果（评教结束后）")),
    Permission(GRADE_REVIEW, _("审核范围内开课单位教学班的成绩（通过或退回）")),
    Permission(GRADE_PUBLISH, _("发布成绩、查看范围内的成绩与绩点排名")),
)
