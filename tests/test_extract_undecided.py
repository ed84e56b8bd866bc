"""Abstention: a page whose evidence does not single out one price is *undecided*, never a guess.

Tables of pages that must be undecided (and why) and of look-alikes that must not (a struck list
price, a coupon, a buy box among other sellers' offers, a price repeated in a sticky bar); the rule
a person's pick becomes (derived, validated, written into the site's profile) and how the cascade
uses it; and ``pricewarden extract`` showing an undecided page.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from crawlers.extract import extract
from crawlers.extract.rules import NoRuleFound, apply_rules, derive_rule
from crawlers.profiles import PriceRule, ProfileValidationError, add_price_rule, load_profile, load_profiles
from pricewarden.cli import main

URL = "https://shop.example/p/ac-100"
D = Decimal


def page(body: str, head: str = "", lang: str = "en-US") -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Acme AC-100</title>{head}</head>'
            f"<body><header><nav><a href='/'>Home</a></nav></header><main>{body}</main>"
            "<footer>© Acme</footer></body></html>")


def ld(*prices: str) -> str:
    offers = ",".join(f'{{"@type":"Offer","price":"{p}","priceCurrency":"USD"}}' for p in prices)
    return ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product",'
            f'"name":"Acme AC-100","offers":[{offers}]}}</script>')


def options(first: str, second: str) -> str:
    """Two storage variants, each with its own price and nothing to say which one the page sells."""
    return ('<h1>Acme AC-100 Player</h1><div class="variants">'
            f'<div class="variant v-small"><span class="name">128 GB</span> <span class="price">{first}</span></div>'
            f'<div class="variant v-large"><span class="name">256 GB</span> <span class="price">{second}</span></div>'
            '</div><button class="add-to-cart">Add to cart</button>')


# body, head, the reason's words, the amounts in contention
UNDECIDED = [
    pytest.param(options("$199.00", "$249.00"), "", "equally prominently", {"199.00", "249.00"}, id="two-options"),
    pytest.param('<h1>Acme AC-100</h1><div id="app">Loading…</div><button>Add to cart</button>', ld("15.00", "32.00"),
                 "gives 2 different prices", {"15.00", "32.00"}, id="structured-disagrees-with-itself"),
    pytest.param('<h1>Acme AC-100</h1><p>Ships in 2 days.</p><div><span>$149.00</span></div><p>Free returns.</p>'
                 '<a class="add-to-cart" href="/cart">Add to cart</a>', ld("199.00"),
                 "which the page does not show", {"199.00", "149.00"}, id="structured-against-the-buy-box"),
    # (a shop that prints no currency sign: whole amounts with their cents are prices, not fragments of one; the
    # structured 21.89 is the crate with its deposit, 14,99 a card holder's, 17.99 the price, nothing says which)
    pytest.param('<article class="pdp"><h1 class="pdp__title">Acme AC-100</h1><div class="pdp__shield bonus">'
                 '<span class="bonus-label">BONUS</span> <span>met klantenpas</span> <span class="bonus-price">14,99'
                 '</span></div><div class="pdp__price" aria-label="prijs"><span class="price-integer">17</span>'
                 '<span class="price-dot">.</span><span class="price-fraction">99</span></div>'
                 '<div class="pdp__deposit">+ statiegeld € 3,90</div><button class="btn btn--add">Toevoegen</button>'
                 '</article>', ld("21.89"),
                 "which the page does not show", {"21.89", "14.99", "17.99"},
                 id="structured-against-sign-less-amounts"),
    # (a gift card's amounts: the page shows the lowest only as where they start, and its buy button waits for a
    # choice)
    pytest.param('<h1>Acme Gift Card</h1><div class="price"><span class="price-item">From $200.00</span></div>'
                 '<fieldset><legend>Amount</legend><input type="radio" name="a" id="a1" value="$200"><label for="a1">'
                 '$200</label><input type="radio" name="a" id="a2" value="$500"><label for="a2">$500</label></fieldset>'
                 '<button class="add-to-cart" disabled>Choose an amount</button>', ld("200.00", "500.00"),
                 "only as the price they start from", {"200.00", "500.00"}, id="amounts-from-a-from-price"),
]

# body, head, the price it must read
DECIDED = [
    pytest.param('<h1>Acme AC-100</h1><div class="buybox"><del>$249.00</del> <span class="price">$199.00</span>'
                 '<button class="add-to-cart">Add to cart</button></div>', "", "199.00", id="struck-list-price"),
    pytest.param('<h1>Acme AC-100</h1><div class="buybox"><span class="price">$199.00</span>'
                 '<button class="add-to-cart">Add to cart</button></div>', ld("199.00"), "199.00",
                 id="structured-shown"),
    pytest.param('<h1 id="title">Echo 140 Turntable</h1><div id="buybox"><span class="bb-price">$278.99</span>'
                 '<button>Add to cart</button></div><div id="offers">' + "".join(
                     f'<div class="offer"><span class="offer-price">${p}</span></div>'
                     for p in ("383.99", "349.00", "383.99", "278.99")) + "</div>", "", "278.99", id="buy-box"),
    pytest.param('<h1>Acme AC-100</h1><div class="price-box"><span class="sale-price">售价 <em>¥2140.00</em>'
                 '</span><div class="coupon">优惠券 满300减50</div><div class="final-price">到手价 '
                 '<span class="value">¥2090.00</span></div></div><button>加入购物车</button>', "", "2090.00",
                 id="price-after-coupon"),
    # (rent or buy: the rental's terms, a month's price each, are no variant selector; the bought price is the price)
    pytest.param('<h1>Acme AC-100</h1><div class="tabs" role="tablist"><button role="tab" aria-selected="true" '
                 'class="tab active">Rent</button><button role="tab" aria-selected="false" class="tab">Buy</button>'
                 '</div>'
                 '<div class="panel rent active"><span class="amt">$19</span><span>/month</span><label><input '
                 'type="radio" name="term" checked> 12 months · $19/mo</label><label><input type="radio" name="term"> '
                 '24 months · $15/mo</label></div><div class="panel buy"><span class="price">$429.00</span></div>'
                 '<button class="add-to-cart">Add to cart</button>',
                 '<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Acme '
                 'AC-100","offers":[{"@type":"Offer","name":"Rent monthly","price":"19.00","priceCurrency":"USD",'
                 '"priceSpecification":{"@type":"UnitPriceSpecification","price":"19.00","priceCurrency":"USD",'
                 '"billingDuration":"P1M"}},{"@type":"Offer","name":"Buy","price":"429.00","priceCurrency":"USD"}]}'
                 '</script>', "429.00", id="rent-or-buy"),
]


@pytest.mark.parametrize(("body", "head", "why", "amounts"), UNDECIDED)
def test_it_abstains_when_nothing_singles_out_one_price(body: str, head: str, why: str, amounts: set[str]) -> None:
    result = extract(page(body, head), URL)
    assert (result.outcome, result.price, result.effective_price, result.failure) == ("undecided", None, None, None)
    assert result.undecided is not None and why in result.undecided, result.undecided
    assert {str(c.price.quantize(D("0.01"))) for c in result.competing} == amounts
    doc = result.to_schema()
    assert doc["outcome"] == "undecided" and doc["undecided"]["reason"] == result.undecided
    assert len(doc["undecided"]["candidates"]) == len(amounts)
    json.dumps(doc)


@pytest.mark.parametrize(("body", "head", "price"), DECIDED)
def test_it_decides_when_the_page_breaks_the_tie(body: str, head: str, price: str) -> None:
    result = extract(page(body, head, lang="zh-CN" if "¥" in body else "en-US"), URL)
    assert (result.outcome, result.undecided) == ("price", None), result.competing
    assert (result.effective_price or result.price) == D(price)


def test_visible_candidates_in_contention_carry_the_text_around_them() -> None:
    result = extract(page(options("$199.00", "$249.00")), URL)
    contexts = {c.raw_text: c.context for c in result.competing}
    assert "128 GB" in (contexts["$199.00"] or "") and "256 GB" in (contexts["$249.00"] or "")


def test_a_confidence_under_the_threshold_is_undecided_and_the_default_threshold_keeps_it() -> None:
    # A lone price far from any label: taken at the default threshold (its calibrated confidence is
    # what such readings were right with on the development pages), undecided above it.
    body = "<h1>Cue stick rack</h1><p>Pick up in San Ramon.</p><p>$225</p>"
    plain = extract(page(body), URL)
    assert plain.outcome == "price" and plain.price == D("225") and plain.confidence < 1
    strict = extract(page(body), URL, undecided_below=plain.confidence + 0.01)
    assert strict.outcome == "undecided" and "under the threshold" in (strict.undecided or "")
    assert [c.price for c in strict.competing][:1] == [D("225")]


def test_a_profile_price_selector_is_never_second_guessed() -> None:
    from crawlers.profiles import parse_profile

    profile = parse_profile({"name": "shop", "selectors": {"price": ".v-large .price"}})
    result = extract(page(options("$199.00", "$249.00")), URL, profile=profile)
    assert (result.outcome, result.price, result.method) == ("price", D("249.00"), "profile")


def test_it_derives_the_most_general_rule_that_reads_exactly_the_picked_amount() -> None:
    html = page(options("$199.00", "$249.00"))
    rule = derive_rule(html, URL, D("199.00"), "$199.00", by="bianca")
    assert rule.selector == "div.variant.v-small span.price"  # "span.price" alone reads both amounts
    assert (rule.amount, rule.url, rule.by) == ("199.00", URL, "bianca")
    with pytest.raises(NoRuleFound, match="no element of the page shows 300"):
        derive_rule(html, URL, D("300"), "$300.00")


def test_a_rule_decides_the_sites_other_undecided_pages_and_only_when_it_reads_one_amount(tmp_path: Path) -> None:
    from crawlers.profiles import parse_profile

    rule = derive_rule(page(options("$199.00", "$249.00")), URL, D("199.00"), "$199.00")
    profile = parse_profile({"name": "shop", "domains": ["shop.example"],
                             "price_rules": [rule.as_dict()]})
    other = extract(page(options("$89.00", "$119.00")), "https://shop.example/p/ac-50", profile=profile)
    assert (other.outcome, other.price, other.method) == ("price", D("89.00"), "rule")
    assert "rule picked" in (other.candidates[0].note or "")
    # The same selector matching two different amounts says nothing: the page stays undecided.
    twice = page(options("$89.00", "$119.00").replace("v-large", "v-small"))
    assert extract(twice, "https://shop.example/p/ac-60", profile=profile).outcome == "undecided"
    # A page the cascade decides anyway is read as before (rules only break ties).
    sure = page('<h1>Acme</h1><div class="buybox"><span class="price">$59.00</span><button>Add to cart</button></div>')
    assert extract(sure, URL, profile=profile).method == "heuristic"
    from crawlers.extract.page import Page

    assert apply_rules(Page.parse(twice, URL), profile) is None


def test_a_picked_rule_is_appended_to_the_profile_keeping_its_comments(tmp_path: Path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    own = folder / "shop.yaml"
    own.write_text("# Acme's shop: ask Bianca before changing\nname: shop\ndomains: [shop.example]\ncurrency: USD\n",
                   encoding="utf-8")
    first = PriceRule(".opt-standard .price", "199.00", URL, "bianca", "2026-12-02T16:00:00+00:00")
    assert add_price_rule(URL, first, folder) == own
    second = PriceRule("#price", "9.00", URL + "?v=2", "carl")
    add_price_rule(URL, second, folder)
    text = own.read_text(encoding="utf-8")
    assert text.startswith("# Acme's shop: ask Bianca before changing\n")
    assert load_profile(own).price_rules == (first, second)
    assert own.stat().st_mode & 0o777 == 0o600
    # A site with no profile gets one of its own.
    made = add_price_rule("http://127.0.0.1:8605/p/9", PriceRule(".now"), folder)
    assert made.name == "127-0-0-1-8605.yaml"
    assert [p.name for p in load_profiles(folder) if p.matches("http://127.0.0.1:8605/x")] == ["127-0-0-1-8605"]


def test_a_bad_price_rule_in_a_profile_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nprice_rules:\n- {amount: '1.00'}\n- {selector: '.p', colour: red}\n", encoding="utf-8")
    with pytest.raises(ProfileValidationError) as caught:
        load_profile(bad)
    text = "\n".join(str(p) for p in caught.value.problems)
    assert "price_rules[0]" in text and "non-empty selector" in text
    assert "price_rules[1].colour" in text and "unknown field" in text


def run(args: list[str]) -> None:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    assert code == 0


def test_extract_command_shows_an_undecided_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(page(options("$199.00", "$249.00")), encoding="utf-8")
    run(["extract", "--html", str(saved), "--url", URL, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert (doc["outcome"], doc["price"]) == ("undecided", None)
    assert sorted(c["price"] for c in doc["undecided"]["candidates"]) == ["199.00", "249.00"]
    run(["extract", "--html", str(saved), "--url", URL])
    out = capsys.readouterr().out
    assert "undecided: the page shows $" in out and "equally prominently" in " ".join(out.split())
    assert "128 GB" in out and "256 GB" in out


def test_a_page_that_withholds_its_price_is_hidden_pricing_not_undecided() -> None:
    # Structured data gives two prices the page shows neither of: it would be undecided, but the
    # page says why it shows none ("add to cart to see price"): that is hidden pricing.
    body = '<h1>Acme AC-100</h1><p class="note">Add to cart to see price</p><button>Add to cart</button>'
    result = extract(page(body, ld("15.00", "32.00")), URL)
    assert (result.outcome, result.price_visibility, result.undecided, result.competing) == (
        "hidden", "cart_only", None, [])
