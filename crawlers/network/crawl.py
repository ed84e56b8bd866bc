"""The network policy in a Scrapy crawl process: a checking DNS resolver and two downloader middlewares.

- :class:`PolicyResolver` (Scrapy's ``DNS_RESOLVER``) is the resolver every connection of the crawl
  process goes through: Twisted's ``HostnameEndpoint`` connects only to the addresses it delivers,
  and it delivers only those the policy allows. The address connected to is the address checked,
  so a name that changes its answer between two lookups (DNS rebinding) gains nothing.
- :class:`NetworkPolicyMiddleware` refuses, before anything is sent, a request whose URL the
  policy refuses: a scheme other than http(s), or a refused IP literal. Redirects (HTTP 3xx and
  meta refresh) come back through it as new requests, so each hop is checked again. With a proxy,
  a name is also resolved here and checked, as far as this machine can tell.
- :class:`RefusalMiddleware` turns what the resolver or Chromium's proxy refused (seen by the
  HTTP client as "no address" or "tunnel failed") into a :class:`RefusedError`, before the retry
  middleware would try again: the page becomes a crawl failure of kind ``refused``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from zope.interface import implementer

from crawlers.network.policy import NetworkPolicy, display_url, note_refusal, recent_refusal
from pricewarden.errors import RefusedError

__all__ = ["NetworkPolicyMiddleware", "PolicyResolver", "RefusalMiddleware"]

logger = logging.getLogger(__name__)

# Chromium's errors for a request its proxy would not carry, and the HTTP client's for "no address".
_REFUSABLE = ("ERR_TUNNEL_CONNECTION_FAILED", "ERR_EMPTY_RESPONSE", "no results for hostname lookup")


@implementer(IResolutionReceiver)
class _Checked:
    """Passes on the resolved addresses the policy allows, and notes why the others were dropped."""

    def __init__(self, receiver: Any, host: str, port: int, policy: NetworkPolicy) -> None:
        self.receiver, self.host, self.port, self.policy = receiver, host, port, policy
        self.allowed = 0
        self.refused: str | None = None

    def resolutionBegan(self, resolution: Any) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:
        port = getattr(address, "port", 0) or self.port
        why = self.policy.refusal(self.host, str(address.host), port)
        if why is None:
            self.allowed += 1
            self.receiver.addressResolved(address)
        else:
            self.refused = why

    def resolutionComplete(self) -> None:
        if self.refused is not None and not self.allowed:
            note_refusal(self.host, self.refused)
            logger.info("refused by the network policy: %s", self.refused)
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class PolicyResolver:
    """Scrapy's caching resolver (IPv4 and IPv6), delivering only the addresses the network policy allows."""

    def __init__(self, reactor: Any, cache_size: int, policy: NetworkPolicy) -> None:
        from scrapy.resolver import CachingHostnameResolver

        self.reactor = reactor
        self.inner = CachingHostnameResolver(reactor, cache_size)
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PolicyResolver:
        size = crawler.settings.getint("DNSCACHE_SIZE") if crawler.settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, size, NetworkPolicy.from_settings())

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[Any]] | None = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        checked = _Checked(resolutionReceiver, hostName, portNumber, self.policy)
        return self.inner.resolveHostName(checked, hostName, portNumber, addressTypes,  # type: ignore[arg-type]
                                          transportSemantics)


class NetworkPolicyMiddleware:
    """Refuse a request whose URL the network policy refuses, before robots.txt or anything else is fetched."""

    def __init__(self, policy: NetworkPolicy) -> None:
        self.policy = policy
        self._proxied: dict[tuple[str, int], str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> NetworkPolicyMiddleware:
        return cls(NetworkPolicy.from_settings())

    async def process_request(self, request: Any, spider: Any = None) -> None:
        _scheme, host, port = self.policy.target(request.url)
        if request.meta.get("proxy"):
            await self._check_through_proxy(request.url, host, port)

    async def _check_through_proxy(self, url: str, host: str, port: int) -> None:
        """The proxy resolves names itself; what they resolve to here is checked as far as it goes."""
        key = (host, port)
        if key not in self._proxied:
            why = None
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port)
            except OSError:
                infos = []  # not known here; the proxy may know it
            refused = [w for w in (self.policy.refusal(host, str(i[4][0]), port) for i in infos) if w]
            if refused and len(refused) == len(infos):
                why = refused[0]
            if len(self._proxied) > 10_000:
                self._proxied.clear()
            self._proxied[key] = why
        why = self._proxied[key]
        if why is not None:
            note_refusal(host, why)
            raise RefusedError(f"refused by the network policy: {why}", url=display_url(url))


class RefusalMiddleware:
    """Say ``refused`` for a download that failed because an address was refused below the HTTP client."""

    def process_exception(self, request: Any, exception: BaseException, spider: Any = None) -> None:
        if isinstance(exception, RefusedError) or not any(m in str(exception) for m in _REFUSABLE):
            return
        from scrapy.utils.httpobj import urlparse_cached

        why = recent_refusal(urlparse_cached(request).hostname)
        if why is None:
            return
        raise RefusedError(f"refused by the network policy: {why}", url=display_url(request.url))
