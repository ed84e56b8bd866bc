"""The world's HTTP server: one asyncio HTTP/1.1 (keep-alive) listener per family plus a control port.

``with serve(world) as running:`` starts it in a background thread; ``running.origins`` maps each
family to its origin and ``running.set_day(n)`` switches the simulated day (so does
``POST /__world/day/<n>`` on the control port). Raw ``asyncio.Protocol`` parsing keeps the world far
from being the bottleneck of a crawl benchmark.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus

from demo.catalog import CONTROL_OFFSET, FAMILIES
from demo.routes import Response, Router
from demo.world import World

_REASONS = {s.value: s.phrase for s in HTTPStatus}
MAX_HEADER = 64 * 1024


def _head(response: Response, length: int, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Unknown')}",
             f"Content-Type: {response.content_type}", f"Content-Length: {length}", "Server: sandbox-world",
             "Connection: keep-alive" if keep_alive else "Connection: close"]
    lines.extend(f"{k}: {v}" for k, v in response.headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _HTTP(asyncio.Protocol):
    """Parses pipelined HTTP/1.1 requests and answers them in order."""

    def __init__(self, app: _App, family: str | None) -> None:
        self.app = app
        self.family = family
        self.buffer = b""
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > MAX_HEADER and b"\r\n\r\n" not in self.buffer:
            self._close()
            return
        self._drain()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def _drain(self) -> None:
        while not self.busy and self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                self._close()
                return
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4: end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            connection = headers.get("connection", "").lower()
            keep = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
            response = self.app.handle(self.family, method, target, body)
            if response.delay > 0:
                self.busy = True
                asyncio.get_running_loop().call_later(response.delay, self._send_later, response, method, keep)
                return
            self._send(response, method, keep)

    def _send_later(self, response: Response, method: str, keep: bool) -> None:
        self.busy = False
        self._send(response, method, keep)
        self._drain()

    def _send(self, response: Response, method: str, keep: bool) -> None:
        if self.transport is None:
            return
        body = b"" if method == "HEAD" else response.body
        if response.truncate is not None:
            self.transport.write(_head(response, len(body), False) + body[: response.truncate])
            self._close()
            return
        self.transport.write(_head(response, len(response.body), keep) + body)
        if not keep:
            self._close()


class _App:
    """The routers and the day, shared by every listener."""

    def __init__(self, world: World, router: Router) -> None:
        self.world = world
        self.router = router
        self.origins: dict[str, str] = {}
        self.control = ""

    def set_day(self, day: int) -> None:
        if day < 1:
            raise ValueError("days start at 1")
        self.world.day = day
        self.router.reset_hits()

    def handle(self, family: str | None, method: str, target: str, body: bytes) -> Response:
        if family is not None:
            return self.router.respond(family, method, target, self.world.day)
        if method == "POST" and target.startswith("/__world/day/"):
            try:
                self.set_day(int(target.rsplit("/", 1)[1]))
            except ValueError:
                return Response(400, b'{"error":"day must be an integer >= 1"}', "application/json")
        elif not (method == "GET" and target in ("/__world", "/__world/")):
            return Response(404, b'{"error":"POST /__world/day/<n> or GET /__world"}', "application/json")
        state = {"seed": self.world.seed, "products": len(self.world.products), "day": self.world.day,
                 "origins": self.origins, "control": self.control}
        return Response(200, json.dumps(state).encode(), "application/json")


@dataclass
class Running:
    """A started world: its origins by family, the control URL, and a way to change the day."""

    world: World
    origins: dict[str, str]
    control: str
    _app: _App
    _loop: asyncio.AbstractEventLoop
    _servers: list[asyncio.base_events.Server] = field(default_factory=list)

    def set_day(self, day: int) -> None:
        """Show ``day`` from now on (thread-safe; waits until the server has switched)."""
        asyncio.run_coroutine_threadsafe(self._switch(day), self._loop).result(10)

    async def _switch(self, day: int) -> None:
        self._app.set_day(day)


async def _start(app: _App, host: str, base_port: int) -> list[asyncio.base_events.Server]:
    loop = asyncio.get_running_loop()
    servers: list[asyncio.base_events.Server] = []
    for family, offset in [(None, CONTROL_OFFSET), *FAMILIES.items()]:
        port = base_port + offset if base_port else 0
        try:
            server = await loop.create_server(functools.partial(_HTTP, app, family), host, port,
                                              reuse_address=True, backlog=1024)
        except OSError as exc:
            for opened in servers:
                opened.close()
            from pricewarden.errors import ConfigError

            raise ConfigError(f"cannot listen on {host}:{port} (the {family or 'control'} port): "
                              f"{exc.strerror or exc}; choose another --base-port (0 picks free ports)") from None
        bound = server.sockets[0].getsockname()[1]
        if family is None:
            app.control = f"http://{host}:{bound}"
        else:
            app.origins[family] = f"http://{host}:{bound}"
        servers.append(server)
    return servers


@contextmanager
def serve(world: World, host: str = "127.0.0.1", base_port: int = 0,
          cache_bytes: int = 256 * 1024 * 1024) -> Iterator[Running]:
    """Serve ``world`` from a background thread; ``base_port=0`` picks free ports for every family."""
    loop = asyncio.new_event_loop()
    app = _App(world, Router(world, cache_bytes))
    thread = threading.Thread(target=loop.run_forever, name="sandbox-world", daemon=True)
    thread.start()
    try:
        servers = asyncio.run_coroutine_threadsafe(_start(app, host, base_port), loop).result(30)
    except BaseException:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        raise
    running = Running(world, dict(app.origins), app.control, app, loop, servers)
    try:
        yield running
    finally:
        async def _stop() -> None:
            for server in servers:
                server.close()
            for server in servers:
                await server.wait_closed()

        asyncio.run_coroutine_threadsafe(_stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def serve_forever(world: World, host: str = "127.0.0.1", base_port: int = 8600,
                  cache_bytes: int = 256 * 1024 * 1024, on_ready: object = None) -> None:
    """Serve ``world`` in the calling thread until interrupted; ``on_ready(origins, control)`` once bound."""
    async def main() -> None:
        app = _App(world, Router(world, cache_bytes))
        servers = await _start(app, host, base_port)
        if callable(on_ready):
            on_ready(dict(app.origins), app.control)
        try:
            await asyncio.Event().wait()
        finally:
            for server in servers:
                server.close()

    asyncio.run(main())
