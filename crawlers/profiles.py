"""Site profiles: per-site selectors, locale, decimal separator and browser steps, as YAML data.

A profile file ``<workspace>/profiles/<name>.yaml`` (see README, "Site profiles")::

    name: plainshop
    domains: ["127.0.0.1:8605"]
    locale: en_US
    currency: USD
    decimal_separator: "."
    render: false
    browser_steps: [{wait_for_selector: "span.price"}]
    selectors: {price: ".buybox .price-now", list_price: ".price-was", title: "h1"}
    offers: {container: ".offer", price: ".offer-price", seller_name: ".seller",
             seller_id: {selector: ".seller", attr: "data-seller-id"}}
    cart: {url: "{origin}/cart?add={sku}", price: ".cart-total"}
    price_rules:
    - {selector: ".buybox span.now", amount: "49.99", url: "https://shop.example/p/1", by: alice,
       at: "2026-12-02T16:00:00+00:00"}

``price_rules`` are written by the review app when a person picks the right price of an undecided
page (:func:`add_price_rule`): a selector derived from the chosen candidate's element, checked to
select exactly that amount on the page. The cascade uses them only on a page it cannot decide, and
only when one of them selects exactly one amount there.

Selectors are CSS, or XPath with the prefix ``xpath:``. A bad file raises
:class:`ProfileValidationError` listing every problem with file, line and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from pricewarden.errors import Problem
from pricewarden.errors import ProfileValidationError as ProfileValidationError
from pricewarden.money import ISO_CURRENCIES

__all__ = ["PriceRule", "Profile", "ProfileValidationError", "Selector", "add_price_rule", "find_profile",
           "load_profile", "load_profiles"]

SELECTOR_FIELDS = ("price", "list_price", "title", "sku", "gtin", "mpn", "availability", "coupon", "shipping",
                   "seller_name", "seller_id", "hidden_price")
OFFER_FIELDS = ("container", "price", "seller_name", "seller_id", "buy_box")
_TOP = {"name", "domains", "locale", "currency", "decimal_separator", "render", "browser_steps", "selectors",
        "offers", "cart", "price_rules"}
_RULE_FIELDS = ("selector", "amount", "url", "by", "at")


@dataclass(frozen=True, slots=True)
class Selector:
    """A CSS (or ``xpath:``) selector and, optionally, the attribute to read instead of the text."""

    query: str
    attr: str | None = None

    @property
    def is_xpath(self) -> bool:
        """True for ``xpath:`` selectors."""
        return self.query.startswith("xpath:")


@dataclass(frozen=True, slots=True)
class PriceRule:
    """A price selector a person chose on an undecided page of the site (see :func:`add_price_rule`)."""

    selector: str
    amount: str | None = None  # the amount it selected where it was chosen (dot-decimal)
    url: str | None = None  # the page it was chosen on
    by: str | None = None
    at: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Plain data, as written in the profile file (empty fields left out)."""
        return {k: v for k in _RULE_FIELDS if (v := getattr(self, k))}


@dataclass(frozen=True)
class Profile:
    """One site's extraction settings (data, not code)."""

    name: str
    domains: tuple[str, ...] = ()
    locale: str | None = None
    currency: str | None = None
    decimal_separator: str | None = None
    render: bool = False
    browser_steps: tuple[dict[str, Any], ...] = ()
    selectors: dict[str, Selector] = field(default_factory=dict)
    offers: dict[str, Selector] = field(default_factory=dict)
    cart: dict[str, str] = field(default_factory=dict)
    price_rules: tuple[PriceRule, ...] = ()
    source: str | None = None

    def matches(self, url: str) -> bool:
        """True when the URL's host (or host:port) is one of ``domains`` or a subdomain of one."""
        parts = urlsplit(url)
        netloc = parts.netloc.lower()
        host = (parts.hostname or "").lower()
        for domain in self.domains:
            d = domain.lower()
            if netloc == d or host == d or host.endswith("." + d):
                return True
        return False


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping key (for error messages)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[str(key)] = key_node.start_mark.line + 1
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "__lines__"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _selector(value: Any, where: str, problems: list[Problem], file: str, line: int | None) -> Selector | None:
    if isinstance(value, str) and value.strip():
        return Selector(value.strip())
    if isinstance(value, dict) and isinstance(value.get("selector"), str):
        attr = value.get("attr")
        if attr is not None and not isinstance(attr, str):
            problems.append(Problem(file, line, where + ".attr", "must be a string"))
            return None
        return Selector(value["selector"].strip(), attr)
    problems.append(Problem(file, line, where, "must be a selector string or {selector: ..., attr: ...}"))
    return None


