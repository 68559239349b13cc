"""The demo university's teaching evaluation: the current term's form, open now for two weeks,
so that the demo students find 评教 to do. Idempotent (a term with a form is left alone)."""

from __future__ import annotations

from datetime import timedelta

from campus.domains.academic.evaluation import actions, queries
from campus.domains.academic.evaluation.schemas import FormIn, ItemIn
from campus.domains.academic.programmes.queries import current_term
from campus.kernel import clock
from campus.kernel.seeding import SeedContext

# The usual items of a Chinese university's 学生评教, by dimension.
DEFAULT_ITEMS: tuple[tuple[str, str], ...] = (
    ("教学态度", "教师备课充分，讲课认真投入"),
    ("教学态度", "教师按时上下课，不随意调停课"),
    ("教学态度", "教师耐心解答学生问题，课后辅导及时"),
    ("教学内容", "教学内容充实，重点难点突出"),
    ("教学内容", "能介绍学科前沿，理论联系实际"),
    ("教学方法", "讲解清楚，条理分明，启发学生思考"),
    ("教学方法", "善于使用多种教学手段，课堂互动良好"),
    ("教学效果", "通过本课程学习，我掌握了主要知识和方法"),
    ("教学效果", "本课程提高了我分析和解决问题的能力"),
    ("教学效果", "总体而言，我对本课程的教学感到满意"),
)


def default_items() -> list[ItemIn]:
    return [ItemIn(dimension=d, text=t) for d, t in DEFAULT_ITEMS]


async def seed(ctx: SeedContext) -> None:
    async with ctx.runtime.db.transaction() as session:
        term = await current_term(session)
        if term is None or await queries.form_of_term(session, term.id) is not None:
            return
        now = clock.now().replace(second=0, microsecond=0)
        await actions.check_save_form(
            session,
            FormIn(
                term_id=term.id,
                name=f"{term.name}学生评教",
                intro="评价匿名提交：教师和教务处都看不到是谁评的。请根据本学期的真实感受作答。",
                opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=14),
                items=default_items(),
            ),
        )
