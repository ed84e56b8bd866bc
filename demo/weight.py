"""Page weight: the menus, scripts, styles, reviews and footers that make sandbox pages weigh like real ones.

Real product pages weigh ~130 KB (p10) to ~1.2 MB (p90), median ~430 KB. Each page draws its target
size from a log-normal with that median and fills it from pools of blocks built once per seed and
language, so a page costs a list join, not a template render.
"""

from __future__ import annotations

import math
import random
import string
from dataclasses import dataclass
from functools import lru_cache

from demo.catalog import rng

MEDIAN_BYTES = 430_000
SIGMA = 0.82  # gives p10 ~150 KB and p90 ~1.2 MB around the median
MIN_BYTES, MAX_BYTES = 120_000, 1_300_000

def _split(text: str) -> list[str]:
    return text.split()


_WORDS = {
    "en": _split("sound clear bass deep comfy battery life great value shipping fast returned pairs easily quiet "
                 "office commute travel gym cable case charger warranty crisp highs warm mids app update firmware "
                 "noise cancelling call quality mic volume fit ears stage soundstage vinyl room living"),
    "de": _split("Klang klar Bass tief bequem Akku Laufzeit Preis Leistung Versand schnell Rückgabe Kopplung leise "
                 "Büro Pendeln Reise Kabel Etui Garantie Höhen Mitten App Firmware Geräusch Unterdrückung Mikrofon "
                 "Lautstärke Sitz Ohren Bühne Wohnzimmer Qualität"),
    "zh": list("音质清晰低音深沉佩戴舒适续航持久性价比高发货快退换方便连接稳定降噪效果"
               "通话清楚外观漂亮做工精细包装完好物流"),
}
_CATEGORY_NAMES = {
    "en": ("Headphones", "Earbuds", "Speakers", "Soundbars", "Turntables", "Amplifiers", "Cables", "Accessories",
           "Deals", "Gift Cards", "New Arrivals", "Refurbished"),
    "de": ("Kopfhörer", "Ohrhörer", "Lautsprecher", "Soundbars", "Plattenspieler", "Verstärker", "Kabel",
           "Zubehör", "Angebote", "Gutscheine", "Neuheiten", "Refurbished"),
    "zh": ("耳机", "入耳式", "音箱", "回音壁", "黑胶唱机", "功放", "线材", "配件", "特惠", "礼品卡", "新品", "官翻"),
}


@dataclass(frozen=True)
class Pools:
    """Blocks of filler for one seed and language."""

    menu: str
    css: str
    footer: str
    scripts: tuple[str, ...]
    reviews: tuple[str, ...]


def _ident(r: random.Random) -> str:
    return r.choice(string.ascii_lowercase) + "".join(r.choices(string.ascii_letters + string.digits, k=7))


def _script(r: random.Random, size: int) -> str:
    # Looks like bundled, minified JavaScript: many small functions and a config object, no prices.
    parts: list[str] = ["<script>(function(){"]
    total = 0
    while total < size:
        a, b, c = _ident(r), _ident(r), _ident(r)
        chunk = (f"function {a}({b},{c}){{var {a}_{r.randint(0, 99)}={b}*{r.randint(2, 97)}+{c};"
                 f"return {b}?{a}({c},{b}-1):\"{_ident(r)}\"}};window.{b}={{id:{r.randint(1, 99999)},"
                 f"k:\"{_ident(r)}{_ident(r)}\",on:{str(r.random() < 0.5).lower()}}};")
        parts.append(chunk)
        total += len(chunk)
    parts.append("})();</script>\n")
    return "".join(parts)


