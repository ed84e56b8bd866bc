"""Print an HTML document to PDF with the project's Chromium (the prices in force, ``/portal/policy.pdf``).

Chromium is the one the crawls drive (:func:`crawlers.settings.chromium_launch_options`: the configured
binary, the known-good arguments, the sandbox where the kernel allows it). It prints in a process of its
own (``python -m web.portal.pdf``, the HTML on stdin, the PDF on stdout), in a session of its own, so that
:data:`TIMEOUT` bounds the whole print: past it the process group (Python, Playwright's driver, Chromium)
is killed. The page is printed with scripts off and the network off: the document is ours, built from
escaped data, and must not fetch anything. One print at a time per web process (:data:`_PRINTING`): a
partner pressing the link ten times waits, it does not start ten browsers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from pricewarden.errors import ExportError

TIMEOUT = 60.0  # seconds for the whole print; Chromium's start is about 1 s, a sheet of 1,000 rows a few more
MAX_HTML = 20 << 20  # a sheet's HTML is far below this; anything larger is refused before Chromium starts
_PRINTING = threading.BoundedSemaphore(1)


def html_to_pdf(html: str, *, timeout: float = TIMEOUT) -> bytes:
    """``html`` (a standalone document: no script, no external resource) printed to A4 PDF bytes.

    Raises :class:`~pricewarden.errors.ExportError` when another print holds the browser for the whole
    ``timeout``, when the print takes longer, or when Chromium fails.
    """
    data = html.encode("utf-8")
    if len(data) > MAX_HTML:
        raise ExportError(f"the document is {len(data) >> 20} MB: too large to print")
    if not _PRINTING.acquire(timeout=timeout):
        raise ExportError(f"another PDF was being printed for {timeout:.0f} s; try again")
    try:
        # The child imports this very code, wherever the app was started from.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
        child = subprocess.Popen([sys.executable, "-m", "web.portal.pdf"], stdin=subprocess.PIPE, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = child.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # the driver and Chromium with it
            child.communicate()
            raise ExportError(f"Chromium did not print the PDF within {timeout:.0f} s") from None
    finally:
        _PRINTING.release()
    if child.returncode != 0 or not out.startswith(b"%PDF-"):
        why = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit status {child.returncode}"]
        raise ExportError(f"Chromium could not print the PDF: {why[0][:300]}")
    return out


def _print(html: str) -> bytes:
    """Print ``html`` in this process (the child's side of :func:`html_to_pdf`)."""
    from playwright.sync_api import sync_playwright

    from crawlers.settings import chromium_launch_options

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**chromium_launch_options())
        try:
            context = browser.new_context(java_script_enabled=False, offline=True, service_workers="block")
            page = context.new_page()
            page.route("**/*", lambda route: route.abort())  # nothing leaves: the document needs nothing
            page.set_content(html, wait_until="load")
            page.emulate_media(media="print")
            pdf: bytes = page.pdf(prefer_css_page_size=True, print_background=True)
            return pdf
        finally:
            browser.close()


if __name__ == "__main__":
    sys.stdout.buffer.write(_print(sys.stdin.buffer.read().decode("utf-8")))
    sys.stdout.buffer.flush()


__all__ = ["TIMEOUT", "html_to_pdf"]
