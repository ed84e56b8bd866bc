"""What redaction hides and what it keeps: one table of URLs and texts, and Apprise's own log lines."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pricewarden.redaction import REDACTED, redact_notification_text, redact_text, redact_url, secrets_of_url

R = REDACTED
URLS = [
    # database and evidence URLs
    ("postgresql+psycopg://bob:s3cr%40t@db:5432/pw", f"postgresql+psycopg://bob:{R}@db:5432/pw"),
    ("postgresql+psycopg://postgres@127.0.0.1:5432/pw", "postgresql+psycopg://postgres@127.0.0.1:5432/pw"),
    ("s3://AKIAEXAMPLE:wJalrXUtnFEMIK7MDENG@bucket/evidence", f"s3://AKIAEXAMPLE:{R}@bucket/evidence"),
    ("simplecache::s3://bucket/ev?key=AKIAEXAMPLE&secret=wJalrXUtnFEMI",
     f"simplecache::s3://bucket/ev?key={R}&secret={R}"),
    ("s3://bucket/ev?X-Amz-Signature=abc123&X-Amz-Credential=def456&region=eu",
     f"s3://bucket/ev?X-Amz-Signature={R}&X-Amz-Credential={R}&region=eu"),
    ("/srv/pricewarden/evidence", "/srv/pricewarden/evidence"),
    ("memory://evidence", "memory://evidence"),
    # feed URLs: tokens in the query, the fragment, the path
    ("https://feeds.example.com/p.xml?partner=7&token=tok-123", f"https://feeds.example.com/p.xml?partner=7&token={R}"),
    ("https://feeds.example.com/p.csv?apikey=K&password=P&sig=S&api_key=A&access_token=T&page=2",
     f"https://feeds.example.com/p.csv?apikey={R}&password={R}&sig={R}&api_key={R}&access_token={R}&page=2"),
    ("https://feeds.example.com/p.xml#access_token=frag", f"https://feeds.example.com/p.xml#access_token={R}"),
    ("https://feeds.example.com/f/9f3c2b1a0d4e5f60718293a4b5c6d7e8/products.xml",
     f"https://feeds.example.com/f/{R}/products.xml"),
    ("https://shop.example.com/p/acme-ac-100-wireless-headphones", "https://shop.example.com/p/acme-ac-100-wireless-headphones"),
    ("https://feeds.example.com:99999/x?token=a", R),  # not a URL Python can read: nothing of it is shown
]


@pytest.mark.parametrize(("url", "shown"), URLS)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_hides_urls_pairs_and_known_secrets_but_keeps_words() -> None:
    text = ("feed https://a.example/f?token=tok-1: HTTP 500; password=hunter2 {\"apikey\": \"k-9\"} KeyError: 'sku' "
            "see https://shop.example/p/acme-ac-100-wireless-headphones-black. custom ZZsecretZZ")
    shown = redact_text(text, ["ZZsecretZZ"])
    for secret in ("tok-1", "hunter2", "k-9", "ZZsecretZZ"):
        assert secret not in shown
    assert "https://a.example/f?token=**********: HTTP 500" in shown
    assert "KeyError: 'sku'" in shown and "acme-ac-100-wireless-headphones-black." in shown


def test_secrets_of_url_lists_what_a_text_must_not_show() -> None:
    url = "https://user:pa55word@feeds.example.com/f/9f3c2b1a0d4e5f60718293a4b5c6d7e8/x.xml?token=tok-123&page=2"
    assert set(secrets_of_url(url)) == {"pa55word", "9f3c2b1a0d4e5f60718293a4b5c6d7e8", "tok-123"}


def test_notification_urls_are_cut_to_scheme_and_host() -> None:
    line = "Loaded JSON URL: json://alice:h...2@hooks.example.com:8443/hook?token=T1 and slack://T1/B2/C3"
    assert redact_notification_text(line) == f"Loaded JSON URL: json://hooks.example.com/{R} and slack://{R}"


def test_config_show_hides_database_evidence_and_proxy_secrets(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from pricewarden.cli import main
    from pricewarden.settings import get_settings

    secrets = {"PRICEWARDEN_DATABASE_URL": "postgresql+psycopg://pw:DbPass-1@db.example:5432/pw?sslpassword=DbSsl-2",
               "PRICEWARDEN_EVIDENCE_URL": "s3://AKIA3X:EvSecret-3@bucket/ev?key=EvKey-4&token=EvTok-5",
               "PRICEWARDEN_CRAWL__PROXY": "http://u:ProxyPass-6@proxy.example:3128",
               "PRICEWARDEN_ALERTS__REVIEW_BASE_URL": "https://review.example/?sig=RevSig-7"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    for args in (["config", "show"], ["config", "show", "--json"]):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code
        else:
            code = 0
        out = capsys.readouterr().out
        assert not code, out
        for value in ("DbPass-1", "DbSsl-2", "EvSecret-3", "EvKey-4", "EvTok-5", "ProxyPass-6", "RevSig-7"):
            assert value not in out, (args, value)
    data = json.loads(out)
    assert data["evidence_url"] == f"s3://AKIA3X:{R}@bucket/ev?key={R}&token={R}"
    assert data["database_url"].startswith(f"postgresql+psycopg://pw:{R}@db.example:5432/pw")


@pytest.fixture
def failing_receiver() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_apprise_log_lines_never_show_a_password(failing_receiver: int, caplog: pytest.LogCaptureFixture) -> None:
    import apprise

    import alerts.delivery  # noqa: F401  (installs the filter on Apprise's logger)

    caplog.set_level(logging.DEBUG)
    client = apprise.Apprise()
    assert client.add(f"json://alice:Hunter2Secret@127.0.0.1:{failing_receiver}/hook/Tok3nPathSecret9")
    assert client.add(f"mailto://bob:MailPass99@127.0.0.1:{failing_receiver}/?from=a@b.example&to=c@d.example")
    assert not client.notify(body="x", title="t")
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "apprise" in {r.name for r in caplog.records}
    for fragment in ("Hunter2Secret", "H...t", "MailPass99", "M...9", "Tok3nPathSecret9", "alice:", "bob:"):
        assert fragment not in text, fragment
