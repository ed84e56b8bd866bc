"""The network policy: the URLs and addresses that everything which fetches may connect to.

Only ``http`` and ``https`` URLs are fetched. An address that is not public is refused unless
``network.allow`` names it: loopback, private (RFC 1918, IPv6 unique local), link-local (with the
cloud metadata address 169.254.169.254, and fe80::/10), shared CGNAT space (100.64.0.0/10),
unspecified, multicast, reserved and the other special-purpose ranges, in whatever IPv6 form they
come (IPv4-mapped, IPv4-compatible, 6to4, NAT64).

The check is made on the address actually connected to, at the moment of connecting: each
enforcement point (:mod:`crawlers.network.crawl` for Scrapy, :mod:`crawlers.network.proxy` for
Chromium, :mod:`crawlers.network.fetch` for feeds and ``extract URL``) resolves a name once,
checks every answer and connects only to an answer it checked. A name that resolves to a public
address when a URL is checked and to a private one when it is fetched (DNS rebinding) is refused.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from pricewarden.errors import RefusedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_METADATA = ipaddress.IPv4Address("169.254.169.254")
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# Special-purpose ranges that this Python's ``is_global`` may still call global (IANA's registries).
_SPECIAL = (ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv4Network("192.88.99.0/24"),
            ipaddress.IPv6Network("3fff::/20"), ipaddress.IPv6Network("5f00::/16"))
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$)(?:{_LABEL}\.)*{_LABEL}$")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64) and the form's name."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return ipaddress.IPv4Address(int(ip)), "IPv4-compatible"
    return None


def address_class(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public address (``"loopback"``, ``"private"``...), or ``None`` when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(ip.compressed.split("%", 1)[0])
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner = address_class(embedded[0])
            return f"{inner} ({embedded[1]})" if inner else None
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip == _METADATA:
        return "link-local (cloud metadata)"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared (CGNAT)"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global or any(ip in net for net in _SPECIAL if net.version == ip.version):
        return "special-purpose"
    return None


@lru_cache(maxsize=4096)  # a crawl asks about the same few hosts for every page
def parse_ip(text: str) -> IPAddress | None:
    """``text`` as an IP address (brackets and an IPv6 zone allowed), or ``None`` when it is a name."""
    text = text.strip().removeprefix("[").removesuffix("]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _canonical(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def normal_host(host: str) -> str:
    """A host name as compared here: lower case, IDNA-encoded, without a trailing dot."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


@dataclass(frozen=True)
class AllowRule:
    """One ``network.allow`` entry: a network or address, or a host name; with a port or any port."""

    network: IPNetwork | None = None
    host: str | None = None
    port: int | None = None

    def matches(self, host: str, ip: IPAddress, port: int) -> bool:
        """Whether a connection to ``ip``:``port`` for the URL host ``host`` is allowed by this rule."""
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return normal_host(host) == self.host
        assert self.network is not None
        return _canonical(ip) in self.network

    def __str__(self) -> str:
        where = self.host or (str(self.network.network_address) if self.network and self.network.prefixlen
                              == self.network.max_prefixlen else str(self.network))
        if self.port is None:
            return where
        return f"[{where}]:{self.port}" if ":" in where else f"{where}:{self.port}"


