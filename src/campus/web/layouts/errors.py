"""Error pages for browsers: a page that needs sign-in sends the browser to the login page,
other failures show a page in the layout. JSON clients keep getting problem+json (the kernel
calls this only for requests that accept HTML outside /api/)."""

from __future__ import annotations

from urllib.parse import urlsplit

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from campus.kernel.errors import Problem
from campus.kernel.i18n import LazyText, _
from campus.kernel.templating import Templates
from campus.web.layouts.shell import login_url, safe_path

log = structlog.get_logger(__name__)

# Headings a person understands better than the problem's title, and what to do next.
HEADINGS: dict[int, LazyText] = {
    404: _("页面不存在"),
    500: _("服务器出错了"),
}
EXPLANATIONS: dict[int, LazyText] = {
    403: _("您的账号没有访问此页面的权限。如需开通，请联系本单位的系统管理员。"),
    404: _("您访问的页面不存在，可能已被移除，或链接地址有误。"),
    405: _("此页面不支持这种访问方式。"),
    429: _("操作太频繁了，请稍等片刻再试。"),
    500: _("服务器遇到了意外错误，已自动记录，请稍后再试。"),
}


def html_error_page(request: Request, problem: Problem) -> Response | None:
    """The browser's answer to ``problem``, or None to fall back to problem+json."""
    is_htmx = request.headers.get("hx-request") == "true"
    if problem.status == 401:
        target = login_url(_page_to_return_to(request, is_htmx))
        if is_htmx:
            # htmx follows this header with a full page load instead of swapping a fragment.
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if is_htmx:
        return None
    templates: Templates | None = getattr(request.app.state.runtime, "templates", None)
    if templates is None:
        return None
    heading = str(HEADINGS.get(problem.status, problem.title))
    detail = str(problem.detail) if problem.detail else ""
    try:
        return templates.render(
            request,
            "layouts/error.html",
            problem.status,
            status=problem.status,
            heading=heading,
            detail="" if detail in (heading, str(problem.title)) else detail,
            explanation=EXPLANATIONS.get(problem.status, ""),
            errors=[e.render() for e in problem.errors],
        )
    except Exception:
        # An error page that fails must not hide the original error: answer in JSON instead.
        log.exception("error_page_failed", status=problem.status)
        return None


def _page_to_return_to(request: Request, is_htmx: bool) -> str:
    """Where the browser should land after signing in."""
    if is_htmx:
        current = request.headers.get("hx-current-url", "")
        return _same_site_path(current, request) or "/"
    if request.method in ("GET", "HEAD"):
        query = f"?{request.url.query}" if request.url.query else ""
        return safe_path(request.url.path + query)
    # A form posted after the session ended cannot be replayed: go back to the form's page.
    return _same_site_path(request.headers.get("referer", ""), request) or "/"


def _same_site_path(url: str, request: Request) -> str | None:
    parts = urlsplit(url)
    if not parts.path or (parts.netloc and parts.netloc != request.url.netloc):
        return None
    query = f"?{parts.query}" if parts.query else ""
    return safe_path(parts.path + query, default="") or None
