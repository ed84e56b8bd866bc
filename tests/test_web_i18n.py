"""Languages: the catalogs are complete, a Chinese-speaking user gets Chinese, the switch works."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from web_world import cookie_for, make_app, sign_in

from web.i18n import LOCALES, Translator, extract, negotiate, normalise, po_path
from web.security import COOKIE

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog(locale: str) -> Any:
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def test_it_keeps_every_catalog_well_formed() -> None:
    # A merge that drops a msgstr line leaves a catalog Babel reads with a warning and a message lost.
    for locale in LOCALES:
        with po_path(locale).open("rb") as handle:
            read_po(handle, locale=locale, abort_invalid=True)


def test_it_has_every_message_of_the_code_and_templates_in_every_catalog() -> None:
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    assert len(wanted) > 100
    for locale in LOCALES:
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(locale) if m.id}
        assert wanted - have == set(), f"{locale}: run `python -m web.i18n` and translate"


def test_it_translates_every_message_into_chinese_with_the_same_placeholders() -> None:
    untranslated, broken = [], []
    for message in _catalog("zh_Hans"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if not all(strings):
            untranslated.append(ids[0])
            continue
        if any(set(PLACEHOLDER.findall(s)) != set(PLACEHOLDER.findall(ids[-1])) for s in strings):
            broken.append(ids[0])
    assert untranslated == []
    assert broken == []


@pytest.mark.parametrize(("given", "expected"), [
    ("zh", "zh_Hans"), ("zh_CN", "zh_Hans"), ("zh-Hans", "zh_Hans"), ("en-US", "en"), ("de", None), ("", None)])
def test_it_maps_stored_locales_to_a_catalog(given: str, expected: str | None) -> None:
    assert normalise(given) == expected


def test_it_negotiates_the_browser_language() -> None:
    assert negotiate("de-DE,zh-CN;q=0.8,en;q=0.5") == "zh_Hans"
    assert negotiate("fr") == "en"
    assert Translator("zh_Hans")("Violations") == "违规"
    assert Translator("zh_Hans").ngettext("%(num)s violation matches.", "%(num)s violations match.", 3) \
        == "共 3 条违规符合条件。"


def test_it_shows_a_chinese_speaking_user_chinese_and_switches_on_request(db: Engine, tmp_path: Path) -> None:
    app, _world = make_app(db, tmp_path / "ws")
    client = TestClient(app, follow_redirects=False)
    assert sign_in(client, "wang").status_code == 303  # wang's account says zh_CN
    page = client.get("/violations")
    assert page.status_code == 200
    assert '<html lang="zh-Hans">' in page.text
    assert "违规" in page.text and "应用筛选" in page.text and "Apply filters" not in page.text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    switched = client.post("/locale", data={"locale": "en", "next": "/violations", "csrf_token": token})
    assert switched.status_code == 303 and switched.headers["location"] == "/violations"
    assert "Apply filters" in client.get("/violations").text


def test_it_follows_the_browser_before_sign_in(db: Engine, tmp_path: Path) -> None:
    app, _world = make_app(db, tmp_path / "ws")
    client = TestClient(app)
    assert "登录" in client.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    client.cookies.set(COOKIE, cookie_for(app, db, "bianca"))
    assert "Violations" in client.get("/violations", headers={"accept-language": "zh-CN"}).text  # session says en
