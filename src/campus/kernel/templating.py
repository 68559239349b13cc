"""Server-rendered pages: one Jinja2 environment whose search path holds every module's templates.

Autoescaping is on for every template. Pages call ``render``; the layout, navigation, CSRF token
and translations are available to every template.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from campus.kernel import context
from campus.kernel.i18n import get_locale, translate


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
        data: dict[str, Any] = {"request": request, "principal": context.current().principal}
        for processor in self.context_processors:
            data.update(processor(request))
        data.update(values)
        html = self.env.get_template(name).render(data)
        return HTMLResponse(html, status_code=status_code)


def render(request: Request, name: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render a template with the app's environment (the one the app factory made)."""
    templates: Templates = request.app.state.runtime.templates
    return templates.render(request, name, status_code, **values)
