"""The console and API as one ASGI application (控制台应用): the routes of the pages
(:mod:`interop.web.pages`) and of the API (:mod:`interop.web.api_routes`), the static
files, wrapped in the security headers.

Apart from :mod:`interop.web.app` (the decorators and rendering the pages use), so
that the pages import the app module and this module imports the pages, not both ways.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from interop.web import api_routes, case_api, case_pages, pages, referral_pages, reminders
from interop.web.context import Console
from interop.web.security import SecurityHeaders

__all__ = ["create_app"]


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def no_icon(request: Request) -> Response:
    """Browsers ask for an icon; the console has none (and nothing from elsewhere)."""
    return Response(status_code=204)


def create_app(console: Console) -> Any:
    """The console and API as one ASGI application (wrapped in the security headers)."""
    routes = [
        Route("/healthz", healthz),
        Route("/favicon.ico", no_icon),
        *referral_pages.routes(),
        *pages.routes(),
        *case_pages.routes(),
        *case_api.routes(),
        *api_routes.routes(),
        *reminders.routes(),
        Mount("/static", StaticFiles(packages=[("interop.web", "static")]), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.console = console
    return SecurityHeaders(app, secure=console.secure)
