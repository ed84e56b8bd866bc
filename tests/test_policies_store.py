"""Publishing policy versions to the store and loading them back."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from policies import load_versions, publish_policy, publish_text, resolve
from pricewarden.errors import PolicyError
from pricewarden.settings import get_settings
from store import AuditLog, Partner, PolicyVersion, session_scope

DATA = Path(__file__).parent / "policies_data"
NO_MODE = """\
policy: CN default mode
effective_from: 2026-03-01T00:00
timezone: Asia/Shanghai
currency: CNY
scopes:
  - {name: cn, regions: [CN]}
rules:
  - {category: headphones, scope: cn, recommended: "1599.00"}
"""


def test_publish_stores_an_immutable_version_and_audit(db: Engine) -> None:
    text = (DATA / "base.yaml").read_text()
    now = datetime(2026, 2, 1, tzinfo=UTC)
    with session_scope(db) as s:
        result = publish_policy(s, DATA / "base.yaml", published_by="bianca", now=now)
    assert result.version == 1 and result.previous is None
    with session_scope(db) as s:
        row = s.scalars(select(PolicyVersion)).one()
        entry = s.scalars(select(AuditLog)).one()
    assert row.source_text == text
    assert row.source_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert row.effective_from == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert (row.timezone, row.published_by, row.published_at) == ("America/New_York", "bianca", now)
    assert row.scope_modes == {"us": "map", "eu": "recommended", "ca": "maximum", "mx": "observe"}
    assert (entry.actor, entry.action, entry.entity_id) == ("bianca", "policy.publish", "1")
    assert entry.after["sha256"] == row.source_sha256
    # Published in advance: no back-dating warning.
    assert not any("in the past" in w for w in result.warnings)


def test_versions_load_back_and_resolve(db: Engine) -> None:
    text = (DATA / "base.yaml").read_text()
    with session_scope(db) as s:
        publish_text(s, text, file="v1.yaml")
        second = publish_text(s, text.replace('map: "199.00"', 'map: "209.00"')
                              .replace("2026-03-01T00:00", "2026-06-01T00:00"), file="v2.yaml")
    assert second.version == 2 and second.previous is not None and second.previous.version == 1
    with session_scope(db) as s:
        versions = load_versions(s)
    assert [(v.version, v.policy.file) for v in versions] == [(1, "v1.yaml"), (2, "v2.yaml")]
    at = datetime(2026, 7, 1, tzinfo=UTC)
    resolved = resolve(versions, sku="AC-100", category=None, partner_code="P1", tier="C", region="US", at=at)
    assert (resolved.version, str(resolved.floor)) == (2, "209.00")


def test_identical_text_is_refused(db: Engine) -> None:
    text = (DATA / "base.yaml").read_text()
    with session_scope(db) as s:
        publish_text(s, text, file="a.yaml")
    with session_scope(db) as s, pytest.raises(PolicyError, match="identical to policy version 1"):
        publish_text(s, text, file="b.yaml")


def test_region_default_is_frozen_at_publication(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with session_scope(db) as s:
        result = publish_text(s, NO_MODE, file="cn.yaml")
    assert any("region default `recommended`" in w for w in result.warnings)
    # Counsel later changes the default for CN: the published version keeps its mode.
    monkeypatch.setenv("PRICEWARDEN_REGION_MODES", '{"CN": "observe"}')
    get_settings.cache_clear()
    with session_scope(db) as s:
        (version,) = load_versions(s)
    cn = version.policy.scope("cn")
    assert cn is not None and cn.mode == "recommended"


def test_warnings_for_unknown_partner_and_back_dating(db: Engine) -> None:
    with session_scope(db) as s:
        s.add(Partner(code="P001", name="SoundHub", tier="A", regions=["US"]))
    with session_scope(db) as s:
        result = publish_policy(s, DATA / "base.yaml", now=datetime(2026, 11, 23, tzinfo=UTC))
    assert any("in the past" in w for w in result.warnings)
    assert "exemption names partner P007, which is not in the catalog" in result.warnings


@pytest.mark.parametrize(("partner", "regions", "at", "expected"), [
    ("P-EU", ["EU"], datetime(2026, 5, 1, tzinfo=UTC), "EUR"),
    ("P-US", ["US"], datetime(2026, 5, 1, tzinfo=UTC), "USD"),
    ("P-CA", ["ca"], datetime(2026, 5, 1, tzinfo=UTC), "CAD"),
    ("P-2", ["EU", "US"], datetime(2026, 5, 1, tzinfo=UTC), None),  # two currencies: cannot say
    ("P-JP", ["JP"], datetime(2026, 5, 1, tzinfo=UTC), None),  # no scope
    ("P-US", ["US"], datetime(2026, 3, 1, 4, 59, 59, tzinfo=UTC), None),  # before the first version
    ("NOPE", None, datetime(2026, 5, 1, tzinfo=UTC), None),
])
def test_expected_currency(db: Engine, partner: str, regions: list[str] | None, at: datetime,
                           expected: str | None) -> None:
    from policies import expected_currency

    with session_scope(db) as s:
        if regions is not None:
            s.add(Partner(code=partner, name=partner, tier="B", regions=regions))
        publish_policy(s, DATA / "base.yaml")
    assert expected_currency("AC-100", partner, at) == expected


def test_expected_currency_sees_a_new_version_at_once(db: Engine) -> None:
    from policies import expected_currency

    text = (DATA / "base.yaml").read_text()
    at = datetime(2026, 7, 1, tzinfo=UTC)
    with session_scope(db) as s:
        s.add(Partner(code="P-EU", name="x", tier="B", regions=["EU"]))
        publish_text(s, text, file="v1.yaml")
    assert expected_currency("AC-100", "P-EU", at) == "EUR"
    with session_scope(db) as s:
        publish_text(s, text.replace("currency: EUR", "currency: CHF").replace("2026-03-01T00:00",
                                                                              "2026-06-01T00:00"), file="v2.yaml")
    assert expected_currency("AC-100", "P-EU", at) == "CHF"


def test_crlf_file_is_stored_byte_for_byte(db: Engine, tmp_path: Path) -> None:
    raw = (DATA / "base.yaml").read_bytes().replace(b"\n", b"\r\n")
    path = tmp_path / "windows.yaml"
    path.write_bytes(raw)
    with session_scope(db) as s:
        publish_policy(s, path)
    with session_scope(db) as s:
        row = s.scalars(select(PolicyVersion)).one()
    assert row.source_text.encode("utf-8") == raw
    assert row.source_sha256 == hashlib.sha256(raw).hexdigest()
