"""A sample workspace matching the world: catalog CSVs, two policy versions, and a site profile per family."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from demo import pricing as pr
from demo.catalog import TIMEZONE, day_date
from demo.world import World, default_origins

_MANAGERS = (
    # username, display name, email, role, locale, regions
    ("admin", "Workspace Admin", "admin@acme-audio.example", "admin", "en", ""),
    ("bianca", "Bianca Brandt (brand manager)", "bianca@acme-audio.example", "brand_manager", "en", "US;EU;CN"),
    ("carl", "Carl Ortiz (channel manager, US)", "carl@acme-audio.example", "channel_manager", "en", "US"),
    ("dana", "Dana Reyes (channel manager, US)", "dana@acme-audio.example", "channel_manager", "en", "US"),
    ("elke", "Elke Vogel (channel manager, EU)", "elke@acme-audio.example", "channel_manager", "de", "EU"),
    ("wang", "王磊 (渠道经理, CN)", "wang@acme-audio.example", "channel_manager", "zh_CN", "CN"),
    ("li", "李娜 (渠道经理, CN)", "li@acme-audio.example", "channel_manager", "zh_CN", "CN"),
)
REPORTING_USERS = ("P001", "P002", "P010", "P016")


def demo_password(username: str) -> str:
    """The sandbox's password of a demo account (printed by ``make demo``; a local demo, never a real one)."""
    return f"{username}-demo"

PROFILE_NAMES = {"plain": "plainshop", "jsshop": "jsshop", "cnmall": "cnmall", "cngbk": "cngbk",
                 "eushop": "eushop", "marketplace": "marketplace", "cartshop": "cartshop", "deals": "deals"}


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _hostport(origin: str) -> str:
    return urlsplit(origin).netloc


