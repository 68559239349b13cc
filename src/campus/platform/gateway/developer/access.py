"""Who may do what with an app, a subscription or a proposal: an app is its developer's (the
gateway's administrators read every app and manage any); a subscription is decided by its
service's owner or an administrator; proposals are reviewed by administrators."""

from __future__ import annotations

from campus.kernel.context import Principal
from campus.kernel.errors import Forbidden, NotFound
from campus.kernel.i18n import _
from campus.platform.gateway.models import GatewayConsumer, GatewayService
from campus.platform.gateway.permissions import MANAGE, READ


def access_app(
    principal: Principal, app: GatewayConsumer, *, manage: bool = False
) -> GatewayConsumer:
    """The app, if the principal may read it (or change it, with ``manage``); someone else's
    app is 404, as if it did not exist."""
    if app.owner_id == principal.person_id or principal.can(MANAGE if manage else READ):
        return app
    raise NotFound(_("应用 {id} 不存在", id=app.id))


def may_decide(principal: Principal, service: GatewayService) -> None:
    if service.owner_id != principal.person_id and not principal.can(MANAGE):
        raise Forbidden(_("只有服务“{s}”的负责人或网关管理员可以审批订阅", s=service.name))


def may_review(principal: Principal) -> None:
    if not principal.can(MANAGE):
        raise Forbidden(_("只有网关管理员可以审核服务申请"))
