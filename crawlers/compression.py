"""Compressed responses decoded whole or not at all: a cut-off gzip, deflate, br or zstd body is not a page.

Scrapy's ``HttpCompressionMiddleware`` returns "as much data as possible" from a compressed body
that stops before its end-of-stream marker. With a Content-Length that matches what was sent (an
origin that died behind a proxy, a cache that kept a partial object), nothing else notices: half a
page would be read, and a related product's price in that half taken for the product's. Here such
a response keeps Scrapy's ``dataloss`` flag: :class:`~crawlers.politeness.PoliteRetryMiddleware`
retries it, and the spider records it as a ``truncated`` crawl failure, never a price.

Decoding stays as tolerant as Scrapy's where no data is missing: a gzip member whose 8-byte
trailer (CRC-32 and length) is missing or wrong still counts when its deflate data ended properly,
and bytes after the last member are ignored. A body that is not
valid in its encoding at all raises :class:`BodyDecodingError` (an ``error`` failure naming it).
"""

from __future__ import annotations

import zlib
from typing import Any

import brotli
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware as _ScrapyCompression
from scrapy.utils._compression import _check_max_size  # raises what Scrapy's process_response turns into IgnoreRequest

try:  # the zstd module Scrapy decodes with
    from compression import zstd  # type: ignore[import-not-found,unused-ignore]  # Python 3.14+
except ImportError:
    from backports import zstd  # type: ignore[no-redef,unused-ignore]

__all__ = ["DATALOSS", "BodyDecodingError", "HttpCompressionMiddleware", "TruncatedEncoding", "decode"]

DATALOSS = "dataloss"  # Scrapy's flag for a response whose body is incomplete
_CHUNK = 65536
_GZIP_FLAGS = {"FHCRC": 2, "FEXTRA": 4, "FNAME": 8, "FCOMMENT": 16}


class BodyDecodingError(ValueError):
    """A body that is not valid in the encoding its Content-Encoding names."""


class TruncatedEncoding(BodyDecodingError):
    """A compressed body that ends before its end-of-stream marker (only part of the page)."""


def _drain(decompressor: Any, first: bytes, parts: list[bytes], size: int, max_size: int) -> int:
    """Append to ``parts`` what a zlib decompressor fed with ``max_length`` gives: ``first``, then its
    tail; returns the size of ``parts`` so far (``size`` before)."""
    parts.append(first)
    size += len(first)
    _check_max_size(size, max_size)
    # Not "while there is input left" (Scrapy's loop): zlib may still hold output after the last
    # input byte, and stopping there would take a whole body for a cut one (or drop its end).
    while not decompressor.eof:
        chunk = decompressor.decompress(decompressor.unconsumed_tail, _CHUNK)
        if not chunk:
            break
        size += len(chunk)
        _check_max_size(size, max_size)
        parts.append(chunk)
    return size


def _gzip_data_start(data: bytes, pos: int) -> int:
    """Where a gzip member's deflate data begins (RFC 1952 header), given where the member begins."""
    end = len(data)
    magic = data[pos:pos + 3]
    if magic != b"\x1f\x8b\x08":
        if magic and len(magic) < 3 and b"\x1f\x8b\x08".startswith(magic):
            raise TruncatedEncoding("gzip body ends inside its header")
        raise BodyDecodingError("not gzip data (no gzip header)")
    flags = data[pos + 3] if pos + 3 < end else 0
    pos += 10
    if flags & _GZIP_FLAGS["FEXTRA"]:
        pos += 2 + int.from_bytes(data[pos:pos + 2], "little")
    for name in ("FNAME", "FCOMMENT"):
        if flags & _GZIP_FLAGS[name]:
            zero = data.find(b"\x00", pos)
            pos = end + 1 if zero < 0 else zero + 1
    if flags & _GZIP_FLAGS["FHCRC"]:
        pos += 2
    if pos > end:
        raise TruncatedEncoding("gzip body ends inside its header")
    return pos


def gunzip(data: bytes, max_size: int = 0) -> bytes:
    """Every member of a gzip body; :class:`TruncatedEncoding` if a member's deflate data is cut off."""
    parts: list[bytes] = []
    size, pos = 0, 0
    while True:
        decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        deflated = memoryview(data)[_gzip_data_start(data, pos):]
        try:
            size = _drain(decompressor, decompressor.decompress(deflated, _CHUNK), parts, size, max_size)
        except zlib.error as error:
            raise BodyDecodingError(f"gzip data is corrupt: {error}") from None
        if not decompressor.eof:
            raise TruncatedEncoding(f"gzip body ends before its end-of-stream marker ({len(data)} bytes received)")
        # The rest: the member's trailer (8 bytes: CRC-32, length; not checked: Scrapy tolerates a
        # wrong one, which some servers send), then another member, maybe after NUL padding, or
        # bytes that are not gzip (ignored, as Python's gzip and Scrapy do).
        pos = len(data) - len(decompressor.unused_data) + 8
        while pos < len(data) and data[pos] == 0:
            pos += 1
        if data[pos:pos + 2] != b"\x1f\x8b":
            return b"".join(parts)


