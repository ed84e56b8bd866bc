"""The network policy of everything that fetches: the crawl, the browser, screenshots, feeds, ``extract URL``.

The policy itself (:mod:`crawlers.network.policy`): http(s) only, and no loopback, private,
link-local, metadata or other non-public address unless ``network.allow`` names it. It is
enforced where each client connects, on the address it connects to:

- Scrapy (crawl, discovery): :class:`PolicyResolver`, :class:`NetworkPolicyMiddleware`,
  :class:`RefusalMiddleware` (:mod:`crawlers.network.crawl`);
- Chromium (render fallback, screenshots, ``extract --render``): :class:`FilteringProxy`
  (:mod:`crawlers.network.proxy`);
- feeds and ``extract URL``: :func:`fetch_url` (:mod:`crawlers.network.fetch`).

See docs/security-network.md.
"""

from __future__ import annotations

from crawlers.network.crawl import NetworkPolicyMiddleware, PolicyResolver, RefusalMiddleware
from crawlers.network.fetch import Fetched, fetch_url
from crawlers.network.policy import (
    AllowRule,
    NetworkPolicy,
    address_class,
    display_url,
    parse_allow,
    recent_refusal,
)
from crawlers.network.proxy import FilteringProxy, filtering_proxy

__all__ = [
    "AllowRule",
    "Fetched",
    "FilteringProxy",
    "NetworkPolicy",
    "NetworkPolicyMiddleware",
    "PolicyResolver",
    "RefusalMiddleware",
    "address_class",
    "display_url",
    "fetch_url",
    "filtering_proxy",
    "parse_allow",
    "recent_refusal",
]
