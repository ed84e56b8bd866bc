"""A local filtering proxy for Chromium: every request a rendered page makes goes through the network policy.

Chromium is launched with this proxy for all its traffic (loopback included: ``<-loopback>``), so
the page itself, its redirects, iframes, images, scripts, fetch/XHR, WebSockets and service
workers all reach the network only through here. Chromium does not resolve the names it proxies:
the proxy resolves each one once, checks every address, and connects only to an address it
checked, which closes the DNS-rebinding gap that a check of the URL alone would leave.

A refused ``CONNECT`` (https, wss) is answered ``403``, which Chromium reports as
``ERR_TUNNEL_CONNECTION_FAILED``; a refused plain-http request gets no answer at all
(``ERR_EMPTY_RESPONSE``): no page of ours is ever shown, screenshot or read as the site's. Each
refusal is noted (:func:`crawlers.network.policy.note_refusal`) so that the crawl records the
page as ``refused``. With ``crawl.proxy`` set, allowed requests are passed on to that proxy (which
resolves names itself; see docs/security-network.md).

The proxy runs on 127.0.0.1 on an ephemeral port, in a thread with its own event loop, so the
crawl's loop, the screenshot thread and Playwright's sync API can all use it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import socket
import ssl
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from crawlers.network.policy import DEFAULT_PORTS, NetworkPolicy, display_url, parse_ip
from pricewarden.errors import RefusedError

__all__ = ["FilteringProxy", "filtering_proxy"]

logger = logging.getLogger(__name__)

_HEAD_LIMIT = 64 * 1024
_HOP_HEADERS = frozenset({"proxy-connection", "proxy-authorization", "connection", "keep-alive"})
_CONNECT_TIMEOUT = 30.0
_IDLE_TIMEOUT = 300.0


class FilteringProxy:
    """An HTTP proxy on 127.0.0.1 that lets through only what the network policy allows."""

    def __init__(self, policy: NetworkPolicy, upstream: str | None = None) -> None:
        self.policy = policy
        self.upstream = upstream
        self.refusals: list[str] = []  # why requests were refused, the latest last (at most 100 kept)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.address = ""

    @classmethod
    def from_settings(cls, settings: Any = None) -> FilteringProxy:
        """A proxy (not started) for the settings' network policy, passing on to ``crawl.proxy`` if set."""
        if settings is None:
            from pricewarden.settings import get_settings

            settings = get_settings()
        upstream = settings.crawl.proxy.get_secret_value() if settings.crawl.proxy else None
        return cls(NetworkPolicy.from_settings(settings), upstream)

    # Life cycle ---------------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving; returns the proxy URL (``http://127.0.0.1:PORT``)."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            except BaseException as exc:  # reported to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            port = self._server.sockets[0].getsockname()[1]
            self.address = f"http://127.0.0.1:{port}"
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shut())
                loop.close()

        self._thread = threading.Thread(target=run, name="pricewarden-filtering-proxy", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.address

    async def _shut(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FilteringProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FilteringProxy:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def playwright_proxy(self) -> dict[str, str]:
        """Playwright's ``proxy`` launch option for this proxy, loopback included."""
        return {"server": self.address, "bypass": "<-loopback>"}

    # Serving ------------------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass  # a client or server gone, a bad request, a timeout (TimeoutError is an OSError)
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IDLE_TIMEOUT)
        if len(head) > _HEAD_LIMIT:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = [*lines[0].split(" "), "", ""][:3]
        headers = [line for line in lines[1:] if line]
        if method.upper() == "CONNECT":
            host, _, port_text = target.rpartition(":")
            if not port_text.isdigit():
                return await _answer(writer, 400, "Bad Request")
            host = host.strip("[]")
            url = f"https://{host}:{port_text}/"
            upstream = await self._open(writer, url, host, int(port_text), tunnel=True)
            if upstream is None:
                return None
            writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            await writer.drain()
            await _relay(reader, writer, *upstream)
            return None
        parts = urlsplit(target)
        if parts.scheme.lower() != "http" or not parts.hostname:
            return await _answer(writer, 400, "Bad Request")
        try:
            port = parts.port or DEFAULT_PORTS["http"]
        except ValueError:
            return await _answer(writer, 400, "Bad Request")
        upstream = await self._open(writer, target, parts.hostname, port, tunnel=False)
        if upstream is None:
            return None
        kept = [h for h in headers if h.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
        if self.upstream:
            request_target = target  # the upstream proxy takes the absolute form
            kept += _upstream_auth(self.upstream)
        else:
            request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        out = f"{method} {request_target} {version or 'HTTP/1.1'}\r\n" + "".join(f"{h}\r\n" for h in kept)
        up_reader, up_writer = upstream
        try:
            up_writer.write((out + "Connection: close\r\n\r\n").encode("latin-1"))
            await _copy_body(reader, up_writer, headers)
            await _answer_through(up_reader, writer, method)
        finally:
            up_writer.close()
        # Exactly one request per connection, each checked: the answer said "Connection: close", and
        # nothing more the client sends goes anywhere (a second request, for another host, on the
        # same connection must not reach the server that was checked for the first).
        return None

    async def _open(self, writer: asyncio.StreamWriter, url: str, host: str, port: int,
                    *, tunnel: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection for ``host``:``port`` (to a checked address, or the upstream proxy), else ``None``.

        A tunnel that cannot be made is answered (403 refused, 502 failed: Chromium says
        ``ERR_TUNNEL_CONNECTION_FAILED``); a plain request is closed unanswered (``ERR_EMPTY_RESPONSE``),
        so that no page of the proxy's is ever taken for the site's.
        """
        try:
            addresses = await self._checked(url, host, port)
            if self.upstream:
                return await self._via_upstream(host, port, tunnel)
            return await _connect_any(addresses, port)
        except RefusedError as exc:
            self.refusals = [*self.refusals[-99:], exc.reason]
            logger.info("Chromium's request for %s refused: %s", display_url(url), exc.reason)
            if tunnel:
                await _answer(writer, 403, "Forbidden")
        except (TimeoutError, OSError, ValueError):
            if tunnel:
                await _answer(writer, 502, "Bad Gateway")
        return None

    async def _checked(self, url: str, host: str, port: int) -> list[str]:
        scheme = "https" if url.startswith("https:") else "http"
        self.policy.target(f"{scheme}://{_bracket(host)}:{port}/")
        if parse_ip(host) is not None:
            return [host]
        try:
            infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM),
                                           _CONNECT_TIMEOUT)
        except (TimeoutError, OSError):
            if self.upstream:
                return []  # the upstream proxy may know the name
            raise
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self.policy.refusal(host, a, port) is None]
        if not allowed:
            self.policy.check_address(host, addresses[0], port, url=url)  # raises, and notes why
        return allowed

    async def _via_upstream(self, host: str, port: int,
                            tunnel: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        assert self.upstream is not None
        parts = urlsplit(self.upstream if "://" in self.upstream else f"http://{self.upstream}")
        context = ssl.create_default_context() if parts.scheme == "https" else None
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme, 80), ssl=context),
            _CONNECT_TIMEOUT)
        if tunnel:
            auth = "".join(f"{h}\r\n" for h in _upstream_auth(self.upstream))
            writer.write(f"CONNECT {_bracket(host)}:{port} HTTP/1.1\r\nHost: {_bracket(host)}:{port}\r\n{auth}\r\n"
                         .encode("latin-1"))
            await writer.drain()
            answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _CONNECT_TIMEOUT)
            status = answer.split(b" ", 2)[1] if answer.count(b" ") >= 1 else b""
            if status != b"200":
                writer.close()
                raise OSError(f"the upstream proxy answered {status.decode('latin-1', 'replace')}")
        return reader, writer


def _header(headers: list[str], name: str) -> str | None:
    for line in headers:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


async def _copy_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: list[str],
                     *, until_close: bool = False) -> None:
    """Copy one HTTP message body (chunked, Content-Length, or to the end when ``until_close``)."""
    if "chunked" in (_header(headers, "transfer-encoding") or "").lower():
        while True:
            size_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), _IDLE_TIMEOUT)
            writer.write(size_line)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    line = await asyncio.wait_for(reader.readuntil(b"\r\n"), _IDLE_TIMEOUT)
                    writer.write(line)
                    if line == b"\r\n":
                        break
                break
            writer.write(await asyncio.wait_for(reader.readexactly(size + 2), _IDLE_TIMEOUT))
            await writer.drain()
    elif (length := _header(headers, "content-length")) is not None:
        left = int(length)
        while left > 0:
            data = await asyncio.wait_for(reader.read(min(left, 1 << 16)), _IDLE_TIMEOUT)
            if not data:
                break
            writer.write(data)
            left -= len(data)
            await writer.drain()
    elif until_close:
        while data := await asyncio.wait_for(reader.read(1 << 16), _IDLE_TIMEOUT):
            writer.write(data)
            await writer.drain()
    await writer.drain()


async def _answer_through(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str) -> None:
    """Pass one response on to the client, with ``Connection: close`` (interim 1xx answers first)."""
    while True:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IDLE_TIMEOUT)
        lines = head.decode("latin-1").split("\r\n")
        status_line, headers = lines[0], [line for line in lines[1:] if line]
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        kept = [h for h in headers if h.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
        if 100 <= status < 200 and status != 101:
            writer.write((status_line + "\r\n" + "".join(f"{h}\r\n" for h in kept) + "\r\n").encode("latin-1"))
            continue
        writer.write((status_line + "\r\n" + "".join(f"{h}\r\n" for h in kept) + "Connection: close\r\n\r\n")
                     .encode("latin-1"))
        if method.upper() != "HEAD" and status not in (204, 304) and status >= 200:
            await _copy_body(reader, writer, headers, until_close=True)
        await writer.drain()
        return


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _upstream_auth(upstream: str) -> list[str]:
    parts = urlsplit(upstream if "://" in upstream else f"http://{upstream}")
    if not parts.username:
        return []
    token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return ["Proxy-Authorization: Basic " + base64.b64encode(token).decode("ascii")]


async def _connect_any(addresses: list[str], port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    error: BaseException | None = None
    for address in addresses:
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, port), _CONNECT_TIMEOUT)
        except (TimeoutError, OSError) as exc:
            error = exc
    raise OSError(str(error) if error else "no address")


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    body = f"{status} {reason}\n".encode()
    writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                 f"Cache-Control: no-store\r\nConnection: close\r\n\r\n".encode("latin-1") + body)
    with contextlib.suppress(ConnectionError):
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await asyncio.wait_for(reader.read(1 << 16), _IDLE_TIMEOUT)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (TimeoutError, ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()


async def _relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                 upstream_reader: asyncio.StreamReader, upstream_writer: asyncio.StreamWriter) -> None:
    """Copy bytes both ways until the far end is done (its answer sent), then close both."""
    upward = asyncio.ensure_future(_pipe(client_reader, upstream_writer))
    try:
        await _pipe(upstream_reader, client_writer)
    finally:
        upward.cancel()
        with contextlib.suppress(BaseException):
            await upward
        with contextlib.suppress(Exception):
            upstream_writer.close()


def filtering_proxy(settings: Any = None) -> FilteringProxy:
    """A :class:`FilteringProxy` for the settings' network policy, to use as a (sync or async) context manager."""
    return FilteringProxy.from_settings(settings)
