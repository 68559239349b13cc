"""The ASGI app factory: discovers the enabled modules and mounts what their manifests declare."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

import campus
from campus.kernel import i18n, metrics
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings, get_settings
from campus.kernel.errors import install_error_handlers
from campus.kernel.i18n import _
from campus.kernel.logging import configure_logging
from campus.kernel.manifest import Module, discover, select
from campus.kernel.observability import install_observability
from campus.kernel.routing import RouteIndex
from campus.kernel.runtime import Runtime
from campus.kernel.templating import Templates
from campus.kernel.web import KernelMiddleware, PrincipalLoader, csrf_token_of
from campus.platform.registry import service as registry
from campus.web.layouts.errors import html_error_page
from campus.web.layouts.shell import (
    SEARCH_ROUTE,
    is_active,
    nav_groups,
    page_route_path,
)

MODULE_PACKAGES = ("campus.platform", "campus.domains", "campus.web")
SRC = Path(campus.__file__).parent
LAYOUTS = SRC / "web" / "layouts" / "templates"
STATIC = SRC / "web" / "static"

log = structlog.get_logger(__name__)


def load_modules(settings: Settings) -> list[Module]:
    return select(discover(MODULE_PACKAGES), settings.enabled_modules())


def build_runtime(settings: Settings) -> Runtime:
    modules = load_modules(settings)
    runtime = Runtime.create(settings, modules)
    i18n.load_catalogs_under(SRC)
    return runtime


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json=settings.environment == "production")
    runtime = runtime or build_runtime(settings)
    runtime_module.set_current(runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from campus.kernel.jobs import JobRunner, scheduled_jobs
        from campus.kernel.relay import EventPipeline

        # Embedded mode relays and handles events and runs the scheduled jobs here; otherwise
        # `campus worker` does, and this process only knows the handlers (to replay dead letters).
        embedded = settings.relay_in_process
        pipeline = EventPipeline(runtime, consume=embedded, relay=embedded)
        jobs = JobRunner(scheduled_jobs(runtime) if embedded else [], runtime.cache)
        if embedded:
            await pipeline.start()
            jobs.start()
        else:
            runtime.bus.register(h for m in runtime.modules for h in m.handlers)
        try:
            # This process's modules in the service registry for as long as it serves them.
            async with registry.self_registered(runtime):
                # What start-up built lives as long as the process: once its garbage is
                # collected, the collector's full passes need not walk it again (they
                # otherwise stall requests for tens of milliseconds on a large heap).
                gc.collect()
                gc.freeze()
                yield
        finally:
            await jobs.stop()
            await pipeline.stop()
            await shutdown_modules(runtime)
            await runtime.close()
            metrics.leave_multiprocess_figures()

    app = FastAPI(
        title="Campus",
        version=campus.__version__,
        description="开放的智慧校园平台 / An open smart-campus platform",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app, html_error_page)
    _mount_modules(app, runtime)
    app.add_middleware(
        KernelMiddleware,
        principal_loader=_principal_loader(runtime.modules),
        max_body_bytes=settings.max_upload_bytes,
        secure_cookies=settings.environment == "production",
        csrf_exempt_prefixes=tuple(
            p for m in runtime.modules for p in m.extra.get("csrf_exempt", ())
        ),
        cookieless_prefixes=tuple(
            p for m in runtime.modules for p in m.extra.get("cookieless", ())
        ),
    )
    install_observability(app, runtime)
    # Outermost: a module may rewrite a request before anything else sees it (host rules).
    for module in runtime.modules:
        for middleware in module.extra.get("asgi_middleware", ()):
            app.add_middleware(middleware, runtime=runtime)
    app.router.routes.insert(0, RouteIndex(list(app.router.routes)))
    return app


async def shutdown_modules(runtime: Runtime) -> None:
    """What modules let go of as a process ends (``extra["on_shutdown"]``: coroutine
    functions, e.g. the gateway's shared HTTP client)."""
    for module in runtime.modules:
        for hook in module.extra.get("on_shutdown", ()):
            try:
                await hook()
            except Exception:
                log.exception("module_shutdown_failed", module=module.name)


def _principal_loader(modules: list[Module]) -> PrincipalLoader | None:
    loaders = [m.extra["principal_loader"] for m in modules if "principal_loader" in m.extra]
    if len(loaders) > 1:
        raise RuntimeError("more than one module loads the signed-in principal")
    return loaders[0] if loaders else None


def _mount_modules(app: FastAPI, runtime: Runtime) -> None:
    template_dirs = [m.templates for m in runtime.modules if m.templates is not None]
    templates = Templates([LAYOUTS, *template_dirs])
    templates.add_global("csrf_token", csrf_token_of)
    templates.add_global("modules", runtime.modules)
    templates.add_global("nav_groups", nav_groups)
    templates.add_global("is_active", is_active)
    # The operator's name for the site; the default has an English translation.
    templates.add_global("site_name", _(runtime.settings.site_name))
    templates.add_global("campus_version", campus.__version__)
    runtime.templates = templates
    # Routes are added as they are, not through include_router: FastAPI's nested routers
    # match every request twice through every router (see campus.kernel.routing).
    for module in runtime.modules:
        for router in module.routers:
            app.router.routes.extend(router.routes)
        for page in module.pages:
            for route in page.routes:
                if isinstance(route, APIRoute):
                    route.include_in_schema = False
            app.router.routes.extend(page.routes)
    # The header's search box submits to the search page, so it shows only when one is mounted.
    page_routes = [route for m in runtime.modules for page in m.pages for route in page.routes]
    templates.add_global("search_path", page_route_path(page_routes, SEARCH_ROUTE))
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
