"""The main commands, run for real with planted secrets: none of them ever shows up where it must not.

Secrets are planted where people put them: passwords and tokens in the managers' and partners'
notification URLs (catalog import), a user's password, a token and an API key in feed URLs. Then
``init``, ``catalog import``, ``policy publish``, ``config show``, ``report feed`` (one that works,
one that fails), ``crawl``, ``detect``, ``alerts send`` (to a local receiver that wants a password,
and to a mail server that refuses), ``alerts notice``, ``alerts retry --debug`` (Apprise's and
urllib3's DEBUG lines on the terminal), the list commands and the weekly HTML report through
Prefect run as separate processes, and every output, every file of the workspace (decompressed),
every table of PriceWarden's database and of Prefect's, Prefect's server log and what the receiver
got are searched for each secret. The only places a secret may be are its own: the catalog files
the person wrote, and the two database columns that hold notification URLs (they are needed to
send). The workspace is owner-only throughout.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import zstandard
from pages_server import serve_pages
from test_alerts_support import WebhookReceiver
from test_file_modes import exposed

pytest_plugins = ["test_alerts_support"]

PRICEWARDEN = str(Path(sys.executable).parent / "pricewarden")
SAMPLE = Path(__file__).resolve().parents[1] / "pricewarden" / "sample" / "catalog"
SECRETS = {
    "alert_password": "AlertPass-S1x",
    "alert_token": "AlertTok-S2x",
    "mail_password": "MailPass-S3x",
    "notice_password": "NoticePass-S4x",
    "user_password": "UserPass-S5x",
    "feed_token": "FeedTok-S6x",
    "feed_key": "FeedKey-S7x",
}
# Where a secret may be: the files the person wrote, and the columns that keep notification URLs.
OWN_PLACES = {("users", "notification_urls"), ("partners", "notice_urls")}

PAGE = b"""<html lang="en"><head><title>Acme AC-100 | SoundHub</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Acme AC-100",
"sku":"AC-100","offers":{"@type":"Offer","price":"149.00","priceCurrency":"USD"}}</script></head>
<body><h1>Acme AC-100 Wireless Headphones</h1><div class="buybox"><span class="price">$149.00</span>
<button class="add-to-cart">Add to cart</button></div></body></html>"""
FEED = b"id,title,price,link,availability\nAC-100,Acme AC-100,179.00 USD,https://soundhub.example/p/ac-100,in stock\n"


@pytest.fixture
def shop() -> Iterator[str]:
    with serve_pages({"/p/ac-100": PAGE, "/feed.csv": (FEED, "text/csv")}) as base:
        yield base


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _forms(secret: str) -> set[str]:
    """The ways a secret may be shown: as is, URL-quoted, and Apprise's privacy form (first...last)."""
    return {secret, quote(secret, safe=""), f"{secret[0]}...{secret[-1]}"}


def _catalog(folder: Path, shop: str, receiver: WebhookReceiver) -> None:
    hook = f"json://alerts:{SECRETS['alert_password']}@127.0.0.1:{receiver.port}/hook?-token={SECRETS['alert_token']}"
    mail = (f"mailto://mailer:{SECRETS['mail_password']}@127.0.0.1:{_closed_port()}"
            "?from=pw@acme-audio.example&to=carl@acme-audio.example")
    notice = f"json://partner:{SECRETS['notice_password']}@127.0.0.1:{receiver.port}/notice"
    users = (SAMPLE / "users.csv").read_text(encoding="utf-8").splitlines()
    users = [line.replace("mailto://smtp.acme-audio.example?to=carl@acme-audio.example", f"{hook};{mail}")
             for line in users]
    users.append(f"dora,Dora,dora@acme-audio.example,admin,en,,,,{SECRETS['user_password']}")
    (folder / "users.csv").write_text("\n".join(users) + "\n", encoding="utf-8")
    partners = (SAMPLE / "partners.csv").read_text(encoding="utf-8")
    partners = partners.replace("mailto://smtp.acme-audio.example?to=compliance@soundhub.example", notice)
    (folder / "partners.csv").write_text(partners, encoding="utf-8")
    listings = f"url,sku,partner,seller_id,profile,region\n{shop}/p/ac-100,AC-100,P001,,,US\n"
    (folder / "listings.csv").write_text(listings, encoding="utf-8")


