"""``pricewarden extract``: what the monitor would read on one page (a URL or a saved file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pricewarden.errors import ExtractionError, FetchError, PriceWardenError

__all__ = ["register", "render_url"]

# The largest page read (as the crawl's DOWNLOAD_MAXSIZE).
MAX_PAGE_BYTES = 32 * 1024 * 1024


def _fetch(url: str, timeout: float) -> tuple[bytes, str]:
    """A plain HTTP GET (no browser), decoded and read as the crawl reads it: the body, and its encoding.

    The network policy applies as in the crawl (crawlers.network: http(s) only, no address that
    is not public unless allowed, every redirect checked again); ``timeout`` is the total time.
    It asks for the compressions the crawl asks for, decodes them with the crawl's decoders (a body
    cut off before its end is an error, not half a page) and takes the text encoding Scrapy would
    give the crawl (the header's charset, else the page's, else a guess). Errors are ``FetchError``.
    """
    from scrapy.downloadermiddlewares.httpcompression import ACCEPTED_ENCODINGS
    from scrapy.http import HtmlResponse

    from crawlers.compression import BodyDecodingError, TruncatedEncoding, decode
    from crawlers.network import display_url, fetch_url
    from pricewarden.settings import get_settings

    chunks: list[bytes] = []
    fetched = fetch_url(url, chunks.append, timeout=timeout, max_bytes=MAX_PAGE_BYTES,
                        user_agent=get_settings().crawl.user_agent,
                        headers={"Accept-Encoding": b", ".join(ACCEPTED_ENCODINGS).decode()})
    body = b"".join(chunks)
    codings = [c.strip() for c in (fetched.headers.get("Content-Encoding") or "").split(",") if c.strip()]
    try:
        for coding in reversed(codings):  # the last one applied is undone first
            body = decode(body, coding.encode("latin-1"))
    except TruncatedEncoding as exc:
        raise FetchError(f"truncated: {exc}", url=display_url(url), kind="truncated") from None
    except BodyDecodingError as exc:
        raise FetchError(str(exc), url=display_url(url), kind="error") from None
    content_type = fetched.headers.get("Content-Type")
    headers = {"Content-Type": content_type} if content_type else None
    return body, HtmlResponse(url=fetched.url, body=body, headers=headers).encoding


def render_url(url: str, steps: tuple[dict[str, object], ...], timeout: float) -> bytes:
    """The page's HTML after Chromium ran its scripts (and the profile's browser steps).

    Chromium reaches the network only through the network policy's filtering proxy, as in the crawl.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from crawlers.network import FilteringProxy, NetworkPolicy, display_url
    from crawlers.settings import CHROMIUM_CONTEXT, chromium_launch_options
    from pricewarden.settings import get_settings

    settings = get_settings()
    NetworkPolicy.from_settings(settings).target(url)  # http(s), and a refused IP literal, before Chromium
    proxy = FilteringProxy.from_settings(settings)
    try:
        with proxy, sync_playwright() as pw:
            browser = pw.chromium.launch(**chromium_launch_options(settings, proxy=proxy))
            try:
                page = browser.new_context(**CHROMIUM_CONTEXT).new_page()
                page.goto(url, timeout=timeout * 1000, wait_until="load")
                for step in steps:
                    for method, arg in step.items():
                        getattr(page, method)(*(arg if isinstance(arg, list) else [arg]))
                return page.content().encode("utf-8")
            finally:
                browser.close()
    except PlaywrightError as exc:
        from pricewarden.errors import RefusedError

        if proxy.refusals:  # the page (or where it redirected) was refused by the proxy
            raise RefusedError(proxy.refusals[-1], url=display_url(url)) from None
        raise FetchError(f"browser could not load the page: {str(exc).splitlines()[0]}", url=display_url(url),
                         kind="render") from None


def _read_file(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PriceWardenError(f"cannot read {path}: {exc.strerror}") from exc
    if data[:2] != b"\x1f\x8b":
        return data
    from crawlers.compression import BodyDecodingError, decode

    try:
        return decode(data, b"gzip")
    except BodyDecodingError as exc:
        raise PriceWardenError(f"cannot read {path}: {exc}") from None


def extract_command(
    url: Annotated[str | None, typer.Argument(help="Page URL to fetch (plain HTTP GET unless --render).")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Read a saved page (.html or .html.gz) instead.")] = None,
    page_url: Annotated[str | None, typer.Option("--url", help="The URL the saved page came from.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Site profile name, or a profile YAML file.")] = None,
    render: Annotated[bool, typer.Option("--render", help="Render the URL in Chromium first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show what the monitor would read on one page: price, currency, list price, availability, offers."""
    from crawlers.extract import extract
    from crawlers.profiles import find_profile, load_profile, load_profiles
    from pricewarden.console import console, emit_json, table
    from pricewarden.settings import get_settings

    if (url is None) == (html is None):
        raise PriceWardenError("give a URL or --html FILE (not both)")
    target = url or page_url or (html.resolve().as_uri() if html else "")
    chosen = None
    if profile and (profile.endswith((".yaml", ".yml")) or Path(profile).is_file()):
        chosen = load_profile(profile)
    else:
        chosen = find_profile(load_profiles(), target, profile)
    timeout = get_settings().crawl.download_timeout
    encoding: str | None = None  # a saved file says its own; Chromium gives UTF-8, as in the crawl
    if html is not None:
        data = _read_file(html)
    elif render or (chosen is not None and chosen.render):
        data, encoding = render_url(target, chosen.browser_steps if chosen else (), timeout), "utf-8"
    else:
        if not target.startswith(("http://", "https://")):
            raise PriceWardenError(f"not an http(s) URL: {target}")
        data, encoding = _fetch(target, timeout)
    try:
        result = extract(data, target, profile=chosen, encoding=encoding,
                         undecided_below=get_settings().crawl.undecided_below)
    except Exception as exc:  # the crawl records such a page as an `error` failure; here it is one line
        raise ExtractionError(f"reading the page failed: {type(exc).__name__}: {exc}", url=target,
                              kind="error") from exc
    doc = result.to_schema()
    if chosen is not None:
        doc["profile"] = chosen.name
    if as_json:
        emit_json(doc)
        return
    rows = [(k, v) for k, v in doc.items()
            if k not in {"candidates", "sellers", "undecided"} and v not in (None, [], "")]
    console.print(table(f"extract {target}", ["field", "value"], rows))
    if result.sellers:
        console.print(table("offers", ["seller", "id", "price", "currency", "buy box"],
                            [(o.seller_name, o.seller_id, o.price, o.currency, o.buy_box) for o in result.sellers]))
    if result.undecided is not None:
        console.print(table(f"undecided: {result.undecided}", ["price", "currency", "raw", "confidence", "reason",
                                                               "text around"],
                            [(c.price, c.currency, c.raw_text, c.confidence, c.note or c.method, c.context)
                             for c in result.competing]))
    if result.candidates:
        console.print(table("candidates", ["method", "price", "currency", "raw", "confidence", "role", "note"],
                            [(c.method, c.price, c.currency, c.raw_text, c.confidence, c.role, c.note)
                             for c in result.candidates]))


def register(app: typer.Typer) -> None:
    """Add ``pricewarden extract``."""
    app.command("extract")(extract_command)