def parse_allow(entry: str) -> AllowRule:
    """An allow-list entry: ``10.0.0.0/8``, ``127.0.0.1[:8080]``, ``[::1]:8080``, ``shop.internal[:8443]``."""
    text = entry.strip()
    if not text:
        raise ValueError("an empty entry")
    if "/" in text:
        try:
            return AllowRule(network=ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not a network (CIDR such as 10.0.0.0/8)") from None
    port: int | None = None
    host = text
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError(f"{entry!r} has no closing ']'")
        host, rest = text[1:close], text[close + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{entry!r}: expected ':port' after ']'")
            port = _port(rest[1:], entry)
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        port = _port(port_text, entry)
    ip = parse_ip(host)
    if ip is not None:
        return AllowRule(network=ipaddress.ip_network(_canonical(ip)), port=port)
    name = normal_host(host)
    if not _HOSTNAME.match(name):
        raise ValueError(f"{entry!r} is neither an address, a network nor a host name")
    return AllowRule(host=name, port=port)


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{entry!r} has a bad port {text!r}")
    return int(text)


def display_url(url: str) -> str:
    """``url`` fit to show in errors and logs: no password, every query value hidden, no fragment.

    Feed and page URLs carry tokens in their query (``?token=``, ``?key=``, signatures) under any
    name, so no value of the query is shown.
    """
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc
        if "@" in netloc:
            user, _, hostport = netloc.rpartition("@")
            netloc = f"{user.split(':', 1)[0]}:***@{hostport}" if user else hostport
        query = urlencode([(k, "***") for k, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*")
        if parts.query and not query:
            query = "***"
        return parts._replace(netloc=netloc, query=query, fragment="").geturl()
    except ValueError:
        return "<unreadable URL>"


@dataclass(frozen=True)
class NetworkPolicy:
    """What may be connected to: public addresses over http(s), and the non-public ones ``allow`` names."""

    allow: tuple[AllowRule, ...] = ()
    allow_private: bool = False

    @classmethod
    def from_settings(cls, settings: Any = None) -> NetworkPolicy:
        """The policy of ``settings.network`` (default: the process settings); the crawl proxy is allowed too."""
        if settings is None:
            from pricewarden.settings import get_settings

            settings = get_settings()
        rules = [parse_allow(entry) for entry in settings.network.allow]
        proxy = settings.crawl.proxy.get_secret_value() if settings.crawl.proxy else None
        if proxy:
            # The operator's own proxy is connected to on purpose, wherever it is.
            parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
            if parts.hostname:
                port = parts.port or DEFAULT_PORTS.get(parts.scheme, 80)
                ip = parse_ip(parts.hostname)
                rules.append(AllowRule(network=ipaddress.ip_network(_canonical(ip)), port=port) if ip
                             else AllowRule(host=normal_host(parts.hostname), port=port))
        return cls(tuple(rules), bool(settings.network.allow_private))

    def target(self, url: str) -> tuple[str, str, int]:
        """``(scheme, host, port)`` of a URL this policy lets through; refuses other schemes and IP literals.

        A host name is checked when it is resolved, on the addresses connected to
        (:meth:`check_address`); an IP literal is checked here already.
        """
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise RefusedError("not a valid URL", url=display_url(url)) from None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            what = f"{scheme}://" if scheme else "a URL without a scheme"
            raise RefusedError(f"refused by the network policy: {what} is not fetched (only http and https)",
                               url=display_url(url))
        host = parts.hostname
        if not host:
            raise RefusedError("refused by the network policy: the URL has no host", url=display_url(url))
        port = port or DEFAULT_PORTS[scheme]
        ip = parse_ip(host)
        if ip is not None:
            self.check_address(host, ip, port, url=url)
        return scheme, host, port

    def refusal(self, host: str, ip: IPAddress | str, port: int) -> str | None:
        """Why a connection to ``ip``:``port`` (for the URL host ``host``) is refused, or ``None``."""
        return _refusal(self, host, str(ip), port)

    def _refusal(self, host: str, ip: str, port: int) -> str | None:
        address = parse_ip(ip)
        if address is None:
            return f"{ip!r} is not an IP address"
        why = address_class(address)
        if why is None or self.allow_private:
            return None
        if any(rule.matches(host, address, port) for rule in self.allow):
            return None
        article = "an" if why[0] in "aeiou" else "a"
        if parse_ip(host) is not None:
            return f"{host} is {article} {why} address"
        return f"{host} resolves to {article} {why} address"

    def check_address(self, host: str, ip: IPAddress | str, port: int, *, url: str | None = None) -> None:
        """Raise :class:`RefusedError` when ``ip``:``port`` may not be connected to."""
        why = self.refusal(host, ip, port)
        if why is not None:
            note_refusal(host, why)
            raise RefusedError(f"refused by the network policy: {why}",
                               url=display_url(url) if url else None)


@lru_cache(maxsize=4096)  # the same host, address and port for every page of a site
def _refusal(policy: NetworkPolicy, host: str, ip: str, port: int) -> str | None:
    return policy._refusal(host, ip, port)


# Refusals seen in this process, by host: an enforcement point below an HTTP client that only
# reports "no address" or "tunnel failed" lets the client's caller say why.
_RECENT: OrderedDict[str, str] = OrderedDict()
_RECENT_LOCK = threading.Lock()
_RECENT_MAX = 4096


def note_refusal(host: str, why: str) -> None:
    """Remember that connections for ``host`` were refused, and why."""
    key = normal_host(host)
    with _RECENT_LOCK:
        _RECENT[key] = why
        _RECENT.move_to_end(key)
        while len(_RECENT) > _RECENT_MAX:
            _RECENT.popitem(last=False)


def recent_refusal(host: str | None) -> str | None:
    """Why connections for ``host`` were last refused in this process, if they were."""
    if not host:
        return None
    with _RECENT_LOCK:
        return _RECENT.get(normal_host(host))
