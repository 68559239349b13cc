from campus.domains.academic.calendar import pages as calendar_pages
from campus.domains.academic.calendar import routes as calendar_routes
from campus.domains.academic.catalog import pages as catalog_pages
from campus.domains.academic.catalog import routes as catalog_routes
from campus.domains.academic.evaluation import pages as evaluation_pages
from campus.domains.academic.evaluation import routes as evaluation_routes
from campus.domains.academic.exams import pages as exam_pages
from campus.domains.academic.exams import routes as exam_routes
from campus.domains.academic.exams.runner import TASKS as EXAM_TASKS
from campus.domains.academic.grades import handlers as grade_handlers
from campus.domains.academic.grades import pages as grade_pages
from campus.domains.academic.grades import routes as grade_routes
from campus.domains.academic.graduation import pages as graduation_pages
from campus.domains.academic.graduation import routes as graduation_routes
from campus.domains.academic.offering import pages as offering_pages
from campus.domains.academic.offering import routes as offering_routes
from campus.domains.academic.permissions import (
    EVALUATION_READ,
    EXAM_MANAGE,
    GRADE_PUBLISH,
    OFFERING_MANAGE,
    PERMISSIONS,
    ROOM_MANAGE,
    SELECTION_MANAGE,
    STATUS_MANAGE,
    STATUS_READ,
    TIMETABLE_MANAGE,
)
from campus.domains.academic.programmes import pages as programme_pages
from campus.domains.academic.programmes import routes as programme_routes
from campus.domains.academic.rooms import pages as room_pages
from campus.domains.academic.rooms import routes as room_routes
from campus.domains.academic.seed import seed
from campus.domains.academic.selection import jobs as selection_jobs
from campus.domains.academic.selection import pages as selection_pages
from campus.domains.academic.selection import routes as selection_routes
from campus.domains.academic.status import handlers as status_handlers
from campus.domains.academic.status import pages as status_pages
from campus.domains.academic.status import routes as status_routes
from campus.domains.academic.timetabling import pages as timetabling_pages
from campus.domains.academic.timetabling import routes as timetabling_routes
from campus.domains.academic.timetabling.runner import TASKS as TIMETABLING_TASKS
from campus.domains.academic.transcripts import pages as transcript_pages
from campus.domains.academic.transcripts import routes as transcript_routes
from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module

