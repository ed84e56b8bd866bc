"""``pricewarden extract`` on saved files (plain and gzip), on a real local HTTP server, and in Chromium."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pricewarden.cli import main

PAGE = """<html lang="en"><head><title>Acme AC-100</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Acme AC-100",
"sku":"AC-100","gtin13":"0012345678905","offers":{"@type":"Offer","price":"199.00","priceCurrency":"USD",
"availability":"https://schema.org/InStock"}}</script></head>
<body><h1>Acme AC-100</h1><div class="buybox"><del>$249.00</del> <span class="price">$199.00</span>
<button class="add-to-cart">Add to cart</button></div></body></html>"""

JS_PAGE = """<html><head><title>Acme</title></head><body><h1>Acme AC-100</h1><div id="box"></div>
<button>Add to cart</button><script>setTimeout(function () {
document.getElementById('box').innerHTML = '<span class="price">$149.00</span>'; }, 50);</script></body></html>"""


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# A German shop's page in windows-1252 that says so only in its HTTP header (no meta charset).
LATIN_PAGE = ('<html><head><title>Kaffeemühle</title></head><body><h1>Kaffeemühle Deluxe</h1>'
              '<div class="buybox"><span class="price">€1.299,00</span><button class="add-to-cart">In den Warenkorb'
              '</button></div></body></html>').encode("cp1252")


class _Shop(SimpleHTTPRequestHandler):
    """Files from the folder, and pages sent the ways real servers send them (compressed, cut off)."""

    def _send(self, body: bytes, headers: dict[str, str], length: int | None = None) -> None:
        self.send_response(200)
        for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        import brotli

        if self.path == "/br.html":
            self._send(brotli.compress(gzip.compress(PAGE.encode())), {"Content-Encoding": "gzip, br"})
        elif self.path == "/latin.html":
            self._send(LATIN_PAGE, {"Content-Type": "text/html; charset=windows-1252"})
        elif self.path == "/cut.html":  # a gzip stream that stops early (its length says what came)
            self._send(gzip.compress(PAGE.encode())[:200], {"Content-Encoding": "gzip"})
        elif self.path == "/short.html":  # fewer bytes than Content-Length, then the connection closes
            self.close_connection = True
            self._send(PAGE.encode()[:200], {}, length=len(PAGE))
        else:
            super().do_GET()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "p.html").write_text(PAGE, encoding="utf-8")
    (root / "js.html").write_text(JS_PAGE, encoding="utf-8")
    handler = partial(_Shop, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.mark.parametrize("compressed", [False, True])
def test_saved_file_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], compressed: bool) -> None:
    path = tmp_path / ("p.html.gz" if compressed else "p.html")
    path.write_bytes(gzip.compress(PAGE.encode()) if compressed else PAGE.encode())
    code, out, _ = run(["extract", "--html", str(path), "--url", "https://shop.example/p", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["price"] == "199.00" and doc["currency"] == "USD"
    assert doc["regularPrice"] == "249.00"
    assert doc["availability"] == "InStock"
    assert (doc["sku"], doc["gtin"]) == ("AC-100", "0012345678905")
    assert doc["priceVisibility"] == "visible"
    assert doc["method"] == "json-ld"
    assert doc["url"] == "https://shop.example/p"


def test_url_over_plain_http(site: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["extract", f"{site}/p.html", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["price"] == "199.00"


def test_url_is_read_as_the_crawl_reads_it(site: str, capsys: pytest.CaptureFixture[str]) -> None:
    from crawlers.extract import extract

    code, out, err = run(["extract", f"{site}/br.html", "--json"], capsys)
    assert code == 0 and json.loads(out)["price"] == "199.00", err  # gzip inside br, undone in order
    # The charset only the header names: read with it, as the crawl reads it (guessed, the page
    # gave no price at all: the euro sign is byte 0x80).
    code, out, err = run(["extract", f"{site}/latin.html", "--json"], capsys)
    assert code == 0, err
    assert (json.loads(out)["price"], json.loads(out)["currency"]) == ("1299.00", "EUR")
    assert extract(LATIN_PAGE, f"{site}/latin.html").price is None


@pytest.mark.parametrize(("path", "message"), [
    ("/cut.html", "truncated: gzip body ends before its end-of-stream marker"),
    ("/short.html", "truncated: the body is shorter than its Content-Length"),
])
def test_a_cut_off_page_is_an_error_not_half_a_page(site: str, capsys: pytest.CaptureFixture[str],
                                                    path: str, message: str) -> None:
    code, out, err = run(["extract", site + path, "--json"], capsys)
    assert code == 1 and out == "" and message in err, err
    assert "Traceback" not in err


def test_a_cut_off_saved_file_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.html.gz"
    path.write_bytes(gzip.compress(PAGE.encode())[:200])
    code, _, err = run(["extract", "--html", str(path)], capsys)
    assert code == 1 and f"cannot read {path}: gzip body ends before its end-of-stream marker" in err, err


def test_table_output_names_the_fields(site: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["extract", f"{site}/p.html"], capsys)
    assert code == 0
    assert "199.00" in out and "json-ld" in out and "candidates" in out


def test_profile_file_and_http_errors(site: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "acme.yaml"
    profile.write_text('name: acme\ndomains: ["127.0.0.1"]\nselectors: {price: "del"}\n')
    code, out, _ = run(["extract", f"{site}/p.html", "--profile", str(profile), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert (doc["price"], doc["method"], doc["profile"]) == ("249.00", "profile", "acme")
    code, _, err = run(["extract", f"{site}/missing.html"], capsys)
    assert code == 1
    assert "HTTP 404" in err


def test_bad_arguments_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["extract"], capsys)
    assert code == 1 and "give a URL or --html" in err
    code, _, err = run(["extract", "--html", str(tmp_path / "nope.html")], capsys)
    assert code == 1 and "cannot read" in err
    code, _, err = run(["extract", "--html", str(tmp_path / "x"), "--profile", "nosuch"], capsys)
    assert code == 1 and "no site profile named 'nosuch'" in err


@pytest.mark.browser
def test_render_runs_the_profile_browser_steps(site: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["extract", f"{site}/js.html", "--json"], capsys)
    assert code == 0 and json.loads(out)["price"] is None  # plain GET: the price is not in the HTML yet
    # The price appears 50 ms after load: the profile's browser step waits for it (no sleeping).
    profile = tmp_path / "jsshop.yaml"
    profile.write_text('name: jsshop\ndomains: ["127.0.0.1"]\nbrowser_steps: [{wait_for_selector: "span.price"}]\n')
    code, out, err = run(["extract", f"{site}/js.html", "--render", "--profile", str(profile), "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["price"] == "149.00"
