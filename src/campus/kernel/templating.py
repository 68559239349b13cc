"""Server-rendered pages: one Jinja2 environment whose search path holds every module's templates.

Autoescaping is on for every template. Pages call ``render``; the layout, navigation, CSRF token
and translations are available to every template. ``flash`` carries a message across a redirect
to the next page the browser renders (post, redirect, get).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from campus.kernel import context
from campus.kernel.errors import Problem, validation_field_errors
from campus.kernel.i18n import LazyText, get_locale, translate

FLASH_COOKIE = "campus_flash"
FlashLevel = Literal["success", "info", "warning", "danger"]
FLASH_LEVELS: tuple[str, ...] = ("success", "info", "warning", "danger")


class Templates:
    def __init__(self, directories: list[Path]) -> None:
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(d)) for d in directories]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            enable_async=False,
        )
        self.env.globals.update(_=translate, locale=get_locale)
        self.context_processors: list[Callable[[Request], dict[str, Any]]] = []

    def add_global(self, name: str, value: Any) -> None:
        self.env.globals[name] = value

    def render(
        self, request: Request, name: str, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        # htmx swaps fragments that have no alert area: leave the message for the next full page.
        flashes = [] if is_htmx(request) else _read_flashes(request)
        data: dict[str, Any] = {
            "request": request,
            "principal": context.current().principal,
            "flashes": flashes,
        }
        for processor in self.context_processors:
            data.update(processor(request))
        data.update(values)
        html = self.env.get_template(name).render(data)
        response = HTMLResponse(html, status_code=status_code)
        if flashes:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render a template with the app's environment (the one the app factory made)."""
    templates: Templates = request.app.state.runtime.templates
    return templates.render(request, name, status_code, **values)


def is_htmx(request: Request) -> bool:
    """An htmx request: it wants a fragment to swap in, not a whole page."""
    return request.headers.get("hx-request") == "true"


def errors_of(problem: Problem) -> dict[str, str]:
    """A refusal as a form shows it: the reason per field, or the whole under ``"_"``."""
    found = {e.field: str(e.reason) for e in problem.errors}
    return found or {"_": str(problem.detail or problem.title)}


def errors_of_validation(exc: ValidationError) -> dict[str, str]:
    """Pydantic's complaints about a form's values, per field, in the user's language."""
    return {
        e.field: str(e.reason) for e in validation_field_errors([dict(x) for x in exc.errors()])
    }


def form_errors(exc: Problem | ValidationError) -> dict[str, str]:
    """What a form shows of a refused save, per field. A refusal of the object itself (403,
    404) is no form error: it is raised on, to the error page."""
    if isinstance(exc, ValidationError):
        return errors_of_validation(exc)
    if exc.status in (403, 404):
        raise exc
    return errors_of(exc)


def flash(
    request: Request, response: Response, message: LazyText | str, level: FlashLevel = "success"
) -> None:
    """Show ``message`` in the alert area of the next page rendered for this browser.

    One message per response; it is signed, so nobody can make the site display their text.
    """
    settings = request.app.state.runtime.settings
    response.set_cookie(
        FLASH_COOKIE,
        _serializer(request).dumps([level, str(message)]),
        max_age=300,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
        path="/",
    )


def go_to(request: Request, url: str) -> Response:
    """After a form post: on to ``url``. An htmx post is told to go there itself (it would
    follow a redirect and swap the whole page into its target); a plain post is redirected."""
    if is_htmx(request):
        return Response(headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def back_with_problem(request: Request, url: str, problem: Problem) -> Response:
    """After a form post that failed: back to ``url`` with the problem as an alert.
    A 403 or 404 stays an error page: there is nothing to go back to."""
    if problem.status in (403, 404):
        raise problem
    response = go_to(request, url)
    flash(request, response, str(problem.detail or problem.title), "danger")
    return response


def _serializer(request: Request) -> URLSafeSerializer:
    secret: str = request.app.state.runtime.settings.secret_key
    return URLSafeSerializer(secret, salt="campus.flash")


def _read_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        level, message = _serializer(request).loads(raw)
    except (BadSignature, ValueError, TypeError):
        return []
    if level not in FLASH_LEVELS or not isinstance(message, str):
        return []
    return [(level, message)]
