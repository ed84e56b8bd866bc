"""A plain HTTP GET under the network policy, for partner feeds and ``pricewarden extract URL``.

Each hop resolves its host once, checks every address and connects only to one it checked;
redirects are followed (at most ``network.max_redirects``) only to http(s) URLs the policy lets
through. ``timeout`` is the TOTAL time of the download, from the first connection to the last
byte: a server that keeps sending one byte a second fails at the limit. A body larger than
``max_bytes`` fails as soon as it says so (Content-Length) or grows past it; a body shorter than
its Content-Length, or a chunked body cut off, is an error and is never handed on.

Every error is one line naming the URL (with its password and query values hidden) and, where
there is one, the limit. A connection that could not be made and a server that did not answer
HTTP read the same ("gave no HTTP response"): error texts must not tell a closed port from an open one.
The server's body never appears in an error.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from crawlers.network.policy import NetworkPolicy, display_url, parse_ip
from pricewarden.errors import FetchError, RefusedError

__all__ = ["Fetched", "fetch_url"]

logger = logging.getLogger(__name__)

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BLOCK = 1 << 16


@dataclass
class Fetched:
    """The answer to a GET: the final URL (after redirects), its status and headers, and the body size."""

    url: str
    status: int
    headers: http.client.HTTPMessage
    size: int


class _Deadline:
    """The total time a download may take; closes the connection when it is up, whatever is blocking."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._timer: threading.Timer | None = None

    def left(self) -> float:
        return self.end - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.left() <= 0

    def guard(self, conn: http.client.HTTPConnection) -> None:
        """Shut ``conn``'s socket down at the deadline (a read blocked on it then returns)."""
        self.release()

        def stop() -> None:
            sock = conn.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(max(0.0, self.left()), stop)
        self._timer.daemon = True
        self._timer.start()

    def release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _resolve(host: str, port: int, deadline: _Deadline) -> list[str]:
    """The addresses of ``host`` (one lookup, in a thread so that the deadline holds)."""
    result: dict[str, Any] = {}

    def lookup() -> None:
        try:
            result["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            result["error"] = exc

    thread = threading.Thread(target=lookup, daemon=True, name="pricewarden-resolve")
    thread.start()
    thread.join(max(0.0, deadline.left()))
    if "infos" not in result:
        raise OSError(result.get("error") or "name resolution timed out")
    seen: list[str] = []
    for _family, _type, _proto, _name, sockaddr in result["infos"]:
        if sockaddr[0] not in seen:
            seen.append(str(sockaddr[0]))
    return seen


def _checked_addresses(policy: NetworkPolicy, host: str, port: int, url: str, deadline: _Deadline) -> list[str]:
    """The addresses of ``host`` that may be connected to; refuses when none may."""
    if parse_ip(host) is not None:
        return [host.strip("[]")]  # checked by policy.target already
    addresses = _resolve(host, port, deadline)
    allowed = [a for a in addresses if policy.refusal(host, a, port) is None]
    if addresses and not allowed:
        policy.check_address(host, addresses[0], port, url=url)  # raises with the reason
    if len(allowed) < len(addresses):
        logger.debug("%s: %d of its addresses refused by the network policy", host, len(addresses) - len(allowed))
    return allowed


def _proxy_conf(proxy: str) -> tuple[str, int, dict[str, str]]:
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    headers: dict[str, str] = {}
    if parts.username:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
    return parts.hostname or "", parts.port or 80, headers


def _connection(url: str, policy: NetworkPolicy, proxy: str | None,
                deadline: _Deadline) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """A connection for ``url`` (to a checked address, or through the proxy) and the request target."""
    scheme, host, port = policy.target(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = max(0.001, deadline.left())
    context = ssl.create_default_context() if scheme == "https" else None
    if proxy:
        # The proxy resolves the name: only what can be known here is checked (the scheme, an IP
        # literal, and what the name resolves to on this machine). The proxy must refuse the rest.
        with contextlib.suppress(OSError):  # not resolvable here: the proxy may know it
            _checked_addresses(policy, host, port, url, deadline)
        proxy_host, proxy_port, auth = _proxy_conf(proxy)
        if scheme == "https":
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxy_host, proxy_port, timeout=timeout, context=context)
            conn.set_tunnel(host, port, headers=auth)
            return conn, path, {}
        return http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout), url, auth
    addresses = _checked_addresses(policy, host, port, url, deadline)
    if scheme == "https":
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def connect_checked(_address: Any, timeout: float, source: Any = None) -> socket.socket:
        # Connect to an address checked above, never to a fresh lookup of the name.
        error: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection((address, port), timeout, source)
            except OSError as exc:
                error = exc
        raise error or OSError("no address")

    conn._create_connection = connect_checked  # type: ignore[attr-defined]  # http.client's own hook
    return conn, path, {}


