"""Cross-check of reported prices against web observations: the pure core and the store adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from crawlers.reports import Misreport, PricePoint, cross_check, find_misreports, import_rows
from pricewarden.keys import digest_key
from store import session_scope
from store.models import Observation, Partner, Product

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _p(i: int, price: str, hours: float = 0, *, partner: int = 1, product: int = 1, currency: str = "USD",
       source: str = "crawl") -> PricePoint:
    return PricePoint(i, partner, product, T0 + timedelta(hours=hours), Decimal(price), currency, source)


CASES = [
    # (reported, web points, window h, tolerance %, expected (reported id, web id, diff %) or None)
    ("reported higher than the web", _p(1, "199.00", source="partner_report"), [_p(10, "179.00", 2)],
     48, 1.0, (1, 10, "11.17")),
    ("reported lower than the web", _p(1, "90.00", source="partner_report"), [_p(10, "100.00", -5)],
     48, 1.0, (1, 10, "-10.00")),
    ("within tolerance", _p(1, "100.50", source="partner_report"), [_p(10, "100.00", 1)], 48, 1.0, None),
    ("outside the window", _p(1, "199.00", source="partner_report"), [_p(10, "150.00", 49)], 48, 1.0, None),
    ("nearest in time wins", _p(1, "199.00", source="partner_report"),
     [_p(10, "150.00", -30), _p(11, "199.00", 3), _p(12, "120.00", 20)], 48, 1.0, None),
    ("nearest differs", _p(1, "199.00", source="partner_report"),
     [_p(10, "199.00", -30), _p(11, "150.00", -1)], 48, 1.0, (1, 11, "32.67")),
    ("other partner's web price ignored", _p(1, "199.00", source="partner_report"),
     [_p(10, "150.00", 1, partner=2)], 48, 1.0, None),
    ("other currency ignored", _p(1, "199.00", source="partner_report"),
     [_p(10, "150.00", 1, currency="EUR")], 48, 1.0, None),
    ("feed prices are reports too", _p(1, "199.00", source="feed"), [_p(10, "150.00", 1)], 48, 1.0,
     (1, 10, "32.67")),
]


@pytest.mark.parametrize(("case", "report", "web", "window", "tolerance", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_find_misreports(case: str, report: PricePoint, web: list[PricePoint], window: float, tolerance: float,
                         expected: tuple[int, int, str] | None) -> None:
    found = find_misreports([report], web, window_hours=window, tolerance_pct=tolerance)
    if expected is None:
        assert found == []
    else:
        assert [(m.reported_observation_id, m.web_observation_id, str(m.diff_pct)) for m in found] == [expected]
        assert found[0].source == report.source


def test_cross_check_store_adapter(db: Engine) -> None:
    with session_scope(db) as s:
        s.add_all([Product(sku="AC-100"), Partner(code="P001", name="One")])
    import_rows([{"sku": "AC-100", "price": "199.00", "currency": "USD", "date": "2026-11-20T12:00:00Z"}], "P001",
                now=T0)
    with session_scope(db) as s:
        report = s.query(Observation).one()
        web = Observation(obs_key=digest_key("w1"), source="crawl", product_id=report.product_id,
                          partner_id=report.partner_id,
                          observed_at=T0 + timedelta(hours=3), price=Decimal("169.00"), currency="USD")
        far = Observation(obs_key=digest_key("w2"), source="crawl", product_id=report.product_id,
                          partner_id=report.partner_id,
                          observed_at=T0 + timedelta(hours=100), price=Decimal("99.00"), currency="USD")
        s.add_all([web, far])
        s.flush()
        ids = (report.id, web.id)
    with session_scope(db) as s:
        found = cross_check(s)  # defaults: 48 h window, 1 % tolerance from settings
        assert [(m.reported_observation_id, m.web_observation_id) for m in found] == [ids]
        assert isinstance(found[0], Misreport) and found[0].diff_pct == Decimal("17.75")
        assert cross_check(s, tolerance_pct=20.0) == []
        assert cross_check(s, window_hours=1) == []


@pytest.mark.parametrize(("reported", "channel", "flagged"), [
    ("99.00", "/p002/p/ac-120", False),          # the own-site price it reported: true
    ("99.00", "http://shop.example/p002/p/ac-120/", False),
    ("108.99", "/p002/p/ac-120", True),          # its marketplace price, reported for its own shop
    ("99.00", None, True),                       # no channel named: the nearest page in time decides
])
def test_a_report_is_checked_against_the_channel_it_names(reported: str, channel: str | None, flagged: bool) -> None:
    own = PricePoint(1, 1, 1, T0 + timedelta(seconds=2), Decimal("99.00"), "USD",
                     channel="http://shop.example/p002/p/ac-120")
    market = PricePoint(2, 1, 1, T0 + timedelta(seconds=1), Decimal("108.99"), "USD",
                        channel="http://market.example/dp/B0D01535C1")
    report = PricePoint(3, 1, 1, T0, Decimal(reported), "USD", "partner_report", channel=channel)
    found = find_misreports([report], [own, market], window_hours=24, tolerance_pct=1)
    assert bool(found) is flagged


def test_a_named_page_from_another_day_does_not_override_the_nearest_observation() -> None:
    # The partner's own page failed on the report's day; it was read the next day at a new price.
    market = PricePoint(1, 1, 1, T0 + timedelta(hours=1), Decimal("1098.99"), "USD",
                        channel="http://market.example/dp/B04A200B69")
    own_next_day = PricePoint(2, 1, 1, T0 + timedelta(hours=25), Decimal("1208.99"), "USD",
                              channel="http://shop.example/p001/products/ac-170")
    report = PricePoint(3, 1, 1, T0, Decimal("1098.99"), "USD", "partner_report", channel="/p001/products/ac-170")
    assert find_misreports([report], [market, own_next_day], window_hours=48, tolerance_pct=1) == []
