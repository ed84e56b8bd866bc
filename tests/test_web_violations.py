"""The violations list: scope, filters in the URL, unknown values, search, sort, paging, bulk actions, exports."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import Engine, select
from web_world import as_user as _as

from detection.review import ViolationQuery, iter_violations, search_violations
from store import AuditLog, User, Violation, session_scope


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="ids" value="(\d+)"', html)]


def test_it_lists_what_the_user_may_see(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    every = set(world.violations.values())
    assert set(_ids(_as(setup, "bianca").get("/violations").text)) == every
    assert set(_ids(_as(setup, "carl").get("/violations").text)) == {world.violations["P1"]}
    assert set(_ids(_as(setup, "wang").get("/violations").text)) == {world.violations["P3"]}


def test_it_filters_on_the_server_from_the_url(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    client = _as(setup, "bianca")
    assert _ids(client.get("/violations?partner=P2").text) == [world.violations["P2"]]
    assert _ids(client.get("/violations?rule=unauthorised_seller").text) == [world.violations["seller"]]
    assert _ids(client.get("/violations?region=CN").text) == [world.violations["P3"]]
    assert _ids(client.get("/violations?tier=A&sku=AC-100").text) == [world.violations["P1"]]
    assert _ids(client.get("/violations?seller=zx-deals").text) == [world.violations["seller"]]
    assert sorted(_ids(client.get("/violations?partner=P1&partner=P2").text)) == sorted(
        [world.violations["P1"], world.violations["P2"]])
    assert _ids(client.get("/violations?seen_from=2026-05-04").text) == [world.violations["P1"]]
    assert _ids(client.get("/violations?seen_to=2026-04-30").text) == []
    assert _ids(client.get("/violations?q=shop+two").text) == [world.violations["P2"]]
    assert _ids(client.get("/violations?q=ZX-dea").text) == [world.violations["seller"]]  # part of a seller name
    assert _ids(client.get("/violations?status=resolved").text) == []


def test_it_lists_the_violations_whose_price_waits_and_the_overview_counts_them(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, db = setup
    with session_scope(db) as s:
        for key, state in (("P1", "pending"), ("P2", "disagreed"), ("P3", "agreed")):
            s.get(Violation, world.violations[key]).confirmation = state
    client = _as(setup, "bianca")
    waiting = "confirmation=pending&confirmation=disagreed&confirmation=failed"
    assert sorted(_ids(client.get(f"/violations?{waiting}").text)) == sorted(
        [world.violations["P1"], world.violations["P2"]])
    assert _ids(client.get("/violations?confirmation=agreed").text) == [world.violations["P3"]]
    assert re.search(r'<dd id="unconfirmed"><a href="[^"]*confirmation=pending[^"]*">2</a>',
                     client.get("/overview").text)
    # A channel manager counts only the violations of their partners.
    assert re.search(r'<dd id="unconfirmed"><a [^>]*>1</a>', _as(setup, "carl").get("/overview").text)


def test_it_says_which_filter_value_it_did_not_understand_and_ignores_it(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    page = _as(setup, "bianca").get("/violations?status=opne&partner=P9&seen_from=yesterday")
    assert page.status_code == 200
    assert "Filter status: “opne” is not known (allowed: open, acknowledged, resolved, dismissed)" in page.text
    assert "Filter partner: “P9” is not known" in page.text and "Filter seen_from: “yesterday”" in page.text
    assert set(_ids(page.text)) == set(world.violations.values())


def test_it_gives_a_channel_manager_no_hint_of_another_partner(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    page = _as(setup, "carl").get("/violations?partner=P2")
    assert "Filter partner: “P2” is not known" in page.text and _ids(page.text) == [world.violations["P1"]]
    assert "Shop Two" not in page.text


def test_it_sorts_and_pages(setup: tuple[Any, Any, Engine]) -> None:
    app, world, _db = setup
    client = _as(setup, "bianca")
    by_id = _ids(client.get("/violations?sort=id").text)
    assert by_id == sorted(world.violations.values())
    app.state.settings.web.page_size = 5  # the smallest page the settings allow
    first = client.get("/violations?sort=-gap")
    gaps = [float(g) for g in re.findall(r'class="num">([\d.]+) %</td>', first.text)]
    assert gaps == sorted(gaps, reverse=True)
    assert "Page 1 of 1." in first.text


def test_it_counts_matches_up_to_a_cap_and_pages_past_it(setup: tuple[Any, Any, Engine], monkeypatch: Any) -> None:
    _app, world, db = setup
    monkeypatch.setattr("detection.review.COUNT_CAP", 2)
    every = sorted(world.violations.values())
    assert len(every) > 2
    with session_scope(db) as s:
        bianca = s.scalars(select(User).where(User.username == "bianca")).one()
        first = search_violations(s, bianca, ViolationQuery(sort="id", per_page=1))
        assert ([v.id for v in first.rows], first.total, first.more) == ([every[0]], 2, True)
        last = search_violations(s, bianca, ViolationQuery(sort="id", per_page=1, page=len(every)))
        assert ([v.id for v in last.rows], last.total, last.more) == ([every[-1]], len(every), False)
        past = search_violations(s, bianca, ViolationQuery(sort="id", per_page=1, page=len(every) + 5))
        assert (past.query.page, [v.id for v in past.rows], past.total) == (len(every), [every[-1]], len(every))
        none = search_violations(s, bianca, ViolationQuery(status=("resolved",), page=3))
        assert (none.query.page, none.rows, none.total, none.more) == (1, [], 0, False)


def test_it_offers_the_partners_in_scope_with_the_chosen_one_selected(setup: tuple[Any, Any, Engine]) -> None:
    _app, _world, _db = setup
    offered = re.compile(r'<option value="(P\d)"( selected)?>')
    assert offered.findall(_as(setup, "bianca").get("/violations?partner=P2").text) == [
        ("P1", ""), ("P2", " selected"), ("P3", ""), ("P4", "")]
    assert offered.findall(_as(setup, "bianca").get("/violations").text) == [
        ("P1", ""), ("P2", ""), ("P3", ""), ("P4", "")]
    assert offered.findall(_as(setup, "carl").get("/violations").text) == [("P1", "")]


def test_it_sorts_by_partner_and_sku_page_by_page_with_those_without_last(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, db = setup
    with session_scope(db) as s:
        bianca = s.scalars(select(User).where(User.username == "bianca")).one()
        for sort in ("partner", "-partner", "sku", "-sku"):
            every = [v.id for v in iter_violations(s, bianca, ViolationQuery(sort=sort), 100)]  # one sorted query
            paged = [row.id for page in range(1, len(every) + 1)
                     for row in search_violations(s, bianca, ViolationQuery(sort=sort, per_page=1, page=page)).rows]
            assert paged == every, sort
            if sort.endswith("partner"):
                assert every[-1] == world.violations["seller"]  # no partner: last, either way


def test_it_acknowledges_in_bulk_and_audits_each(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, db = setup
    client = _as(setup, "bianca")
    chosen = [world.violations["P1"], world.violations["P2"]]
    done = client.post("/violations/bulk", data={"action": "acknowledge", "ids": chosen,
                                                 "csrf_token": "token-of-bianca", "back": "rule=below_map"})
    assert done.status_code == 303 and done.headers["location"] == "/violations?rule=below_map"
    assert "2 violations acknowledged." in client.get(done.headers["location"]).text
    again = client.post("/violations/bulk", data={"action": "acknowledge", "ids": chosen,
                                                  "csrf_token": "token-of-bianca"})
    assert "Left unchanged" in client.get(again.headers["location"]).text  # a double submit changes nothing
    with session_scope(db) as s:
        statuses = {v.id: v.status for v in s.scalars(select(Violation))}
        audits = [(a.actor, a.action, a.entity_id) for a in s.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert statuses[chosen[0]] == statuses[chosen[1]] == "acknowledged"
    assert ("bianca", "violation.acknowledged", str(chosen[0])) in audits
    assert sum(1 for a in audits if a[1] == "violation.acknowledged") == 2


def test_it_refuses_a_bulk_dismissal_without_a_reason(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, db = setup
    client = _as(setup, "bianca")
    response = client.post("/violations/bulk", data={"action": "dismiss", "ids": [world.violations["P1"]],
                                                     "reason": "  ", "csrf_token": "token-of-bianca"})
    assert "Dismissing needs a reason. Nothing was changed." in client.get(response.headers["location"]).text
    with session_scope(db) as s:
        assert s.get(Violation, world.violations["P1"]).status == "open"  # type: ignore[union-attr]


def test_it_skips_violations_outside_the_scope_in_bulk(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, db = setup
    client = _as(setup, "dana")  # manages P2 only
    client.post("/violations/bulk", data={"action": "dismiss", "reason": "test", "csrf_token": "token-of-dana",
                                          "ids": [world.violations["P1"], world.violations["P2"]]})
    with session_scope(db) as s:
        assert s.get(Violation, world.violations["P1"]).status == "open"  # type: ignore[union-attr]
        assert s.get(Violation, world.violations["P2"]).status == "dismissed"  # type: ignore[union-attr]


def test_it_exports_the_filtered_list_formula_safe(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, db = setup
    with session_scope(db) as s:
        s.get(Violation, world.violations["seller"]).seller_name = '=HYPERLINK("http://x","y")'  # type: ignore
    client = _as(setup, "bianca")
    comma = client.get("/violations/export.csv?rule=unauthorised_seller&rule=below_map")
    assert comma.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(comma.content.decode("utf-8-sig"))))
    assert {int(r["id"]) for r in rows} == {world.violations[k] for k in ("seller", "P1", "P2")}
    seller = next(r for r in rows if int(r["id"]) == world.violations["seller"])
    assert seller["seller_name"] == "'=HYPERLINK(\"http://x\",\"y\")"
    p1 = next(r for r in rows if int(r["id"]) == world.violations["P1"])
    assert p1["observed"] == "179.00" and p1["allowed"] == "199.00"
    semi = client.get("/violations/export.csv?sep=semicolon&partner=P1")
    lines = semi.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id;kind;rule") and ';"179,00";' in lines[1]  # quoted: a comma locale keeps it whole
    book = load_workbook(io.BytesIO(client.get("/violations/export.xlsx?rule=unauthorised_seller").content))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("seller_name") + 1)
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"  # text, never a formula
    assert sheet.cell(row=2, column=header.index("observed") + 1).data_type == "n"


def test_it_exports_only_what_a_channel_manager_may_see(setup: tuple[Any, Any, Engine]) -> None:
    _app, world, _db = setup
    rows = list(csv.DictReader(io.StringIO(_as(setup, "carl").get("/violations/export.csv").content
                                           .decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [world.violations["P1"]]


def test_it_ranks_severities_in_the_order_detection_gives_them() -> None:
    from detection.lifecycle import SEVERITIES
    from store.models import SEVERITY_RANK

    ranks = " ".join(f"WHEN '{name}' THEN {rank}" for rank, name in enumerate(SEVERITIES))
    assert f"(CASE severity {ranks} ELSE -1 END)" == SEVERITY_RANK  # the index and the sort share this text
