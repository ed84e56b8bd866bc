"""Site profile files: loading, validation with file/line/field, and matching a URL to a profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawlers.profiles import ProfileValidationError, find_profile, load_profile, load_profiles
from pricewarden.errors import NotFoundError, PriceWardenError

GOOD = """\
name: plainshop
domains: ["127.0.0.1:8605", "plainshop.example"]
locale: en_US
currency: USD
decimal_separator: "."
render: false
browser_steps: [{wait_for_selector: "span.price"}]
selectors:
  price: ".buybox .price-now"
  list_price: ".buybox .price-was"
  title: "h1"
  sku: "[data-sku]"
  availability: ".stock"
offers:
  container: ".offer"
  price: ".offer-price"
  seller_name: ".seller"
  seller_id: {selector: ".seller", attr: "data-seller-id"}
cart: {url: "{origin}/cart?add={sku}", price: ".cart-total"}
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_contract_example_loads(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "plainshop.yaml", GOOD))
    assert profile.name == "plainshop"
    assert profile.domains == ("127.0.0.1:8605", "plainshop.example")
    assert profile.selectors["price"].query == ".buybox .price-now"
    assert profile.offers["seller_id"].attr == "data-seller-id"
    assert profile.browser_steps == ({"wait_for_selector": "span.price"},)
    assert profile.cart == {"url": "{origin}/cart?add={sku}", "price": ".cart-total"}
    assert not profile.render


@pytest.mark.parametrize(("change", "line", "field", "words"), [
    (("currency: USD", "currency: DOLLARS"), 4, "currency", "ISO 4217"),
    (('decimal_separator: "."', 'decimal_separator: ";"'), 5, "decimal_separator", '"." or ","'),
    (("render: false", "render: sometimes"), 6, "render", "true or false"),
    (("  title: \"h1\"", "  headline: \"h1\""), 11, "selectors.headline", "unknown selector"),
    (("locale: en_US", "locale: en_US\ncolour: red"), 4, "colour", "unknown field"),
    (("  seller_name: \".seller\"", "  seller_name: 42"), 17, "offers.seller_name", "selector"),
    (("name: plainshop", "name: ''"), 1, "name", "required"),
])
def test_problems_name_file_line_and_field(tmp_path: Path, change: tuple[str, str], line: int, field: str,
                                           words: str) -> None:
    path = write(tmp_path, "bad.yaml", GOOD.replace(*change))
    with pytest.raises(ProfileValidationError) as info:
        load_profile(path)
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert words in problem.message
    assert isinstance(info.value, PriceWardenError)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("currency: USD", "currency: XXX").replace("render: false", "render: 3")
    with pytest.raises(ProfileValidationError) as info:
        load_profile(write(tmp_path, "bad.yaml", text))
    assert {p.field for p in info.value.problems} == {"currency", "render"}
    assert "(and 1 more)" in str(info.value)


def test_broken_yaml_gives_the_line(tmp_path: Path) -> None:
    with pytest.raises(ProfileValidationError) as info:
        load_profile(write(tmp_path, "bad.yaml", "name: x\nselectors: [unclosed\n"))
    assert info.value.problems[0].line is not None
    assert "not valid YAML" in info.value.problems[0].message


def test_folder_loading_finds_duplicates_and_defaults_to_the_workspace(tmp_path: Path) -> None:
    from pricewarden.settings import get_settings

    folder = get_settings().profiles_dir
    write(folder, "a.yaml", GOOD)
    write(folder, "b.yml", "name: marketplace\ndomains: [market.example]\n")
    assert [p.name for p in load_profiles()] == ["plainshop", "marketplace"]
    write(folder, "c.yaml", GOOD)
    with pytest.raises(ProfileValidationError, match="also in"):
        load_profiles()
    assert load_profiles(tmp_path / "missing") == []


@pytest.mark.parametrize(("url", "name", "expected"), [
    ("http://127.0.0.1:8605/p/1", None, "plainshop"),
    ("https://plainshop.example/p/1", None, "plainshop"),
    ("https://www.plainshop.example/p/1", None, "plainshop"),
    ("https://market.example/x", None, "marketplace"),
    ("http://127.0.0.1:9999/p/1", None, None),
    ("https://notplainshop.example/p", None, None),
    ("https://anything.example/p", "marketplace", "marketplace"),
])
def test_find_profile(tmp_path: Path, url: str, name: str | None, expected: str | None) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", "name: marketplace\ndomains: [market.example]\n")
    found = find_profile(load_profiles(tmp_path), url, name)
    assert (found.name if found else None) == expected


def test_unknown_profile_name_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    with pytest.raises(NotFoundError, match="no site profile named 'nope'"):
        find_profile(load_profiles(tmp_path), "https://x", "nope")
