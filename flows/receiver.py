"""A local notification receiver for the demo and tests: webhooks (Apprise ``json://``) and e-mail (SMTP).

Apprise's ``json://127.0.0.1:PORT/<who>`` POSTs ``{version, title, message, type, attachments:
[{filename, mimetype, base64}]}``; ``mailto://127.0.0.1:PORT?...`` speaks SMTP to aiosmtpd. Every
message is kept with the idempotency key PriceWarden sends (header ``X-PriceWarden-Key``) and the
SHA-256 of each attachment. Delivery is at-least-once, so :meth:`Receiver.unique` de-duplicates on
the key, as a real receiver must.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY_HEADER = "X-PriceWarden-Key"


@dataclass
class Received:
    """One message as it arrived."""

    channel: str  # webhook | email
    path: str  # webhook path or e-mail recipients
    key: str | None
    title: str
    body: str
    attachments: list[dict[str, Any]] = field(default_factory=list)  # filename, mimetype, size, sha256

    def as_dict(self) -> dict[str, Any]:
        """Plain data (a JSON line)."""
        return dict(self.__dict__)


class Receiver:
    """Receives webhooks on an HTTP port and, optionally, e-mail on an SMTP port (both 127.0.0.1)."""

    def __init__(self, *, smtp: bool = False, port: int = 0,
                 on_message: Callable[[Received], None] | None = None) -> None:
        self.on_message = on_message
        self.want_port = port
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._smtp: Any = None
        self.want_smtp = smtp
        self.port = 0
        self.smtp_port = 0

    # URLs for Apprise -------------------------------------------------------------------------

    def json_url(self, who: str) -> str:
        """The Apprise URL that posts to this receiver under ``/who``."""
        return f"json://127.0.0.1:{self.port}/{who}"

    def mailto_url(self, to: str) -> str:
        """The Apprise URL that mails ``to`` through this receiver's SMTP port."""
        return f"mailto://127.0.0.1:{self.smtp_port}?from=pricewarden@example.com&to={to}&mode=insecure"

    # Results ------------------------------------------------------------------------------------

    def add(self, message: Received) -> None:
        """Record ``message`` (thread-safe)."""
        with self._lock:
            self.messages.append(message)
            if self.on_message is not None:
                self.on_message(message)

    def unique(self) -> list[Received]:
        """Messages de-duplicated on the idempotency key (messages without a key are all kept)."""
        seen: set[str] = set()
        out: list[Received] = []
        with self._lock:
            for message in self.messages:
                if message.key is not None:
                    if message.key in seen:
                        continue
                    seen.add(message.key)
                out.append(message)
        return out

    # Lifecycle ----------------------------------------------------------------------------------

    def start(self) -> Receiver:
        """Bind free ports and serve in background threads."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    data = json.loads(raw or b"{}")
                except ValueError:
                    data = {"message": raw.decode("utf-8", "replace")}
                receiver.add(Received(
                    channel="webhook", path=self.path, key=self.headers.get(KEY_HEADER),
                    title=str(data.get("title", "")), body=str(data.get("message", "")),
                    attachments=[_attachment(a) for a in data.get("attachments") or []],
                ))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the demo prints its own summary

        try:
            self._http = ThreadingHTTPServer(("127.0.0.1", self.want_port), Handler)
        except OSError as exc:
            from pricewarden.errors import ConfigError

            raise ConfigError(f"the receiver cannot listen on 127.0.0.1:{self.want_port}: {exc.strerror}") from None
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, name="receiver-http", daemon=True)
        self._thread.start()
        if self.want_smtp:
            self._start_smtp()
        return self

    def _start_smtp(self) -> None:
        import socket

        from aiosmtpd.controller import Controller

        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                receiver.add(_email(envelope))
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.smtp_port = probe.getsockname()[1]
        self._smtp = Controller(Handler(), hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _attachment(item: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64decode(item.get("base64") or "")
    return {"filename": item.get("filename"), "mimetype": item.get("mimetype"), "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def _email(envelope: Any) -> Received:
    message = message_from_bytes(envelope.content)
    body = ""
    attachments: list[dict[str, Any]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):  # decode=True gives bytes, or None for a part without a body
            payload = b""
        if part.get_filename():
            attachments.append({"filename": part.get_filename(), "mimetype": part.get_content_type(),
                                "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()})
        elif part.get_content_type() == "text/plain" and not body:
            body = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return Received(channel="email", path=",".join(envelope.rcpt_tos), key=message.get(KEY_HEADER),
                    title=str(message.get("Subject", "")), body=body, attachments=attachments)
