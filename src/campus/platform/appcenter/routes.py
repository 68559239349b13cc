"""JSON API of the app center: /api/v1/appcenter/...

Everyone signed in reads their own catalog and stars apps they may see; administrators holding
``appcenter.app.manage`` create and change the stored apps.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import context
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.access.service import require, signed_in
from campus.platform.appcenter import actions, catalog, queries
from campus.platform.appcenter.models import App
from campus.platform.appcenter.permissions import APP_MANAGE
from campus.platform.appcenter.schemas import (
    FILES_MODULE,
    AppCard,
    AppIn,
    AppOut,
    AppPatch,
    AppUsageOut,
    app_key,
)
from campus.platform.files import service as files

router = APIRouter(prefix="/api/v1/appcenter", tags=["appcenter"])


def me() -> Principal:
    principal = context.current().principal
    assert principal is not None  # the route requires a signed-in person
    return principal


def app_not_found(code: str) -> NotFound:
    return NotFound(_("应用“{code}”不存在", code=code))


async def stored_app(session: AsyncSession, code: str) -> App:
    app = await queries.app_by_code(session, code)
    if app is None:
        raise app_not_found(code)
    return app


async def visible_card(session: AsyncSession, rt: Runtime, code: str) -> AppCard:
    """The app if the signed-in person may see it; 404 as if it did not exist otherwise."""
    card = await catalog.find_visible(session, rt.modules, me(), code)
    if card is None:
        raise app_not_found(code)
    return card


@router.get(
    "/my-apps",
    response_model=list[AppCard],
    dependencies=[signed_in()],
    summary="我可以使用的应用：收藏在前，再按使用次数，可按名称/拼音首字母与分类筛选",
)
async def my_apps(
    session: ReadSessionDep,
    rt: RuntimeDep,
    q: Annotated[str, Query(max_length=40)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
) -> list[AppCard]:
    cards = await catalog.catalog(session, rt.modules, me())
    term = q.strip()
    return [
        c
        for c in cards
        if (not term or catalog.matches(c, term)) and (not category or c.category == category)
    ]


@router.put(
    "/favourites/{code}",
    status_code=204,
    dependencies=[signed_in()],
    summary="收藏应用（看不到的应用为 404）",
)
async def star(code: str, session: SessionDep, rt: RuntimeDep) -> Response:
    await visible_card(session, rt, code)
    await actions.do_favourite(session, me().person_id, code, True)
    return Response(status_code=204)


@router.delete(
    "/favourites/{code}", status_code=204, dependencies=[signed_in()], summary="取消收藏"
)
async def unstar(code: str, session: SessionDep, rt: RuntimeDep) -> Response:
    await visible_card(session, rt, code)
    await actions.do_favourite(session, me().person_id, code, False)
    return Response(status_code=204)


@router.get(
    "/usage",
    response_model=list[AppUsageOut],
    dependencies=[require(APP_MANAGE)],
    summary="各应用的使用情况：使用人数、打开次数、最近一次打开，按次数从多到少",
)
async def app_usage(session: ReadSessionDep, rt: RuntimeDep) -> list[AppUsageOut]:
    return await catalog.usage(session, rt.modules)


@router.get(
    "/apps",
    response_model=list[AppOut],
    dependencies=[require(APP_MANAGE)],
    summary="应用目录中登记的外部系统与第三方应用（含停用的）",
)
async def list_apps(session: ReadSessionDep) -> list[AppOut]:
    return await queries.to_outs(session, await queries.all_apps(session))


@router.post(
    "/apps",
    response_model=AppOut,
    status_code=201,
    dependencies=[require(APP_MANAGE)],
    summary="登记应用",
)
async def create_app(body: AppIn, session: SessionDep) -> AppOut:
    return await actions.do_create_app(session, body, person_id=me().person_id)


@router.get(
    "/apps/{code}", response_model=AppOut, dependencies=[require(APP_MANAGE)], summary="一个应用"
)
async def get_app(code: str, session: ReadSessionDep) -> AppOut:
    return await queries.to_out(session, await stored_app(session, code))


@router.patch(
    "/apps/{code}",
    response_model=AppOut,
    dependencies=[require(APP_MANAGE)],
    summary="修改应用（enabled=false 即停用）",
)
async def update_app(code: str, body: AppPatch, session: SessionDep) -> AppOut:
    app = await stored_app(session, code)
    return await actions.do_update_app(session, app, body, person_id=me().person_id)


@router.get(
    "/apps/{code}/icon",
    dependencies=[signed_in()],
    summary="应用的上传图标（能看到该应用的人，或应用管理员）",
    response_class=Response,
)
async def app_icon(code: str, session: ReadSessionDep, rt: RuntimeDep) -> Response:
    principal = me()
    if not principal.can(APP_MANAGE):
        await visible_card(session, rt, code)
    app = await stored_app(session, code)
    if not app.icon_file_id:
        raise NotFound(_("应用“{code}”没有上传图标", code=code))
    opened = await files.open_file(
        rt, session, app.icon_file_id, bound_to=(FILES_MODULE, app_key(app.id))
    )
    response = files.download_response(opened)
    # The URL names the file, so a new upload is a new URL: browsers may keep this one.
    response.headers["Cache-Control"] = "private, max-age=604800, immutable"
    return response
