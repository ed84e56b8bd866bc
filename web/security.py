"""Signed session cookies, CSRF tokens and security headers.

The session lives entirely in a cookie signed with itsdangerous (HMAC-SHA1 over the JSON payload
and a timestamp), so any number of uvicorn workers behind a proxy agree without a shared store, as
long as they share the key. The cookie is ``HttpOnly`` and ``SameSite=Lax``, and ``Secure`` when
the request reached the app over HTTPS: directly, or as a trusted proxy's ``X-Forwarded-Proto``
says (uvicorn's ``--forwarded-allow-ips`` decides whom to trust). Starlette's own
``SessionMiddleware`` fixes ``Secure`` once for all requests, hence this small middleware.

CSRF: every session carries a random token; every state-changing request must echo it, in the
``csrf_token`` form field or the ``X-CSRF-Token`` header (htmx sends the header, read from the
``<meta name="csrf-token">`` of the base layout).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import anyio
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pricewarden.errors import ConfigError
from pricewarden.settings import Settings

COOKIE = "pw_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
KEY_FILE = ".web-secret-key"

# Scripts and styles come only from the app's own /static: no inline script, no CDN. Evidence
# frames are same-origin (the archived page, served sandboxed from its own path).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def secret_key(settings: Settings) -> str:
    """The key that signs sessions: the setting, else ``<workspace>/.web-secret-key`` (made once, owner-only)."""
    if settings.web.secret_key is not None:
        key = settings.web.secret_key.get_secret_value()
        if len(key) < 32:
            raise ConfigError("PRICEWARDEN_WEB__SECRET_KEY must be at least 32 characters")
        return key
    path = Path(settings.workspace) / KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    return key


class SessionMiddleware:
    """``scope["session"]``: a dict kept in a signed cookie; ``scope["session_problem"]``: expired / forged."""

    def __init__(self, app: ASGIApp, *, key: str, max_age: int, always_secure: bool = False) -> None:
        self.app = app
        self.serializer = URLSafeTimedSerializer(key, salt="pricewarden.session")
        self.max_age = max_age
        self.always_secure = always_secure

    def load(self, raw: str | None) -> tuple[dict[str, Any], str | None]:
        """The session in cookie ``raw`` and what was wrong with it (``None``, expired or forged)."""
        if not raw:
            return {}, None
        try:
            data = self.serializer.loads(raw, max_age=self.max_age)
        except SignatureExpired:
            return {}, "expired"
        except BadSignature:
            return {}, "forged"
        return (data, None) if isinstance(data, dict) else ({}, "forged")

    def dump(self, session: dict[str, Any]) -> str:
        """The signed cookie value of ``session``."""
        return str(self.serializer.dumps(session))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        session, problem = self.load(connection.cookies.get(COOKIE))
        scope["session"] = session
        scope["session_problem"] = problem
        before = json.dumps(session, sort_keys=True)
        had_cookie = COOKIE in connection.cookies

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                now = json.dumps(scope["session"], sort_keys=True)
                if now != before or (had_cookie and not scope["session"]):
                    headers = MutableHeaders(scope=message)
                    headers.append("set-cookie", self.cookie(scope, scope["session"]))
                    headers.append("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_wrapper)

    def cookie(self, scope: Scope, session: dict[str, Any]) -> str:
        """The ``Set-Cookie`` header value for ``session`` (an empty one deletes the cookie)."""
        path = scope.get("root_path") or "/"
        secure = self.always_secure or scope.get("scheme") == "https"
        flags = f"; Path={path}; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
        if not session:
            return f"{COOKIE}=; Max-Age=0{flags}"
        return f"{COOKIE}={self.dump(session)}; Max-Age={self.max_age}{flags}"


class SecurityHeadersMiddleware:
    """Add the security headers to every response that has not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_wrapper)


# A body may take timeout seconds plus one second per BODY_MIN_RATE bytes received: a 512 MB report arrives over a
# slow link (0.25 Mbit/s), a client that trickles bytes to hold a connection is answered 408 (as Apache's
# mod_reqtimeout does with its MinRate).
BODY_MIN_RATE = 32 << 10


def _answer(api: bool, status: int, title: str, text: str, extra: list[tuple[bytes, bytes]] | None = None
            ) -> tuple[Message, Message]:
    """The two messages of a short error answer: problem+json under ``/api/``, else plain text."""
    media = b"text/plain; charset=utf-8"
    if api:
        text = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": text})
        media = b"application/problem+json"
    body = text.encode()
    return ({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", media), (b"content-length", str(len(body)).encode()), *(extra or [])]},
        {"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse a request body larger than its path's limit before anything parses it (uploads spool to disk), or
    slower to arrive than ``timeout`` allows.

    ``max_bytes`` holds for every path but those of ``larger`` (path -> bytes): the report uploads, which may be
    large; a form with at most a screenshot has no use for hundreds of MB of spooled disk. A declared
    ``Content-Length`` over the limit is answered 413 at once; a body without one (chunked) is cut off when it
    passes the limit, which the form parser reports as a disconnected client.

    Time: the app waits for the body ``timeout`` seconds in all, plus one per :data:`BODY_MIN_RATE` bytes
    received; past that the app is told the client left (so nothing parses half a body, nothing is stored), and
    whatever it answers is replaced by 408 and the connection closed.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: dict[str, int] | None = None,
                 timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})
        self.timeout = timeout

    def limit(self, path: str) -> int:
        """The largest body ``path`` (the request's path below the root path) accepts."""
        return self.larger.get(path.rstrip("/") or "/", self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", "")).removeprefix(scope.get("root_path", ""))
        limit = self.limit(path)
        api = path.startswith("/api/")
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            for message in _answer(api, 413, "Request too large", f"request body larger than {limit >> 20} MB"):
                await send(message)
            return
        seen = 0
        waited = 0.0
        late = started = complete = False

        async def counted() -> Message:
            nonlocal seen, waited, late, complete
            if late:
                return {"type": "http.disconnect"}
            if self.timeout is None or complete:  # once the body is in, a wait is for the client leaving
                message = await receive()
            else:
                began = time.monotonic()
                with anyio.move_on_after(self.timeout + seen / BODY_MIN_RATE - waited) as clock:
                    message = await receive()
                waited += time.monotonic() - began
                if clock.cancelled_caught:
                    late = True
                    return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if seen > limit:
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if late and not started:
                return  # the 408 below answers instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not late or started:
                raise
        if late and not started:
            text = (f"The request's body did not arrive within {self.timeout:g} s (a slow or stalled upload). "
                    "Nothing was changed: send it again.")
            for message in _answer(api, 408, "Request timeout", text, [(b"connection", b"close")]):
                await send(message)


def csrf_token(request: HTTPConnection) -> str:
    """The session's CSRF token, made on first use."""
    session: dict[str, Any] = request.scope["session"]
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


async def csrf_ok(request: Request) -> bool:
    """Whether a state-changing ``request`` echoes its session's CSRF token (header or form field)."""
    expected = request.scope["session"].get("csrf")
    if not isinstance(expected, str):
        return False
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return sent is not None and hmac.compare_digest(sent, expected)


__all__ = ["BODY_MIN_RATE", "COOKIE", "CSP", "CSRF_FIELD", "CSRF_HEADER", "HEADERS", "SAFE_METHODS",
           "BodyLimitMiddleware", "SecurityHeadersMiddleware", "SessionMiddleware", "csrf_ok", "csrf_token",
           "secret_key"]