def _zlib_header(data: bytes) -> bool:
    """Whether ``data`` starts with a zlib header (RFC 1950: deflate, a valid check, no preset dictionary)."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0 and not data[1] & 0x20


def inflate(data: bytes, max_size: int = 0) -> bytes:
    """A deflate body, zlib-wrapped or raw (as some servers send it).

    The zlib wrapper's Adler-32 trailer is not checked, like gzip's CRC: a body counts when its
    deflate data ended properly.
    """
    error: zlib.error | None = None
    for start in (2, 0) if _zlib_header(data) else (0,):
        decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
        parts: list[bytes] = []
        try:
            _drain(decompressor, decompressor.decompress(memoryview(data)[start:], _CHUNK), parts, 0, max_size)
        except zlib.error as raised:  # not after a zlib header after all: try it as raw deflate
            error = raised
            continue
        if not decompressor.eof:
            raise TruncatedEncoding(f"deflate body ends before its end-of-stream marker ({len(data)} bytes received)")
        return b"".join(parts)
    raise BodyDecodingError(f"deflate data is corrupt: {error}")


def unbrotli(data: bytes, max_size: int = 0) -> bytes:
    """A brotli body."""
    decompressor = brotli.Decompressor()
    try:
        chunk = decompressor.process(data, output_buffer_limit=_CHUNK)
        parts, size = [chunk], len(chunk)
        _check_max_size(size, max_size)
        while not decompressor.is_finished():
            chunk = decompressor.process(b"", output_buffer_limit=_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            _check_max_size(size, max_size)
            parts.append(chunk)
    except brotli.error as error:
        raise BodyDecodingError(f"brotli data is corrupt: {error}") from None
    if not decompressor.is_finished():
        raise TruncatedEncoding(f"brotli body ends before its end-of-stream marker ({len(data)} bytes received)")
    return b"".join(parts)


def unzstd(data: bytes, max_size: int = 0) -> bytes:
    """A zstd body (every frame)."""
    import io

    reader = zstd.ZstdFile(io.BytesIO(data))
    parts, size = [], 0
    try:
        while chunk := reader.read(_CHUNK):
            size += len(chunk)
            _check_max_size(size, max_size)
            parts.append(chunk)
    except EOFError:
        raise TruncatedEncoding(f"zstd body ends before the end of its frame ({len(data)} bytes received)") from None
    except zstd.ZstdError as error:
        raise BodyDecodingError(f"zstd data is corrupt: {error}") from None
    return b"".join(parts)


_DECODERS = {b"gzip": gunzip, b"x-gzip": gunzip, b"deflate": inflate, b"br": unbrotli, b"zstd": unzstd}


def decode(body: bytes, encoding: bytes, max_size: int = 0) -> bytes:
    """``body`` decoded from one Content-Encoding (``body`` itself for an encoding it does not know)."""
    decoder = _DECODERS.get(encoding.strip().lower())
    return body if decoder is None or not body else decoder(body, max_size)


class HttpCompressionMiddleware(_ScrapyCompression):
    """Scrapy's, decoding with the strict decoders above; a cut-off page is flagged ``dataloss``.

    Only pages (2xx answers to the crawl's own requests) are flagged. An error page that arrives cut
    off (a 404, a 429 with its Retry-After, a block page) and a robots.txt are decoded as far as they
    go, as Scrapy does: they are never read for a price, and their status, headers and the part that
    came (a robots.txt's Disallow lines, a captcha's title) still count.
    """

    def __init__(self, stats: Any = None, *, crawler: Any = None) -> None:
        super().__init__(stats, crawler=crawler)
        self._lenient = _ScrapyCompression(stats, crawler=crawler)

    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        return decode(body, encoding, max_size)

    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        try:
            return super().process_response(request, response)
        except TruncatedEncoding as error:
            if not 200 <= response.status < 300 or request.meta.get("dont_obey_robotstxt"):
                return self._lenient.process_response(request, response)
            # The body stays as it came: nothing reads a response with this flag as a page.
            request.meta["pricewarden_dataloss"] = str(error)
            response.flags.append(DATALOSS)
            return response
