"""What the page draws larger, withholds behind a login, or keeps only in script state: four principles.

- **Size/emphasis** (:func:`weigh`): between the product's title and its buy button, the amount drawn clearly
  larger than every other current amount there (``EMPHASIS`` times the font size, or more) is the price the
  shopper reads. Font sizes come from the page's own stylesheet rules naming the element's class or id, from
  inline styles, and from ``h1``-``h3`` tags (the browser's defaults). Only a current amount gains: an
  instalment, a struck list price or a members' price keeps its role, however large.
- **Net/gross** (:func:`weigh`'s second answer): a buy box that leads with an amount labelled without VAT, drawn
  larger than the amount labelled with VAT beside it, leaves the page undecided between the two (a trade
  shop's price is the net one, a consumer shop's the gross one; nothing on the page says which it is).
- **Login wall** (:func:`login_gate`): a buy button that is disabled, under words saying the prices are shown
  to customers who log in or register, withholds the price (``login_only``), whatever amount a list price
  line or structured data gives.
- **Script state** (:func:`unconfirmed_state`): a price read only from script state (``embedded-json``) that
  the page does not show as its best amount, while it shows another, is not taken: the page is undecided.

Kept apart from the cascade and the visible scan, which call these at one place each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from selectolax.lexbor import LexborNode

from crawlers.extract.amounts import SIGN
from crawlers.extract.model import Candidate
from crawlers.extract.page import disabled

if TYPE_CHECKING:
    from crawlers.extract.page import Page

__all__ = ["EMPHASIS", "font_size", "login_gate", "net_lead_contention", "unconfirmed_state", "weigh"]

# An amount drawn this many times larger than each competing one is the emphasised one.
EMPHASIS = 1.25
# The score an emphasised amount gains (0.15 of a visible candidate's confidence).
_BOOST = 3.0
_TIE = 0.05  # (the cascade's _UNDECIDED_TIE: two visible amounts this close are equally strong)
_DEFAULT_PX = 16.0
# The browser's default sizes of the tags that set one (h1-h3, and small/big beside an amount)
_TAG_PX = {"h1": 32.0, "h2": 24.0, "h3": 18.72, "small": 13.33, "big": 19.2}
_KEYWORDS = {"xx-small": 9.0, "x-small": 10.0, "small": 13.0, "medium": 16.0, "large": 18.0, "x-large": 24.0,
             "xx-large": 32.0, "xxx-large": 48.0}
# Utility classes that name a size on a standard scale: Tailwind's text-xs ... text-9xl, and "fs24", "fs-24"
_TAILWIND = {"xs": "12px", "sm": "14px", "base": "16px", "lg": "18px", "xl": "20px", "2xl": "24px", "3xl": "30px",
             "4xl": "36px", "5xl": "48px", "6xl": "60px", "7xl": "72px", "8xl": "96px", "9xl": "128px"}
_UTILITY_SIZE = re.compile(r"text-(xs|sm|base|lg|xl|[2-9]xl)|-?(?:fs|font-size)-?([1-9]\d)")
_UP = 6  # ancestors climbed for a size before the default
_BUY_BOX = 80  # elements after the title read as the buy box when no buy button is found
_FONT_SIZE = re.compile(r"font-size\s*:\s*([^;}!]+)", re.I)
_FONT = re.compile(r"(?<![\w-])font\s*:\s*(?:[^;}]*?\s)?([\d.]+(?:px|rem|em|pt|%))", re.I)
_SHORTHAND_SIZE = re.compile(r"(?:^|\s)([\d.]+(?:px|rem|em|pt|%))")
_LENGTH = re.compile(r"^\s*([\d.]+)\s*(px|rem|em|pt|%)?\s*$", re.I)
# The subject of a plain selector: its last compound (tag, classes, ids), e.g. ``span.price--big``.
_COMPOUND = re.compile(r"^([a-z][a-z0-9]*)?((?:[.#][A-Za-z_\-\\][\w\-\\:]*)+)$", re.I)
_TOKEN = re.compile(r"([.#])((?:[\w\-]|\\.)+)")
_ELSEWHERE = ("noise:", "header", "footer", "nav", "aside", "outside")
# A unit of measure right after an amount: the price of a square metre, a kilo, a litre
_MEASURE_AFTER = re.compile(r"\s*(?:/|per\b|por\b|pro\b|je\b|(?:m|cm|ft|sq\.? ?ft)[²³23]?\b|m[²³]|kg\b|g\b|l\b|ml\b|"
                            r"lb\b|oz\b|100 ?(?:g|ml)\b)", re.I)

# Labels of an amount before or after it: without VAT (net) and with it (gross).
_NET = re.compile(r"\bex(?:cl|kl)?\.?\s*(?:vat|tax|mwst|gst|btw|moms|iva)|excluding (?:vat|tax)|without (?:vat|tax)|"
                  r"before tax|plus (?:vat|tax)|\+\s*(?:vat|iva|mwst)|zzgl\.?|netto|nettó|(?-i:\bHT\b)|税抜|税別|"
                  r"\bbez (?:DPH|VAT|ДДС|PDV)|\bsin IVA|\bsem IVA|\bsenza IVA|hors tax|\bohne MwSt|\beks(?:kl)?\.? "
                  r"(?:moms|mva)|\bilman ALV|ÁFA nélkül|\bKDV hariç|χωρίς ΦΠΑ|\bfără TVA|без (?:НДС|ПДВ|ДДВ)|"
                  r"\bsans TVA|\bbrez DDV", re.I)
_GROSS = re.compile(r"\binc(?:l|lusive)?\.?\s*(?:of\s*)?(?:\d+\s*%\s*)?(?:vat|tax|mwst|gst|btw|moms|iva|ust)|"
                    r"\binkl\.?|including (?:vat|tax)|(?-i:\bTTC\b)|税込|\bbrutto|bruttó|\bcon IVA|\bcom IVA|"
                    r"\bIVA incl|\bs DPH|\bz VAT|\bsa PDV|\bz DDV|\bmed moms|\bsis\.?\s*ALV|ÁFÁ?-?val|\bKDV dahil|"
                    r"με ΦΠΑ|\bcu TVA|с (?:НДС|ПДВ|ДДС)", re.I)

# Said where the price would be, on a page that shows prices only to customers who log in (kept as data: a
# language is a line). Read lower case.
_LOGIN_FOR_PRICE = re.compile(
    r"(?:log ?in|sign ?in|register)\s*(?:now\s*)?(?:to|for)\s*(?:see|view|get|show|display|unlock)?\s*"
    r"(?:the |your |our )?(?:prices?|pricing)|"
    r"prices? (?:(?:are |is )?(?:only )?(?:available|visible|shown|displayed) )?"
    r"(?:(?:after|upon|on) (?:log ?in|sign ?in|registration)|(?:for|to) (?:registered|logged[- ]in|trade|business) "
    r"(?:customers|users|members|accounts))|"
    r"anmelden,? um (?:die )?preise? zu sehen|preise? (?:erst |nur )?nach (?:der )?(?:anmeldung|login|registrierung)|"
    r"preise? (?:nur )?für (?:registrierte|angemeldete) (?:kunden|händler|nutzer|benutzer)|"
    r"einloggen,? um (?:die )?preise?|"
    r"(?:connectez|identifiez)-vous pour (?:voir|afficher|consulter) (?:les |le |nos )?prix|"
    r"prix (?:visibles? |affichés? |disponibles? )?(?:après|sur) (?:connexion|identification)|"
    r"prix réservés? aux (?:clients|professionnels)|"
    r"inici[ae] sesión para ver (?:el |los |nuestros )?precios?|precios? (?:solo |sólo )?para (?:clientes|usuarios) "
    r"registrados|regístrate para ver (?:el |los )?precios?|"
    r"accedi per (?:vedere|visualizzare) (?:i |il )?prezz[io]|prezz[io] riservat[io] ai clienti|"
    r"prezz[io] visibil[ei] dopo (?:il )?(?:login|accesso)|"
    r"(?:faça|faz) (?:o )?login para ver (?:o |os )?preços?|"
    r"preços? (?:apenas )?para clientes (?:registados|cadastrados)|"
    r"log (?:in|aan) om (?:de )?prijz(?:en|e) te (?:zien|bekijken)|prijzen (?:alleen )?(?:voor|na) (?:geregistreerde "
    r"klanten|inloggen)|inloggen voor (?:de )?prijs|"
    r"zaloguj się,? aby zobaczyć cen|ceny (?:tylko )?dla zalogowanych|ceny dla zarejestrowanych|"
    r"přihlaste se pro zobrazení cen|ceny (?:až )?po přihlášení|ceny po prihlásení|"
    r"logga in för att se pris|log ind for at se pris|logg inn for å se pris|kirjaudu sisään nähdäksesi hinn|"
    r"jelentkezzen be az árak|árak (?:csak )?bejelentkezés után|"
    r"войдите,? чтобы (?:увидеть|видеть) цен|цены (?:доступны )?(?:только )?(?:после (?:авторизации|входа|регистрации)|"
    r"для (?:зарегистрированных|авторизованных))|"
    r"fiyatları görmek için giriş|fiyat (?:için|görmek için) (?:giriş|üye)|"
    r"ログイン(?:して|後に?|すると)(?:価格|値段)|価格は(?:会員|ログイン)|会員(?:様)?のみ価格|"
    r"登录(?:后)?查看价格|登入(?:後)?查看價格|會員登入後|로그인\s?(?:후|하시면)\s?가격|가격은 로그인")
# Every wording of _LOGIN_FOR_PRICE holds one of these: the pattern (a long alternation) runs only where one is said.
_LOGIN_KEYS = ("log", "sign", "regist", "regístr", "trade", "business", "anmeld", "angemeld", "connect", "connex",
               "identif", "réserv", "sesión", "accedi", "riservat", "access", "cadastr", "zaloguj", "zalogow",
               "zarejestr", "přihl", "prihl", "kirjaudu", "jelentkez", "войд", "авториз", "вход", "регистр", "giriş",
               "üye", "ログイン", "会員", "登录", "登入", "로그인")
_DISABLED_CLASS = re.compile(r"(?:^|[\s_-])(?:is-)?disabled(?:$|[\s_-])", re.I)
_BELOW_TITLE = 1500


def _sizes_of(css: str, rules: dict[str, list[tuple[int, int, str]]], order: int) -> int:
    """Add each plain rule of ``css`` that sets a font size to ``rules``, keyed by its subject's first class or id:
    (specificity, order, value). (str.find, not a regex: a page's stylesheets run to 100,000 characters.)"""
    for word in ("font-size", "font:"):
        at = css.find(word)
        while at >= 0:
            colon = css.find(":", at)
            end = min((e for e in (css.find(";", colon), css.find("}", colon)) if e >= 0), default=len(css))
            value = css[colon + 1:end].replace("!important", "").strip()
            if word == "font:":  # (the shorthand: its size is the first length, "700 2rem/1.2 Inter")
                m = _SHORTHAND_SIZE.search(value)
                value = m.group(1) if m is not None else ""
            if value and (at == 0 or not (css[at - 1].isalnum() or css[at - 1] == "-")):
                _add_rule(css, at, value, rules, order)
                order += 1
            at = css.find(word, end)
    return order


def _add_rule(css: str, at: int, value: str, rules: dict[str, list[tuple[int, int, str]]], order: int) -> None:
    start = css.rfind("{", 0, at)
    if start < 0 or start < css.rfind("}", 0, at):
        return  # (not inside a rule's declarations)
    brace = max(css.rfind("}", 0, start), css.rfind("{", 0, start))
    comment = css.rfind("*/", brace + 1, start)  # (searched back to the previous rule only)
    head = css[max(brace, comment + 1 if comment >= 0 else -1) + 1:start]
    if "@" in head:
        return
    for selector in head.split(","):
        parts = selector.split()
        if not parts or ":" in parts[-1].replace("\\:", ""):
            continue  # (":hover", "::before": not what a shopper sees first)
        m = _COMPOUND.match(parts[-1].split(">")[-1])
        if m is None:
            continue
        tokens = _TOKEN.findall(m.group(2))
        key = tokens[0][0] + tokens[0][1].replace("\\", "")
        rules.setdefault(key, []).append((len(tokens) * 10 + len(parts) + (1 if m.group(1) else 0), order,
                                          f"{(m.group(1) or '').lower()}|{m.group(2).replace(chr(92), '')}|{value}"))


def _rules(page: Page) -> dict[str, list[tuple[int, int, str]]]:
    """The page's font-size rules by subject class/id (read once a page)."""
    known: dict[str, list[tuple[int, int, str]]] | None = page.__dict__.get("_font_rules")
    if known is None:
        known = {}
        order = 0
        for css in page.styles:
            order = _sizes_of(css, known, order)
        page.__dict__["_font_rules"] = known
    return known


def _px(value: str, parent: float) -> float | None:
    """A CSS font size in pixels (``parent``: the size an ``em`` or a percentage is of), or None."""
    value = value.strip().lower()
    if value in _KEYWORDS:
        return _KEYWORDS[value]
    m = _LENGTH.match(value)
    if m is None:
        return None
    number, unit = float(m.group(1)), (m.group(2) or "px").lower()
    if unit == "px":
        return number
    if unit == "rem":
        return number * _DEFAULT_PX
    if unit == "em":
        return number * parent
    if unit == "pt":
        return number * 4 / 3
    return number * parent / 100  # (%)


def _own_size(node: LexborNode, rules: dict[str, list[tuple[int, int, str]]]) -> str | None:
    """The font size the element itself sets (inline style, then its most specific, latest matching rule), or
    None."""
    attrs = node.attributes
    style = attrs.get("style")
    if style and "font" in style:
        m = _FONT_SIZE.search(style) or _FONT.search(style)
        if m is not None:
            return m.group(1).strip()
    if rules:
        classes = (attrs.get("class") or "").split()
        ident = attrs.get("id")
        keys = [f".{c}" for c in classes] + ([f"#{ident}"] if ident else [])
        best: tuple[int, int, str] | None = None
        for key in keys:
            for rule in rules.get(key, ()):
                if best is not None and rule[:2] <= best[:2]:
                    continue
                tag, compound, _ = rule[2].split("|", 2)
                if tag and tag != node.tag:
                    continue
                if all((f".{n}" in keys if kind == "." else ident == n) for kind, n in _TOKEN.findall(compound)):
                    best = rule
        if best is not None:
            return best[2].split("|", 2)[2]
    classes_text = attrs.get("class") or ""
    if "text-" in classes_text or "fs" in classes_text:
        # (a utility class of a standard scale, whose stylesheet the page loads from elsewhere: Tailwind's "text-3xl",
        # "fs24"; the unprefixed one, what a phone and a desktop both draw)
        for name in classes_text.split():
            m = _UTILITY_SIZE.fullmatch(name)
            if m is not None:
                return m.group(2) + "px" if m.group(2) else _TAILWIND[m.group(1)]
    return None


def font_size(node: LexborNode, page: Page) -> float:
    """The font size (px) the element is drawn at, as far as the page's own rules, inline styles and heading tags
    say; the default (16) when nothing does."""
    rules = _rules(page)
    chain: list[str] = []  # (sizes relative to the parent's, innermost first, up to an absolute one)
    base = _DEFAULT_PX
    current: LexborNode | None = node
    for _ in range(_UP):
        if current is None or current.tag in {"body", "html", "-document"}:
            break
        value = _own_size(current, rules)
        if value is None and current.tag in _TAG_PX:
            base = _TAG_PX[current.tag]
            break
        if value is not None and _px(value, 1.0) is not None:
            chain.append(value)
            if not value.strip().lower().endswith(("em", "%")) or value.strip().lower().endswith("rem"):
                break
        current = current.parent
    size = base
    for value in reversed(chain):
        size = _px(value, size) or size
    return size


def _label(item: Any) -> str:
    return f"{item.before[-24:]} {item.amount.raw} {item.after[:24]}"


def weigh(page: Page, items: Sequence[Any], h1: int | None, button: int | None) -> tuple[Any, Any] | None:
    """Size/emphasis and net/gross over the visible scan's scored amounts (``items``, heuristics' ``_Seen``).

    The current amount drawn at least ``EMPHASIS`` times larger than every other current amount between the
    title (element index ``h1``) and the buy button (``button``; else the ``_BUY_BOX`` elements after the title)
    gains ``_BOOST`` (reason ``emphasis``). Returns
    (the net amount, the gross amount) when the buy box leads with an amount labelled without VAT drawn that much
    larger than one labelled with VAT after it; else None.
    """
    if h1 is None:
        return None
    end = button if button is not None and button > h1 else h1 + _BUY_BOX  # (a button the scan does not name)
    span = [i for i in items if h1 < i.index < end and i.amount.amount > 0
            and not any(r.startswith(_ELSEWHERE) for r in i.reasons)]
    current = [i for i in span if i.role == "current"]
    if len({i.amount.amount for i in current}) >= 2:
        sizes = [(font_size(i.node, page), i) for i in current]
        top, lead = max(sizes, key=lambda pair: (pair[0], -pair[1].index))
        others = [size for size, i in sizes if i.amount.amount != lead.amount.amount]
        if others and top >= EMPHASIS * max(others) and not _MEASURE_AFTER.match(lead.after):
            # (not a price per square metre or kilo drawn largest above the box's price: "$12.493 m²")
            for size, item in sizes:
                if item.amount.amount == lead.amount.amount and size >= top:
                    item.score += _BOOST
                    item.reasons.append("emphasis")
    nets = [i for i in span if i.role in {"net", "current", "unit"} and _NET.search(_label(i))]
    if not nets:
        return None
    gross = [i for i in span if i.role == "current" and _GROSS.search(_label(i)) and not _NET.search(_label(i))]
    for net in nets:
        for other in gross:
            if (net.index < other.index and net.amount.amount < other.amount.amount
                    and font_size(net.node, page) >= EMPHASIS * font_size(other.node, page)):
                return net, other
    return None


def net_lead_contention(chosen: Candidate, lead: tuple[Candidate, Candidate] | None
                        ) -> tuple[str, list[Candidate]] | None:
    """Why the page is undecided when its buy box leads with a net amount drawn larger than the gross one
    (``lead``: the visible scan's net and gross candidates) and the cascade chose another amount than the net one
    (a profile's selector or a site's rule is never second-guessed); else None."""
    if lead is None or chosen.method in {"profile", "rule"} or chosen.price == lead[0].price:
        return None
    net, gross = lead
    return (f"the buy box leads with {net.raw_text} without VAT, drawn larger than {gross.raw_text} with VAT: a trade "
            "shop's price or a consumer's, nothing on the page says which", [chosen, net])


def _disabled(node: LexborNode) -> bool:
    return disabled(node) or bool(_DISABLED_CLASS.search(node.attributes.get("class") or ""))


def _says_login_for_price(text: str) -> bool:
    """``_LOGIN_FOR_PRICE.search(text)``, tried only around its key words (every wording is under 100 characters
    either side of one): "log" and "access" are said by many a page ("blog", "accessories")."""
    for word in _LOGIN_KEYS:
        at = text.find(word)
        while at >= 0:
            if _LOGIN_FOR_PRICE.search(text, max(0, at - 100), at + 100):
                return True
            at = text.find(word, at + 100)
    return False


def login_gate(page: Page) -> bool:
    """Whether the page withholds the price behind a login: the text from the title to the buy box says prices are
    shown after logging in or to registered customers, and the buy button is disabled (or there is none)."""
    known = page.__dict__.get("buy_button", False)  # (looked for already by the visible scan, most pages)
    if known is not False and known is not None and not _disabled(known):
        return False
    said, at = page.heading_text
    if at < 0:
        return False
    below = " ".join(page.body_text[at:at + 3 * _BELOW_TITLE].split())[:len(said) + _BELOW_TITLE].lower()
    if not _says_login_for_price(below):
        return False
    button = page.buy_button
    return button is None or _disabled(button)


def unconfirmed_state(chosen: Candidate, visible: Sequence[Candidate], best: Candidate | None,
                      flags: Iterable[str]) -> tuple[str, list[Candidate]] | None:
    """Why the page is undecided when the price comes from script state alone (``embedded-json``) and the page's
    best visible amount (``best``, with a currency sign, ahead of every other amount of its own block) is another
    one, while the page shows the script's amount nowhere or only more weakly (``visible``: the scored visible
    candidates): the state may be another variant's, or stale (synced before a sale). A buy box that waits for
    the script (``price_placeholder``: the render decides) and the variant the URL selects (note ``selected ...``,
    which the buy box confirms) are taken."""
    if chosen.method != "embedded-json" or best is None or best.price == chosen.price:
        return None
    if "price_placeholder" in flags or (chosen.note or "").startswith("selected"):
        return None
    if "bare" in (best.note or "").split(",") or not SIGN.search(best.raw_text or ""):
        return None  # (a number without a sign is often a fragment of the price: "45" of "45.500")
    if any(c.confidence >= best.confidence - _TIE for c in visible
           if c is not best and c.price not in {best.price, chosen.price}
           and not any(r.startswith(_ELSEWHERE) for r in (c.note or "").split(","))):
        return None  # (the page's best amount does not stand out: nothing says the page shows another price)
    seen = max((c.confidence for c in visible if c.price == chosen.price), default=None)
    if seen is not None and seen >= best.confidence - _TIE:
        return None  # (shown as strongly as the best amount: the state settles the tie)
    return (f"script state says {chosen.price}, which the page does not show as its price; the page shows "
            f"{best.raw_text} instead", [chosen, best])