MODULE = Module(
    name="academic",
    title=_("教务管理"),
    package="campus.domains.academic",
    depends=("users", "access", "files", "workflow"),
    routers=(
        calendar_routes.router,
        room_routes.router,
        catalog_routes.router,
        programme_routes.router,
        offering_routes.router,
        status_routes.router,
        timetabling_routes.router,
        timetabling_routes.published,
        exam_routes.router,
        selection_routes.router,
        transcript_routes.router,
        graduation_routes.router,
        evaluation_routes.router,
        grade_routes.router,
    ),
    pages=(
        calendar_pages.router,
        room_pages.router,
        catalog_pages.router,
        programme_pages.router,
        offering_pages.router,
        status_pages.router,
        timetabling_pages.router,
        exam_pages.router,
        selection_pages.router,
        transcript_pages.router,
        graduation_pages.router,
        evaluation_pages.router,
        grade_pages.router,
    ),
    permissions=PERMISSIONS,
    menu=(
        MenuEntry(_("校历"), "/academic/calendar", None, icon="calendar", order=33, shortcut=True),
        MenuEntry(_("课程库"), "/academic/courses", None, icon="book", order=34),
        MenuEntry(_("教室"), "/academic/rooms", ROOM_MANAGE, icon="building", order=35),
        MenuEntry(_("培养方案"), "/academic/programmes", None, icon="list-tree", order=36),
        MenuEntry(
            _("我的培养方案"),
            "/academic/my/programme",
            None,
            icon="school",
            order=37,
            audience="student",
        ),
        MenuEntry(_("教学计划"), "/academic/plans", None, icon="list-check", order=38),
        MenuEntry(_("开课"), "/academic/offering", OFFERING_MANAGE, icon="books", order=39),
        MenuEntry(
            _("我的教学班"),
            "/academic/my/sections",
            None,
            icon="chalkboard",
            order=39,
            audience="staff",
        ),
        MenuEntry(
            _("我的学籍"),
            "/academic/status/me",
            None,
            icon="id-badge-2",
            order=40,
            audience="student",
        ),
        MenuEntry(
            _("成绩单"),
            "/academic/transcripts/me",
            None,
            icon="file-certificate",
            order=40,
            audience="student",
        ),
        MenuEntry(
            _("我的毕业审核"),
            "/academic/graduation/me",
            None,
            icon="school",
            order=40,
            audience="student",
        ),
        MenuEntry(
            _("毕业审核"), "/academic/graduation/runs", STATUS_MANAGE, icon="certificate", order=41
        ),
        MenuEntry(
            _("学籍管理"), "/academic/status/records", STATUS_READ, icon="address-book", order=41
        ),
        MenuEntry(
            _("我的课表"),
            "/academic/timetable",
            None,
            icon="calendar-week",
            order=42,
            shortcut=True,
        ),
        MenuEntry(
            _("空教室查询"), "/academic/free-rooms", None, icon="door", order=43, shortcut=True
        ),
        MenuEntry(_("排课"), "/academic/timetabling", TIMETABLE_MANAGE, icon="grid-dots", order=44),
        MenuEntry(
            _("我的考试"), "/academic/my/exams", None, icon="writing", order=45, shortcut=True
        ),
        MenuEntry(_("考试安排"), "/academic/exams", EXAM_MANAGE, icon="clipboard-list", order=46),
        MenuEntry(
            _("选课"), "/academic/selection", None, icon="hand-click", order=47, audience="student"
        ),
        MenuEntry(
            _("我的选课"),
            "/academic/selection/me",
            None,
            icon="list-check",
            order=48,
            shortcut=True,
            audience="student",
        ),
        MenuEntry(
            _("选课管理"),
            "/academic/selection/rounds",
            SELECTION_MANAGE,
            icon="adjustments",
            order=49,
        ),
        MenuEntry(
            _("成绩录入"), "/academic/grades", None, icon="report", order=50, audience="staff"
        ),
        MenuEntry(
            _("我的成绩"),
            "/academic/grades/me",
            None,
            icon="certificate",
            order=51,
            audience="student",
        ),
        MenuEntry(
            _("绩点排名"), "/academic/grades/ranking", GRADE_PUBLISH, icon="trophy", order=52
        ),
        MenuEntry(_("成绩规则"), "/academic/grades/policy", GRADE_PUBLISH, icon="scale", order=52),
        MenuEntry(
            _("评教"),
            "/academic/evaluation",
            None,
            icon="star",
            order=53,
            shortcut=True,
            audience="student",
        ),
        MenuEntry(
            _("我的评教结果"),
            "/academic/evaluation/teaching",
            None,
            icon="star-half",
            order=54,
            audience="staff",
        ),
        MenuEntry(
            _("评教管理"), "/academic/evaluation/forms", EVALUATION_READ, icon="chart-bar", order=55
        ),
    ),
    handlers=(*status_handlers.HANDLERS, *grade_handlers.HANDLERS),
    jobs=(selection_jobs.SWEEP,),
    seed=seed,
    seed_order=50,
    data_objects=(
        "acad_term",
        "acad_room",
        "acad_course",
        "acad_student_status",
        "acad_status_change",
        "acad_status_history",
        "acad_transcript",
        "acad_grad_audit_run",
        "acad_grad_audit",
        "acad_course_result",
    ),
    extra={"tasks": (*TIMETABLING_TASKS, *EXAM_TASKS)},
)
