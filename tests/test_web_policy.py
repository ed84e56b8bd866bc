"""Policy: versions with effective dates, each version's file, a diff of two versions, the explain form."""

from __future__ import annotations

import hashlib
import html as html_module
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from web_world import POLICY
from web_world import as_user as _as

from store import session_scope


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))


def test_it_lists_versions_with_their_effective_dates(setup: tuple[Any, Any, Engine]) -> None:
    text = _text(_as(setup, "carl").get("/policy").text)
    assert re.search(r"v1 (in force )?Acme web test policy 2026-01-01 00:00 EST America/New_York", text)
    assert re.search(r"v2 (in force )?Acme web test policy 2026-06-01 00:00 EDT America/New_York", text)
    assert "policy.yaml" in text and "policy-june.yaml" in text


def test_it_shows_a_versions_file_as_published(setup: tuple[Any, Any, Engine]) -> None:
    page = _as(setup, "bianca").get("/policy/versions/1").text
    assert hashlib.sha256(POLICY.encode()).hexdigest() in page
    assert '<span id="L1"><a href="#L1"' in page and "policy: Acme web test policy" in page
    assert _as(setup, "bianca").get("/policy/versions/9").status_code == 404


def test_it_diffs_two_versions_rule_by_rule_and_line_by_line(setup: tuple[Any, Any, Engine]) -> None:
    page = _as(setup, "bianca").get("/policy/diff?a=1&b=2").text
    changes = _text(page.split('id="changes"')[1].split("</table>")[0])
    assert "stricter us sku AC-200 – floor 99.00 109.00" in changes
    lines = page.split('id="text-diff"')[1]
    assert '<span class="add">+  - {sku: AC-200, scope: us, map: &#34;109.00&#34;}' in lines
    assert '<span class="del">-  - {sku: AC-200, scope: us, map: &#34;99.00&#34;}' in lines
    default = _as(setup, "bianca").get("/policy/diff").text  # the latest against the one before
    assert "From version 1 to version 2" in default


def test_it_names_a_version_that_does_not_exist(setup: tuple[Any, Any, Engine]) -> None:
    response = _as(setup, "bianca").get("/policy/diff?a=7&b=2")
    assert response.status_code == 400
    assert "Version a: “7” is not a published version (published: 1, 2)." in response.text


def test_it_explains_the_rule_as_the_cli_does(setup: tuple[Any, Any, Engine]) -> None:
    from policies import load_versions, resolve

    _app, _world, db = setup
    page = _as(setup, "carl").get("/policy/explain?sku=AC-100&partner=P1&at=2026-05-02T00:00").text
    with session_scope(db) as s:
        rule = resolve(load_versions(s), sku="AC-100", category="headphones", partner_code="P1", tier="A",
                       region="US", at=datetime(2026, 5, 2, 4, tzinfo=UTC))
    assert f'<code class="rule-ref">{rule.rule_ref}</code>' in page
    assert "199.00 USD" in page and f'href="/policy/versions/1#L{rule.rule_line}"' in page
    for step in rule.explanation:
        assert _text(step.text) in _text(page)
    later = _as(setup, "carl").get("/policy/explain?sku=AC-200&partner=P1&at=2026-06-02T00:00").text
    assert "v2 us sku AC-200" in later and "109.00 USD" in later


def test_it_answers_a_partner_outside_the_scope_as_unknown(setup: tuple[Any, Any, Engine]) -> None:
    dana = _as(setup, "dana")
    other = dana.get("/policy/explain?sku=AC-100&partner=P1")
    missing = dana.get("/policy/explain?sku=AC-100&partner=ZZ")
    assert other.status_code == missing.status_code == 400
    assert "No partner “P1” in your scope." in other.text and "No partner “ZZ” in your scope." in missing.text
    bad = dana.get("/policy/explain?sku=AC-100&partner=P2&at=yesterday")
    assert bad.status_code == 400 and "“yesterday” is not an instant" in bad.text


def test_it_refuses_a_partner_account_and_a_wrong_method(setup: tuple[Any, Any, Engine]) -> None:
    assert _as(setup, "soundhub").get("/policy").status_code == 403
    assert _as(setup, "bianca").post("/policy", data={"csrf_token": "token-of-bianca"}).status_code == 405
