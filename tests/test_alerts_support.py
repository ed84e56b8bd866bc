"""Real local receivers for the alert tests: an HTTP webhook (Apprise json:// and form://) and an SMTP server.

Both de-duplicate on the ``X-PriceWarden-Key`` header, as a receiver following our documented
contract does, and keep every raw request so a test can see what was sent twice.
"""

from __future__ import annotations

import base64
import email
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

KEY = "X-PriceWarden-Key"


@dataclass
class Received:
    """One message as it arrived: who it was for, its text, its attachments (name → bytes) and key."""

    path: str
    key: str | None
    title: str
    body: str
    attachments: dict[str, bytes] = field(default_factory=dict)
    to: list[str] = field(default_factory=list)
    html: str = ""


@dataclass
class Inbox:
    """Everything a receiver got: ``raw`` in order, ``accepted`` de-duplicated by key."""

    raw: list[Received] = field(default_factory=list)
    accepted: dict[str, Received] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Received) -> None:
        with self.lock:
            self.raw.append(item)
            if item.key and item.key not in self.accepted:
                self.accepted[item.key] = item

    def at(self, path: str) -> list[Received]:
        """De-duplicated messages sent to ``path``."""
        return [m for m in self.accepted.values() if m.path == path]


def _parse_http(path: str, headers: Any, body: bytes) -> Received:
    ctype = headers.get("Content-Type", "")
    key = headers.get(KEY)
    if ctype.startswith("application/json"):
        data = json.loads(body)
        files = {a["filename"]: base64.b64decode(a["base64"]) for a in data.get("attachments") or []}
        return Received(path, key, data.get("title", ""), data.get("message", ""), files)
    if ctype.startswith("multipart/form-data"):
        msg = BytesParser(policy=policy.default).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        fields: dict[str, str] = {}
        files = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename:
                files[filename] = payload
            else:
                fields[str(name)] = payload.decode()
        return Received(path, key, fields.get("title", ""), fields.get("message", ""), files)
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    return Received(path, key, form.get("title", ""), form.get("message", ""))


class WebhookReceiver:
    """A threaded HTTP server on 127.0.0.1 that records POSTs; ``fail_next`` answers 500 that many times."""

    def __init__(self, port: int = 0) -> None:
        self.inbox = Inbox()
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.inbox.add(_parse_http(self.path, self.headers, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, scheme: str = "json") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpHandler:
    """aiosmtpd handler that records each message (de-duplicated on the key header)."""

    def __init__(self) -> None:
        self.inbox = Inbox()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        text = html = ""
        files: dict[str, bytes] = {}
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_filename():
                files[part.get_filename()] = part.get_payload(decode=True)
            elif part.get_content_type() == "text/plain":
                text = part.get_content()
            elif part.get_content_type() == "text/html":
                html = part.get_content()
        self.inbox.add(Received("smtp", msg.get(KEY), str(msg["Subject"]), text, files,
                                list(envelope.rcpt_tos), html))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpHandler, int]]:
    from aiosmtpd.controller import Controller

    handler = SmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


# --- a small world: managers, partners, a product, violations with real evidence --------------------

_KEYS = itertools.count(1)
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
PNG = (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       + bytes(range(256)) * 8)


@dataclass
class World:
    """Rows the alert tests share; ``urls`` maps a username or partner code to its receiver path."""

    session: Any
    users: dict[str, Any]
    partners: dict[str, Any]
    product: Any
    screenshot: str
    html: str

    def violation(self, **fields: Any) -> Any:
        from store import Violation

        defaults: dict[str, Any] = {
            "key": f"key-{next(_KEYS)}", "kind": "violation", "mode": "map",
            "rule": "map", "severity": "high", "status": "open", "partner_id": self.partners["P001"].id,
            "product_id": self.product.id, "seller_name": "Shop One", "observed_price": Decimal("159.00"),
            "allowed_price": Decimal("199.00"), "currency": "USD", "gap": Decimal("40.00"),
            "gap_pct": Decimal("20.10"), "policy_version": 3, "rule_ref": "rules[0] sku AC-100 (us)",
            "escalation_step": None, "url": "https://shop-one.example/p/ac-100", "first_seen_at": NOW,
            "last_seen_at": NOW, "html_sha256": self.html, "screenshot_sha256": self.screenshot, "region": "US",
        }
        defaults.update(fields)
        row = Violation(**defaults)
        self.session.add(row)
        self.session.flush()
        return row


def make_world(session: Any, urls: dict[str, list[str]], *, zh_partner: bool = False) -> World:
    """Users cm (en), cmzh (zh_CN), fb, bm (brand manager); partners P001 (cm), P002 (cmzh), P003 (none)."""
    from store import Partner, Product, User
    from store.evidence import EvidenceStore

    users = {}
    for name, role, locale in [("cm", "channel_manager", "en"), ("cmzh", "channel_manager", "zh_CN"),
                               ("fb", "channel_manager", "en"), ("bm", "brand_manager", "en")]:
        users[name] = User(username=name, display_name=name.upper(), role=role, locale=locale,
                           notification_urls=urls.get(name, []))
        session.add(users[name])
    session.flush()
    partners = {}
    for code, manager in [("P001", "cm"), ("P002", "cmzh"), ("P003", None)]:
        partners[code] = Partner(code=code, name=f"Shop {code}", tier="B", regions=["US"],
                                 channel_manager_id=users[manager].id if manager else None,
                                 locale="zh_CN" if zh_partner else "en", notice_urls=urls.get(code, []))
        session.add(partners[code])
    product = Product(sku="AC-100", brand="Acme", title="Acme Headphones 100")
    session.add(product)
    session.flush()
    store = EvidenceStore.from_settings()
    shot = store.put(session, PNG, kind="screenshot", content_type="image/png")
    html = store.put(session, b"<html><body><span class=price>$159.00</span></body></html>", kind="html",
                     content_type="text/html")
    session.commit()
    return World(session, users, partners, product, shot, html)