def _review(r: random.Random, lang: str, i: int) -> str:
    words = _WORDS[lang]
    sep = "" if lang == "zh" else " "
    body = sep.join(r.choice(words) for _ in range(r.randint(40, 110)))
    stars = r.randint(1, 5)
    helpful = r.randint(0, 400)
    name = _ident(r).capitalize()
    title = sep.join(r.choice(words) for _ in range(r.randint(3, 7)))
    date = f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
    return (f'<article class="review" data-review-id="r{i}"><header><span class="stars" data-rating="{stars}">'
            f'{"*" * stars}</span> <b class="review-title">{title}</b></header><p class="who">{name} - {date}'
            f'</p><p class="review-body">{body}</p><footer class="helpful">{helpful} people found this '
            f"helpful</footer></article>\n")


@lru_cache(maxsize=8)
def pools(seed: int, lang: str) -> Pools:
    """The filler pools for ``seed`` and ``lang`` (en, de or zh; zh stays within GBK)."""
    r = rng(seed, "pools", lang)
    names = _CATEGORY_NAMES[lang]
    menu_items = []
    for i, name in enumerate(names):
        links = "".join(f'<li><a href="/c/{i}/{j}">{name} {_ident(r)}</a></li>' for j in range(r.randint(40, 70)))
        menu_items.append(f'<li class="mega"><a href="/c/{i}">{name}</a><ul class="sub">{links}</ul></li>')
    menu = f'<nav class="site-menu" aria-label="main"><ul>{"".join(menu_items)}</ul></nav>\n'
    # As on real sites, the weight is mostly out of sight: the mega menu opens on hover, the footer's
    # links sit in rows, and only the first reviews show until "all reviews" is clicked. (Without
    # this a page is ~36,000 px tall and a full-page screenshot costs ~2 s.)
    layout = (".site-menu .sub{display:none}.site-menu li.mega:hover .sub{display:block}"
              ".site-menu li.mega{display:inline-block;margin:0 6px}"
              ".site-footer .links li{display:inline-block;margin:0 8px}"
              "#reviews article.review:nth-of-type(n+7){display:none}")
    css = "<style>" + layout + "".join(
        f".{_ident(r)}{{margin:{r.randint(0, 40)}px;padding:{r.randint(0, 20)}px;color:#{r.randint(0, 0xFFFFFF):06x}}}"
        for _ in range(350)) + "</style>\n"
    footer_links = "".join(f'<li><a href="/help/{_ident(r)}">{r.choice(names)} {_ident(r)}</a></li>'
                           for _ in range(220))
    footer = f'<footer class="site-footer"><ul class="links">{footer_links}</ul><p>(c) 2026</p></footer>\n'
    scripts = tuple(_script(r, r.randint(20_000, 90_000)) for _ in range(14))
    reviews = tuple(_review(r, lang, i) for i in range(240))
    return Pools(menu, css, footer, scripts, reviews)


def target_size(seed: int, key: str) -> int:
    """Bytes this page should weigh (log-normal, median ~430 KB, clipped to 120 KB..1.3 MB)."""
    r = rng(seed, "size", key)
    size = int(MEDIAN_BYTES * math.exp(r.gauss(0.0, SIGMA)))
    return max(MIN_BYTES, min(MAX_BYTES, size))


def filler(seed: int, key: str, lang: str, have: int) -> tuple[str, str, str]:
    """(head scripts, reviews section, tail scripts) that bring a page of ``have`` bytes to its target size."""
    p = pools(seed, lang)
    r = rng(seed, "fill", key)
    need = target_size(seed, key) - have - len(p.menu) - len(p.css) - len(p.footer)
    reviews: list[str] = []
    budget = max(0, need // 4)
    while budget > 0:
        block = r.choice(p.reviews)
        reviews.append(block)
        budget -= len(block)
    need -= sum(len(b) for b in reviews)
    head: list[str] = []
    tail: list[str] = []
    while need > 0:
        block = r.choice(p.scripts)
        (head if r.random() < 0.4 else tail).append(block)
        need -= len(block)
    section = f'<section id="reviews"><h2>Reviews</h2>{"".join(reviews)}</section>\n'
    return "".join(head), section, "".join(tail)
