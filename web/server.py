"""Serving the app with uvicorn: one process, or several workers sharing one listening socket.

uvicorn runs with h11 and a bound on the time a request's headers take (:class:`HeadersBoundH11Protocol`); the
app bounds the body's (``web.body_timeout``).

The socket is bound here, before uvicorn starts, so that a port in use is one clear line
(:class:`~pricewarden.errors.ConfigError`) instead of a traceback, and so that the demo can know
its URL (for the links in its alerts) before the monitoring cycle runs.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import socket
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from pricewarden.errors import ConfigError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use: stop what listens there or pick another "
                              "with --port") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, root_path: str = "") -> str:
    """The http:// URL a bound socket answers on."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{root_path}"


# The cyclic collector's thresholds once the heap is settled (Python's are 700, 10, 10): a request allocates
# ~10,000 container objects that its end frees by reference counting, so with 700 the collector ran about a
# dozen times per list page and now and then a full pass (~0.1 s at 1M observations' worth of imports). With
# 50,000 a young pass comes every few requests and a full one rarely; frozen, the imports are never walked.
GC_THRESHOLDS = (50_000, 50, 100)


def settle(app: Any) -> Any:
    """``app`` warmed and its process's heap settled, at a worker's start: every template compiled, then what is
    alive by then (modules, classes, the app, settings) frozen out of the cyclic collector's passes, and the
    collector's thresholds raised to :data:`GC_THRESHOLDS`."""
    from web.render import ENV

    for name in ENV.list_templates(extensions=["html"]):
        ENV.get_template(name)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app


def app_from_env() -> Any:
    """The app over the settings of the environment (uvicorn's factory for worker processes), settled."""
    from web.app import create_app

    return settle(create_app())


class HeadersBoundH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers take longer than ``headers_timeout``
    seconds to arrive, counted from when it opens or from the end of its previous answer.

    uvicorn bounds their size (16 KB), not their time: a client that sends them a byte at a time, or sends
    nothing, would keep its socket for good, and enough of them exhaust the process's file descriptors
    (slowloris). The body is bounded by the app (``web.body_timeout``).
    """

    headers_timeout = 30.0
    _headers_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._headers_timer is not None:
            self._headers_timer.cancel()
        self._headers_timer = self.loop.call_later(self.headers_timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._headers_timer = None
        between = self.cycle is None or self.cycle.response_complete
        if between and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._headers_timer is not None and self.conn.their_state is not h11.IDLE:  # the headers are in
            self._headers_timer.cancel()
            self._headers_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request's headers

    def connection_lost(self, exc: Exception | None) -> None:
        if self._headers_timer is not None:
            self._headers_timer.cancel()
            self._headers_timer = None
        super().connection_lost(exc)


def server_options(root_path: str = "", forwarded_allow_ips: str | None = None,
                   log_level: str = "warning") -> dict[str, Any]:
    """uvicorn's options for the app (the tests serve it with the same)."""
    options: dict[str, Any] = {"root_path": root_path, "proxy_headers": True, "log_level": log_level,
                               "server_header": False, "access_log": False,
                               "http": "web.server:HeadersBoundH11Protocol"}
    if forwarded_allow_ips:
        options["forwarded_allow_ips"] = forwarded_allow_ips
    return options


def serve(sock: socket.socket, *, workers: int = 1, root_path: str = "", forwarded_allow_ips: str | None = None,
          log_level: str = "warning", on_ready: Callable[[], None] | None = None) -> None:
    """Serve the app on ``sock`` until interrupted (Ctrl-C): in this process, or in ``workers`` processes.

    Every worker builds the app from the same environment (``PRICEWARDEN_*``), so they share the
    database and the session key. ``forwarded_allow_ips``: the proxies whose ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are believed (uvicorn's default: 127.0.0.1 only).
    """
    import uvicorn

    options = server_options(root_path, forwarded_allow_ips, log_level)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        config = uvicorn.Config("web.server:app_from_env", factory=True, workers=workers, **options)
        if on_ready is not None:
            on_ready()
        Multiprocess(config, sockets=[sock]).run()
        return
    config = uvicorn.Config(app_from_env(), **options)
    server = uvicorn.Server(config)
    if on_ready is not None:
        on_ready()
    server.run(sockets=[sock])


__all__ = ["GC_THRESHOLDS", "HeadersBoundH11Protocol", "app_from_env", "bind", "serve", "server_options", "settle",
           "url_of"]
