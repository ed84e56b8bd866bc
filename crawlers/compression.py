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
    while decompressor.unconsumed_tail and not decompressor.eof:
        chunk = decompressor.decompress(decompressor.unconsumed_tail, _CHUNK)
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
        # wrong one, which some servers send), then another member or padding.
        rest = decompressor.unused_data
        pos = len(data) - len(rest) + 8
        if data[pos:pos + 2] != b"\x1f\x8b":
            return b"".join(parts)


def inflate(data: bytes, max_size: int = 0) -> bytes:
    """A deflate body, zlib-wrapped or raw (as some servers send it)."""
    decompressor = zlib.decompressobj()
    try:
        try:
            first = decompressor.decompress(data, _CHUNK)
        except zlib.error:
            decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
            first = decompressor.decompress(data, _CHUNK)
        parts: list[bytes] = []
        _drain(decompressor, first, parts, 0, max_size)
    except zlib.error as error:
        raise BodyDecodingError(f"deflate data is corrupt: {error}") from None
    if not decompressor.eof:
        raise TruncatedEncoding(f"deflate body ends before its end-of-stream marker ({len(data)} bytes received)")
    return b"".join(parts)


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
    """Scrapy's, decoding with the strict decoders above; a cut-off body is flagged ``dataloss``."""

    @staticmethod
    def _decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
        return decode(body, encoding, max_size)

    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        try:
            return super().process_response(request, response, spider)
        except TruncatedEncoding as error:
            # The body stays as it came: nothing reads a response with this flag as a page.
            request.meta["pricewarden_dataloss"] = str(error)
            response.flags.append(DATALOSS)
            return response