def fetch_url(
    url: str,
    sink: Callable[[bytes], None],
    *,
    timeout: float,
    max_bytes: int,
    user_agent: str,
    headers: dict[str, str] | None = None,
    max_redirects: int | None = None,
    policy: NetworkPolicy | None = None,
    proxy: str | None = None,
    settings: Any = None,
    method: str = "GET",
    body: bytes | None = None,
) -> Fetched:
    """GET ``url`` (or send ``body`` with ``method``: webhooks) under the network policy, handing the answer's
    body to ``sink`` block by block.

    ``timeout`` is the total time in seconds and ``max_bytes`` the largest body. Raises
    :class:`~pricewarden.errors.RefusedError` for what the policy refuses and
    :class:`~pricewarden.errors.FetchError` (``kind`` ``http_error``, ``not_found``, ``timeout``,
    ``too_large``, ``truncated``, ``redirect_loop`` or ``network``) for the rest. The caller must
    drop whatever ``sink`` received when an error is raised.
    """
    if settings is None:
        from pricewarden.settings import get_settings

        settings = get_settings()
    policy = policy or NetworkPolicy.from_settings(settings)
    if proxy is None and settings.crawl.proxy is not None:
        proxy = settings.crawl.proxy.get_secret_value()
    redirects = settings.network.max_redirects if max_redirects is None else max_redirects
    deadline = _Deadline(timeout)
    current = url
    for _hop in range(redirects + 1):
        conn: http.client.HTTPConnection | None = None
        try:
            conn, target, extra = _connection(current, policy, proxy, deadline)
            conn.connect()
            deadline.guard(conn)
            conn.request(method, target, body=body,
                         headers={"User-Agent": user_agent, **(headers or {}), **extra})
            response = conn.getresponse()
            if response.status in REDIRECTS and response.getheader("Location"):
                location = urljoin(current, response.getheader("Location", "").strip())
                policy.target(location)  # a redirect to ftp:, file: or a refused literal stops here
                current = location
                continue
            if response.status >= 400:
                kind = "not_found" if response.status in (404, 410) else "http_error"
                raise FetchError(f"answered HTTP {response.status}", url=display_url(current), kind=kind,
                                 status=response.status)
            size = _read_body(response, sink, current, max_bytes, deadline)
            return Fetched(current, response.status, response.headers, size)
        except (RefusedError, FetchError):
            raise
        except (OSError, http.client.HTTPException, ssl.SSLError, ValueError) as exc:
            if deadline.passed:
                raise _timeout(current, timeout) from None
            # Refused, reset, closed, not HTTP, TLS failed: one wording for all (see the module docstring).
            logger.debug("fetching %s failed: %r", display_url(current), exc)
            raise FetchError("gave no HTTP response", url=display_url(current), kind="network") from None
        finally:
            deadline.release()
            if conn is not None:
                conn.close()
    raise FetchError(f"redirected more than {redirects} times", url=display_url(url), kind="redirect_loop")


def _read_body(response: http.client.HTTPResponse, sink: Callable[[bytes], None], url: str, max_bytes: int,
               deadline: _Deadline) -> int:
    declared = response.getheader("Content-Length")
    expected = int(declared) if declared and declared.strip().isdigit() and response.chunked is False else None
    if expected is not None and expected > max_bytes:
        raise _too_large(url, max_bytes)
    size = 0
    while True:
        if deadline.passed:
            raise _timeout(url, deadline.seconds)
        try:
            block = response.read1(_BLOCK)
        except http.client.IncompleteRead as exc:  # a chunked body cut off
            if deadline.passed:
                raise _timeout(url, deadline.seconds) from None
            raise _truncated(url, size + len(exc.partial), None) from None
        if deadline.passed:
            raise _timeout(url, deadline.seconds)
        if not block:
            break
        size += len(block)
        if size > max_bytes:
            raise _too_large(url, max_bytes)
        sink(block)
    if expected is not None and size < expected:
        raise _truncated(url, size, expected - size)
    return size


def _timeout(url: str, seconds: float) -> FetchError:
    return FetchError(f"took longer than the {seconds:g} s limit", url=display_url(url), kind="timeout")


def _too_large(url: str, max_bytes: int) -> FetchError:
    return FetchError(f"is larger than the {_size(max_bytes)} limit", url=display_url(url), kind="too_large")


def _truncated(url: str, got: int, missing: int | None) -> FetchError:
    if missing is None:
        what = f"the chunked body was cut off after {got} bytes"
    else:
        what = f"the body is shorter than its Content-Length ({got} of {got + missing} bytes came)"
    return FetchError(f"truncated: {what}; none of it is read", url=display_url(url), kind="truncated")


def _size(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MB"
    return f"{n} bytes"