def parse_profile(data: Any, file: str = "<profile>") -> Profile:
    """Validate a profile already read from YAML; every problem is reported at once."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise ProfileValidationError([Problem(file, 1, None, "a profile must be a mapping")])
    lines: dict[str, int] = data.get("__lines__", {})
    for key in data:
        if key != "__lines__" and key not in _TOP:
            problems.append(Problem(file, lines.get(key), key, f"unknown field (allowed: {', '.join(sorted(_TOP))})"))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(file, lines.get("name", 1), "name", "required, a non-empty string"))
    domains = data.get("domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
        problems.append(Problem(file, lines.get("domains"), "domains", "must be a list of host or host:port strings"))
        domains = []
    currency = data.get("currency")
    if currency is not None and (not isinstance(currency, str) or currency not in ISO_CURRENCIES):
        problems.append(Problem(file, lines.get("currency"), "currency", f"{currency!r} is not an ISO 4217 code"))
    sep = data.get("decimal_separator")
    if sep is not None and sep not in {".", ","}:
        problems.append(Problem(file, lines.get("decimal_separator"), "decimal_separator", 'must be "." or ","'))
    locale = data.get("locale")
    if locale is not None and not isinstance(locale, str):
        problems.append(Problem(file, lines.get("locale"), "locale", "must be a string like en_US"))
    render = data.get("render", False)
    if not isinstance(render, bool):
        problems.append(Problem(file, lines.get("render"), "render", "must be true or false"))
    steps = data.get("browser_steps", [])
    if not isinstance(steps, list) or not all(isinstance(s, dict) and len(_strip(s)) == 1 for s in steps):
        problems.append(Problem(file, lines.get("browser_steps"), "browser_steps",
                                "must be a list of one-key mappings like {wait_for_selector: 'span.price'}"))
        steps = []
    selectors: dict[str, Selector] = {}
    raw_selectors = data.get("selectors", {}) or {}
    if not isinstance(raw_selectors, dict):
        problems.append(Problem(file, lines.get("selectors"), "selectors", "must be a mapping"))
        raw_selectors = {}
    sel_lines = raw_selectors.get("__lines__", {})
    for key, value in raw_selectors.items():
        if key == "__lines__":
            continue
        if key not in SELECTOR_FIELDS:
            problems.append(Problem(file, sel_lines.get(key), f"selectors.{key}",
                                    f"unknown selector (allowed: {', '.join(SELECTOR_FIELDS)})"))
            continue
        sel = _selector(_strip(value), f"selectors.{key}", problems, file, sel_lines.get(key))
        if sel is not None:
            selectors[key] = sel
    offers: dict[str, Selector] = {}
    raw_offers = data.get("offers") or {}
    if not isinstance(raw_offers, dict):
        problems.append(Problem(file, lines.get("offers"), "offers", "must be a mapping"))
        raw_offers = {}
    off_lines = raw_offers.get("__lines__", {})
    for key, value in raw_offers.items():
        if key == "__lines__":
            continue
        if key not in OFFER_FIELDS:
            problems.append(Problem(file, off_lines.get(key), f"offers.{key}",
                                    f"unknown field (allowed: {', '.join(OFFER_FIELDS)})"))
            continue
        sel = _selector(_strip(value), f"offers.{key}", problems, file, off_lines.get(key))
        if sel is not None:
            offers[key] = sel
    if offers and ("container" not in offers or "price" not in offers):
        problems.append(Problem(file, lines.get("offers"), "offers", "needs at least container and price"))
    cart = _strip(data.get("cart") or {})
    if not isinstance(cart, dict) or not all(isinstance(v, str) for v in cart.values()) or (
        cart and not {"url", "price"} <= set(cart)
    ):
        problems.append(Problem(file, lines.get("cart"), "cart", "must be {url: ..., price: ...} strings"))
        cart = {}
    rules: list[PriceRule] = []
    raw_rules = data.get("price_rules") or []
    if not isinstance(raw_rules, list):
        problems.append(Problem(file, lines.get("price_rules"), "price_rules", "must be a list of {selector: ...}"))
        raw_rules = []
    for index, raw in enumerate(raw_rules):
        where = f"price_rules[{index}]"
        line = (raw.get("__lines__", {}).get("selector") if isinstance(raw, dict) else None) or lines.get("price_rules")
        rule = _strip(raw)
        if not isinstance(rule, dict) or not isinstance(rule.get("selector"), str) or not rule["selector"].strip():
            problems.append(Problem(file, line, where, "must be a mapping with a non-empty selector"))
            continue
        unknown = sorted(set(rule) - set(_RULE_FIELDS))
        if unknown:
            problems.append(Problem(file, line, f"{where}.{unknown[0]}",
                                    f"unknown field (allowed: {', '.join(_RULE_FIELDS)})"))
            continue
        if not all(isinstance(v, str | int | float) for v in rule.values()):
            problems.append(Problem(file, line, where, "fields must be strings"))
            continue
        rules.append(PriceRule(**{k: str(v).strip() for k, v in rule.items()}))
    if problems:
        raise ProfileValidationError(problems)
    return Profile(
        name=str(name).strip(), domains=tuple(domains), locale=locale, currency=currency,
        decimal_separator=sep, render=bool(render), browser_steps=tuple(_strip(s) for s in steps),
        selectors=selectors, offers=offers, cart=dict(cart), price_rules=tuple(rules), source=file,
    )


def load_profile(path: Path | str) -> Profile:
    """Read and validate one profile file."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except OSError as exc:
        raise ProfileValidationError([Problem(str(path), None, None, f"cannot read: {exc.strerror}")]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ProfileValidationError([Problem(str(path), line, None, f"not valid YAML: {exc}")]) from exc
    return parse_profile(data, str(path))


def load_profiles(folder: Path | str | None = None) -> list[Profile]:
    """Every ``*.yaml`` / ``*.yml`` profile in ``folder`` (default: the workspace's profiles folder).

    All files are checked; the problems of every bad file are raised together. Names must be unique.
    """
    if folder is None:
        from pricewarden.settings import get_settings

        folder = get_settings().profiles_dir
    folder = Path(folder)
    if not folder.is_dir():
        return []
    profiles: list[Profile] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            profile = load_profile(path)
        except ProfileValidationError as exc:
            problems.extend(exc.problems)
            continue
        if profile.name in names:
            problems.append(Problem(str(path), None, "name", f"profile {profile.name!r} also in {names[profile.name]}"))
            continue
        names[profile.name] = str(path)
        profiles.append(profile)
    if problems:
        raise ProfileValidationError(problems)
    return profiles


def find_profile(profiles: Iterable[Profile], url: str, name: str | None = None) -> Profile | None:
    """The profile named ``name`` (an error if missing), else the first whose ``domains`` match the URL."""
    from pricewarden.errors import NotFoundError

    profiles = list(profiles)
    if name:
        for profile in profiles:
            if profile.name == name:
                return profile
        raise NotFoundError(f"no site profile named {name!r} (known: {', '.join(p.name for p in profiles) or 'none'})")
    for profile in profiles:
        if profile.matches(url):
            return profile
    return None


def _profile_name(site: str) -> str:
    """A profile name for a site: its host and port, letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-") or "site"


def add_price_rule(url: str, rule: PriceRule, folder: Path | str | None = None) -> Path:
    """Add ``rule`` to the profile of ``url``'s site (a new profile file when the site has none); its path.

    The rule is appended to the file's text (a new ``price_rules:`` block at the end when there is
    none), so the person's own layout and comments stay; a file whose ``price_rules`` block is not
    the last one is written again from its data. The result is checked by loading it again, and
    written whole (a temporary file renamed over it), owner-only.
    """
    from pricewarden.files import FILE_MODE, make_private_dir

    if folder is None:
        from pricewarden.settings import get_settings

        folder = get_settings().profiles_dir
    folder = make_private_dir(folder)
    profile = find_profile(load_profiles(folder), url)
    item = yaml.safe_dump([rule.as_dict()], default_flow_style=None, allow_unicode=True, width=10_000, sort_keys=False)
    if profile is None or profile.source is None:
        site = urlsplit(url).netloc.lower()
        name = _profile_name(site)
        taken = {p.name for p in load_profiles(folder)}
        while name in taken or (folder / f"{name}.yaml").exists():
            name += "-1"
        path = folder / f"{name}.yaml"
        text = yaml.safe_dump({"name": name, "domains": [site]}, sort_keys=False) + "price_rules:\n" + item
    else:
        path = Path(profile.source)
        text = path.read_text(encoding="utf-8")
        top = [line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha() and ":" in line]
        if "price_rules" not in top:
            text = text.rstrip("\n") + "\nprice_rules:\n" + item
        elif top[-1] == "price_rules":
            text = text.rstrip("\n") + "\n" + item
        else:
            data = _strip(yaml.safe_load(text))
            data["price_rules"] = [*(data.get("price_rules") or []), rule.as_dict()]
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    parse_profile(yaml.load(text, Loader=_LineLoader), str(path))  # noqa: S506 - SafeLoader subclass
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
    return path
