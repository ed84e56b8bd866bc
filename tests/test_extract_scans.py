"""The cascade's shared scans find exactly what the lexbor searches they replace would find.

The visible scan walks the body once for the elements whose own text shows a currency sign (what
``*:lexbor-contains(sign)`` finds) and for every node's position (what ``body.traverse()`` counts);
the structured-data reader takes microdata/RDFa nodes and meta tags from one search. Each must give
the same nodes, in the same order and as many times, on real pages and on the awkward cases below.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from test_extract_realpages import REALPAGES

from crawlers.extract.amounts import _ISO_IN_TEXT, _SYMBOLS, _TOKEN, _TOKEN_START, SIGN, _first_characters
from crawlers.extract.heuristics import _LETTER_SIGNS, _signs, _walk
from crawlers.extract.page import Page
from crawlers.extract.structured import _marked_nodes

WRITTEN = Path(__file__).resolve().parent / "extract_pages"

AWKWARD = [
    "<html><body>$5 <p>x</p></body></html>",  # a sign in the body's own text
    "<html><body><p>U<!-- -->SD 5</p><p>U<script>x</script>SD 6</p></body></html>",  # a code split in two
    "<html><body><p>$<b>5</b></p><p><b>5</b> $</p><p><b>€5</b> $6</p></body></html>",
    "<html><body><div>kr 5 <span>USD 7</span> and $8</div><svg><text>$9</text></svg></body></html>",
    "<html><body><textarea>$5</textarea><p title='$'>no sign in text</p><p>   </p></body></html>",
    "<html lang='sv-SE'><body><p>499 kr</p><p>Krona</p></body></html>",
    '<html><head><meta property="og:price:amount" content="5" name="price"><meta name="x">'
    '<meta itemprop="price" content="5"></head><body><div itemscope itemtype="https://schema.org/Product" '
    'itemprop="item" property="name" typeof="Product"><span itemprop="price" property="price">5</span>'
    "</div></body></html>",
]


def _bodies() -> list[bytes]:
    bodies = [html.encode() for html in AWKWARD]
    bodies += [path.read_bytes() for path in sorted(WRITTEN.rglob("*.html"))]
    if (REALPAGES / "pages").is_dir():
        bodies += [gzip.decompress(path.read_bytes()) for path in sorted((REALPAGES / "pages").glob("*.html.gz"))]
    return bodies


@pytest.fixture(scope="module")
def parsed() -> list[Page]:
    return [Page.parse(body, "https://shop.example/p/1") for body in _bodies()]


def test_one_walk_finds_the_elements_lexbor_contains_finds_and_every_position(parsed: list[Page]) -> None:
    for page in parsed:
        body = page.tree.body
        assert body is not None
        # (a sign that is also a letter counts only after a number, which lexbor cannot say: see below; a sign holding
        # a double quote, the shekel's 'ש"ח', cannot be written in lexbor's selector)
        signs = tuple(s for s in _signs(page.locale) if s not in _LETTER_SIGNS and '"' not in s)
        found = body.css(", ".join(f'*:lexbor-contains("{sign}")' for sign in signs))
        starts, positions = _walk(body, signs)
        # (lexbor returns an element once per sign it shows; looking at it again changes nothing)
        assert list(dict.fromkeys(n.mem_id for n in starts)) == list(dict.fromkeys(n.mem_id for n in found))
        assert positions == {node.mem_id: i for i, node in enumerate(body.traverse())}


def test_a_sign_that_is_a_letter_counts_only_after_a_number() -> None:
    """"đ" on a Vietnamese page: "1.290.000đ" is a price's element, "Giá đã bao gồm VAT" is not."""
    page = Page.parse('<html lang="vi"><body><p class="a">1.290.000đ</p><p class="b">Giá đã bao gồm VAT</p>'
                      '<p class="c">107.500 đ/tháng</p></body></html>', "https://shop.example.vn/p/1")
    assert page.tree.body is not None
    starts, _positions = _walk(page.tree.body, _signs(page.locale))
    assert [n.attributes["class"] for n in starts] == ["a", "c"]


def test_one_search_gives_each_structured_reader_its_own_search_s_nodes(parsed: list[Page]) -> None:
    for page in parsed:
        microdata, meta = _marked_nodes(page)
        assert [n.mem_id for n in microdata] == [
            n.mem_id for n in page.tree.css("[itemprop], [itemtype], [property], [typeof]")]
        assert [n.mem_id for n in meta] == [n.mem_id for n in page.tree.css("meta[property], meta[name]")]


def test_the_awkward_cases_are_found() -> None:
    page = Page.parse(AWKWARD[0], "https://shop.example/p/1")
    assert page.tree.body is not None
    starts, _positions = _walk(page.tree.body, _signs(page.locale))
    assert [n.tag for n in starts] == ["body"]
    page = Page.parse(AWKWARD[1], "https://shop.example/p/1")
    assert page.tree.body is not None
    assert _walk(page.tree.body, _signs(page.locale))[0] == []  # "U" + "SD" is no sign, as for lexbor


# Texts whose tokens start at each kind of sign spelling: a class, an escaped character, a word, another script
SIGNED = ["Now R$ 1.299,00 (was R$1.499,00)", "RD$4,950.00 and US$ 5", "1.290.000₫ 1.790.000₫ 13%", "29€99",
          "1 299,00 zł", "Rs.1,29,999 / Rs 500", "4 299,00 درهم", "ر.س 219", "28.500.000 ກີບ", "Lei 35 or 35 lei",
          "रु. 1,500", "₹ 499", "¥1,280 (税込) 1,280円", "15.000 đ", "F CFA 5 000", "S/. 39.90", "CHF 12.- / Fr. 12.-",
          "USD 1,299 EUR 1.299,00 GBP 999", "price: $", "$ 39. 99", "-199.00", "1e309 $"]


def _unguarded() -> re.Pattern[str]:
    """The money token without its opening class: the three alternatives tried at every character."""
    return re.compile(_TOKEN.pattern[len(_TOKEN_START) + len("(?:"):-1])


def test_the_token_s_opening_class_finds_what_the_token_alone_finds(parsed: list[Page]) -> None:
    unguarded = _unguarded()
    for text in [*SIGNED, *(page.body_text for page in parsed)]:
        assert ([(m.span(), m.groupdict()) for m in _TOKEN.finditer(text)]
                == [(m.span(), m.groupdict()) for m in unguarded.finditer(text)])


def test_every_sign_opens_with_a_character_of_the_token_s_opening_class() -> None:
    opening = re.compile(_TOKEN_START)
    for spelling in [*_SYMBOLS, *_ISO_IN_TEXT]:
        if SIGN.fullmatch(spelling):
            assert opening.match(spelling), spelling
    with pytest.raises(ValueError):
        _first_characters(r"(?:US\$|(?:x|y)z)")  # (a branch that opens with a group is not told by one character)
    with pytest.raises(ValueError):
        _first_characters(r"(?:US\$|a?b)")  # (nor one whose first character is optional)