def write_catalog(folder: Path, world: World, origins: dict[str, str]) -> None:
    """products.csv, partners.csv, users.csv and listings.csv in the catalog import format."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "products.csv", ["sku", "gtin", "mpn", "brand", "title", "category"],
               [[p.sku, p.gtin, p.mpn, "Acme Audio", p.title, p.category] for p in world.products])
    rows = []
    for p in world.partners:
        channels = "web;marketplace" if p.seller_id else "web"
        rows.append([p.code, p.name, p.tier, p.region, "authorised", _hostport(origins[p.family]), p.seller_id or "",
                     p.manager, p.locale, f"pricing@{p.code.lower()}.partners.example", "", channels, ""])
    _write_csv(folder / "partners.csv", ["code", "name", "tier", "regions", "status", "domains", "seller_ids",
                                         "channel_manager", "locale", "contact_email", "authorised_skus",
                                         "authorised_channels", "notice_urls"], rows)
    users = [[u, n, e, r, loc, reg, "", "", demo_password(u)] for u, n, e, r, loc, reg in _MANAGERS]
    users += [[f"{code.lower()}-pricing", f"{world.partner_by_code[code].name} pricing desk",
               f"pricing@{code.lower()}.partners.example", "partner", "en", world.partner_by_code[code].region,
               code, "", demo_password(f"{code.lower()}-pricing")] for code in REPORTING_USERS]
    _write_csv(folder / "users.csv", ["username", "display_name", "email", "role", "locale", "regions", "partner",
                                      "notification_urls", "password"], users)
    listing_rows = [[origins[x.family] + x.path, x.sku, x.partner or "", "", PROFILE_NAMES.get(x.family, ""),
                     x.region] for x in world.listings]
    _write_csv(folder / "listings.csv", ["url", "sku", "partner", "seller_id", "profile", "region"], listing_rows)


def _at(day: int) -> str:
    return f"{day_date(day).isoformat()}T00:00"


def policy_yaml(world: World, version: int) -> str:
    """The sample policy, version 1 (day 1) or 2 (day 5, MAP raised on five SKUs), in the contract format."""
    lines = [
        f"policy: Acme Audio price policy v{version}",
        f"effective_from: {_at(1 if version == 1 else pr.POLICY_V2_DAY)}",
        f"timezone: {TIMEZONE}", "currency: USD", 'tolerance: "0.00"', "scopes:",
        "  - name: us", "    regions: [US]", "    mode: map", "    currency: USD", "    escalation:",
        "      window_days: 90", "      steps:", "        - {name: warning, after: 1}",
        "        - {name: formal_notice, after: 2, notify_partner: true}",
        "        - {name: rebate_cancelled, after: 3, penalty: true}",
        "        - {name: supply_suspended, after: 5, penalty: true}",
        "  - {name: eu, regions: [EU], mode: recommended, currency: EUR}",
        "  - {name: cn, regions: [CN], mode: maximum, currency: CNY}", "rules:",
    ]
    for p in world.products:
        floor = p.map_v2 if version == 2 else p.map_v1
        tiers = f', tiers: {{A: {{map: "{p.tier_a_map}"}}}}' if p.tier_a_map is not None else ""
        lines.append(f'  - {{sku: {p.sku}, scope: us, map: "{floor}"{tiers}}}')
        lines.append(f'  - {{sku: {p.sku}, scope: eu, recommended: "{p.rrp_eur}"}}')
        if p.cap_cny is not None:
            lines.append(f'  - {{sku: {p.sku}, scope: cn, maximum: "{p.cap_cny}"}}')
    promo = pr.promo_skus(world.products)
    prices = {p.sku: pr.promo_price(p) for p in world.products if p.sku in promo}
    lines.append("promotions:")
    for sku in promo:
        lines.append(f'  - {{name: Spring Sale {sku}, scope: us, skus: [{sku}], price: "{prices[sku]}", '
                     f"start: {_at(pr.PROMO_DAYS.start)}, end: {_at(pr.PROMO_DAYS.stop)}, tiers: [A, B]}}")
    lines.append("exemptions:")
    for p in world.products:
        if p.sku in pr.exempt_skus(world.products):
            lines.append(f'  - {{partner: P004, skus: [{p.sku}], floor: "{pr.exempt_floor(p)}", '
                         f"start: {_at(pr.EXEMPT_DAYS.start)}, end: {_at(pr.EXEMPT_DAYS.stop)}, reason: clearance}}")
    return "\n".join(lines) + "\n"


def profiles(origins: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Site profiles by name, for the families that structured data does not cover (contract format)."""
    def base(name: str, family: str, locale: str, currency: str, sep: str = ".") -> dict[str, Any]:
        return {"name": name, "domains": [_hostport(origins[family])], "locale": locale, "currency": currency,
                "decimal_separator": sep, "render": False}

    cn_selectors = {"price": ".final-price .value", "list_price": ".origin-price del", "title": "h1.tb-title",
                    "sku": ".sku-code", "availability": ".stock"}
    return {
        "plainshop": {**base("plainshop", "plain", "en_US", "USD"), "selectors": {
            "price": ".buybox .price-now", "list_price": ".buybox .price-was", "title": "h1", "sku": "[data-sku]",
            "availability": ".buybox .stock"}},
        "jsshop": {**base("jsshop", "jsshop", "en_US", "USD"), "render": True,
                   "browser_steps": [{"wait_for_selector": "span.price"}],
                   "selectors": {"price": "#price-slot span.price", "title": "h1", "sku": "#price-slot",
                                 "availability": "#stock"}},
        "cnmall": {**base("cnmall", "cnmall", "zh_CN", "CNY"), "selectors": cn_selectors},
        # GBK pages say so in Content-Type and <meta charset>; the profile needs no encoding field.
        "cngbk": {**base("cngbk", "cngbk", "zh_CN", "CNY"), "selectors": cn_selectors},
        "eushop": {**base("eushop", "eushop", "de_DE", "EUR", ","), "selectors": {
            "price": ".preis .betrag", "list_price": ".uvp", "title": "h1", "sku": ".artnr",
            "availability": ".lieferbar"}},
        "marketplace": {**base("marketplace", "marketplace", "en_US", "USD"), "selectors": {
            "price": "#buybox .bb-price", "title": "h1#title", "sku": "[data-sku]"},
            "offers": {"container": ".offer", "price": ".offer-price", "seller_name": ".seller",
                       "seller_id": {"selector": ".seller", "attr": "data-seller-id"}}},
        "cartshop": {**base("cartshop", "cartshop", "en_US", "USD"), "selectors": {
            "price": ".price-box .our-price", "title": "h1", "sku": ".sku", "hidden_price": ".price-hidden"},
            "cart": {"url": "{origin}/cart?add={sku}", "price": ".cart-total"}},
        "deals": {**base("deals", "deals", "en_US", "USD"), "selectors": {
            "price": ".deal .price-sale", "list_price": ".deal .price-list s", "coupon": ".deal .coupon-amount",
            "title": "h1", "sku": "[data-sku]"}},
    }


def network_toml(origins: dict[str, str]) -> str:
    """The workspace settings that let the crawler fetch the sandbox storefronts, and nothing else local."""
    hosts = sorted({urlsplit(origin).netloc for origin in origins.values()})
    return ("# The sandbox storefronts run on this machine: allowed one by one, the network policy stays on\n"
            "# (docs/security-network.md).\n[network]\nallow = [" + ", ".join(f'"{h}"' for h in hosts) + "]\n")


def write_workspace(path: str | Path, world: World, origins: dict[str, str] | None = None) -> Path:
    """Write ``catalog/``, ``policies/`` and ``profiles/`` for ``world`` (URLs on ``origins``, default port 8600).

    Also ``pricewarden.toml`` allowing the storefronts' addresses (``network.allow``), unless the
    folder has one already.
    """
    root = Path(path)
    origins = origins or default_origins()
    root.mkdir(parents=True, exist_ok=True)
    settings_file = root / "pricewarden.toml"
    if not settings_file.exists():
        settings_file.write_text(network_toml(origins), encoding="utf-8")
    write_catalog(root / "catalog", world, origins)
    (root / "policies").mkdir(parents=True, exist_ok=True)
    for version in (1, 2):
        (root / "policies" / f"acme-v{version}.yaml").write_text(policy_yaml(world, version), encoding="utf-8")
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    for name, profile in profiles(origins).items():
        text = yaml.safe_dump(profile, sort_keys=False, allow_unicode=True)
        (root / "profiles" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root
