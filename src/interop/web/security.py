"""What every console response carries and every request must show.

- Security headers on every answer: a CSP without inline script (the console has no
  script at all), no framing, no sniffing, no referrer, no caching of pages.
- Who is asking: a session cookie (HttpOnly, SameSite=Strict, Secure behind TLS) for pages,
  ``Authorization: Bearer`` with a personal API token for ``/api/``.
- CSRF: every form carries the session's token (sign-in: a double-submitted cookie); a POST
  without the right one is refused (403) before anything is done.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import Request

from interop._errors import AccessDenied

__all__ = ["SESSION_COOKIE", "SecurityHeaders", "check_csrf", "cookie_args"]

SESSION_COOKIE = "interop_session"
PRESIGN_COOKIE = "interop_presign"
LANG_COOKIE = "interop_lang"

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

MSG_CSRF = "the form is out of date or did not come from this console (CSRF); reload and retry"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """ASGI middleware adding :data:`_HEADERS` (and HSTS behind TLS) to every response."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.headers = list(_HEADERS)
        if secure:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _v in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.headers if k not in have
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def cookie_args(secure: bool) -> dict[str, Any]:
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}


def check_csrf(expected: str | None, given: object) -> None:
    """Refuse a form whose CSRF token is not the expected one (compared in constant time)."""
    if not expected or not isinstance(given, str) or not hmac.compare_digest(expected, given):
        raise AccessDenied(MSG_CSRF, code="E823")


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