def _readable(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().decompress(data)
    elif path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def _tables(database: Path, skip: set[tuple[str, str]] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    """Every cell of every table of a SQLite database, as text per (table.column)."""
    found: dict[str, str] = {}
    with sqlite3.connect(database) as db:
        for (table,) in db.execute("select name from sqlite_master where type = 'table'"):
            columns = [row[1] for row in db.execute(f'pragma table_info("{table}")')]
            for column in columns:
                if (table, column) in skip:
                    continue
                cells = db.execute(f'select "{column}" from "{table}"').fetchall()
                found[f"{database.name}:{table}.{column}"] = "\n".join(
                    c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c) for (c,) in cells)
    return found


def test_planted_secrets_appear_nowhere_but_where_they_belong(tmp_path: Path, shop: str,
                                                             webhook: WebhookReceiver) -> None:
    ws = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRICEWARDEN_", "PREFECT_"))}
    env.update(PRICEWARDEN_WORKSPACE=str(ws), PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="200",
               PRICEWARDEN_CRAWL__RENDER_FALLBACK="false", PRICEWARDEN_CRAWL__RETRIES="0",
               PRICEWARDEN_ALERTS__MAX_ATTEMPTS="1", PRICEWARDEN_NETWORK__ALLOW="127.0.0.1",
               # the notice below goes out on the crawl's reading alone (the second reading is not this test's)
               PRICEWARDEN_EXTRACT__AUTO_CONFIDENCE="0.5")
    outputs: dict[str, str] = {}

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([PRICEWARDEN, *args], env=env, capture_output=True, text=True, timeout=900,
                              check=False, preexec_fn=lambda: os.umask(0o022))  # a shell's umask
        outputs[" ".join(args)] = done.stdout + "\n" + done.stderr
        if ok:
            assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done

    run("init", str(ws))
    _catalog(ws / "catalog", shop, webhook)
    run("catalog", "import", str(ws / "catalog"))
    run("policy", "publish", str(ws / "policies" / "policy.yaml"), "--by", "bianca")
    run("config", "show")
    run("config", "show", "--json")
    feed = f"{shop}/feed.csv?partner=P001&token={SECRETS['feed_token']}"
    run("report", "feed", feed, "--partner", "P001")
    failed = run("report", "feed", f"{shop}/missing.csv?apikey={SECRETS['feed_key']}", "--partner", "P001", ok=False)
    assert failed.returncode == 1 and "404" in failed.stderr, failed.stderr
    run("report", "receipts", "--json")
    run("crawl", "--no-browser")
    run("detect")
    run("alerts", "send")
    violations = json.loads(run("violations", "list", "--json").stdout)
    assert any(v["rule"] == "below_map" for v in violations), violations
    run("alerts", "notice", str(violations[0]["id"]), "--by", "carl")
    run("--debug", "alerts", "retry")  # Apprise's and urllib3's DEBUG lines, on the terminal
    run("alerts", "list")
    run("alerts", "list", "--json")
    run("catalog", "list", "users")
    run("catalog", "list", "partners", "--json")
    run("flow", "run", "weekly-report")

    # What happened is what should have: alerts and the notice arrived, the mail server refused.
    paths = [message.path.split("?")[0] for message in webhook.inbox.raw]
    assert "/hook" in paths and "/notice" in paths, paths
    assert "receipt" in outputs["report receipts --json"]
    assert list((ws / "reports").glob("weekly-*.html"))

    places: dict[str, str] = {f"output of `pricewarden {cmd}`": text for cmd, text in outputs.items()}
    for path in ws.rglob("*"):
        if path.is_file() and path.parent != ws / "catalog" and not path.name.startswith(("pricewarden.db",
                                                                                          "prefect.db")):
            places[str(path.relative_to(tmp_path))] = _readable(path)
    places.update(_tables(ws / "pricewarden.db", OWN_PLACES))
    places.update(_tables(ws / ".prefect" / "prefect.db"))
    for message in webhook.inbox.raw:
        places[f"message {message.key}"] = f"{message.title}\n{message.body}"
    assert any("server.log" in p for p in places), sorted(places)
    leaks = [(name, place) for name, secret in SECRETS.items() for form in _forms(secret)
             for place, text in places.items() if form in text]
    assert leaks == []
    # ... and the secrets are really in their own places (so the search above could find them).
    with sqlite3.connect(ws / "pricewarden.db") as db:
        stored = " ".join(row[0] for row in db.execute("select notification_urls from users"))
        assert SECRETS["alert_password"] in stored and SECRETS["mail_password"] in stored
        assert db.execute("select count(*) from users where password_hash like '$argon2%'").fetchone()[0] == 1
    assert exposed(ws) == []
