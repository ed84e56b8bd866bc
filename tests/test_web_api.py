"""The /api/v1 JSON API over a real world (tests/web_world.py): tokens, reports, policy, violations,
webhooks to a real receiver, rate limits, problem documents, and schemathesis over the served
OpenAPI document. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from web_world import make_app

from pricewarden.keys import digest_key
from store import AlertDelivery, ApiToken, AuditLog, Observation, ReportBatch, Violation, session_scope, utcnow
from web.api.tokens import create_token

PROBLEM = "application/problem+json"


@pytest.fixture
def api(db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("PRICEWARDEN_API__RATE_LIMIT_PER_MINUTE", "100000")
    app, world = make_app(db, tmp_path / "ws")
    tokens: dict[str, str] = {}
    with session_scope(db) as s:
        specs = {
            "p1": {"partner": "P1", "scopes": ["reports:write", "violations:read", "policy:read"]},
            "p2": {"partner": "P2", "scopes": ["reports:write", "violations:read", "policy:read"]},
            "p4": {"partner": "P4", "scopes": ["violations:read", "policy:read"]},
            "brand": {"user": "bianca", "scopes": ["violations:read", "violations:write"]},
            "carl": {"user": "carl", "scopes": ["violations:read", "violations:write"]},
            "brand_read": {"user": "bianca", "scopes": ["violations:read"]},
            "erp": {"user": "bianca", "scopes": ["reports:write"]},
            "carl_erp": {"user": "carl", "scopes": ["reports:write"]},
        }
        for name, spec in specs.items():
            _row, tokens[name] = create_token(s, name=f"test {name}", created_by="admin", **spec)

    class Api:
        pass

    out = Api()
    out.app, out.world, out.db, out.tokens = app, world, db, tokens  # type: ignore[attr-defined]
    out.client = TestClient(app, raise_server_exceptions=False)  # type: ignore[attr-defined]
    return out


def auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"]
    return dict(body)


DAY = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d")
ROWS = [
    {"sku": "AC-100", "price": "199.00", "currency": "USD", "date": f"{DAY}T10:00:00Z",
     "channel": "http://127.0.0.1:9/p1/ac-100"},
    {"sku": "NOPE-1", "price": "10.00", "currency": "USD", "date": f"{DAY}T10:00:00Z"},
    {"sku": "AC-200", "price": "abc", "currency": "USD", "date": f"{DAY}T10:00:00Z"},
]


@pytest.mark.parametrize("status", ["suspended", "terminated"])
def test_it_refuses_the_token_of_a_suspended_or_terminated_partner_and_audits_it(api: Any, status: str) -> None:
    from store import Partner

    token = api.tokens["p1"]
    assert api.client.get("/api/v1/policy", headers=auth(token)).status_code == 200
    with session_scope(api.db) as s:
        s.execute(update(Partner).where(Partner.code == "P1").values(status=status))
    for method, path in (("GET", "/api/v1/policy"), ("GET", "/api/v1/violations"), ("POST", "/api/v1/reports")):
        refused = _problem(api.client.request(method, path, headers=auth(token), json=ROWS[:1]), 403)
        assert refused["partner"] == "P1" and refused["partner_status"] == status and status in refused["detail"]
    assert api.client.get("/api/v1/policy", headers=auth(api.tokens["p2"])).status_code == 200  # others go on
    with session_scope(api.db) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 0
        entries = s.scalars(select(AuditLog).where(AuditLog.action == "api_token.refused").order_by(AuditLog.id)).all()
        assert [(e.after["partner"], e.after["status"], e.after["path"]) for e in entries] == [
            ("P1", status, "/api/v1/policy"), ("P1", status, "/api/v1/violations"), ("P1", status, "/api/v1/reports")]
        assert entries[0].actor.startswith("api:") and entries[0].actor[4:] in token
        s.execute(update(Partner).where(Partner.code == "P1").values(status="authorised"))
    assert api.client.get("/api/v1/policy", headers=auth(token)).status_code == 200  # reinstated


@pytest.mark.parametrize("status", ["suspended", "terminated"])
def test_it_refuses_an_integrations_report_for_a_suspended_or_terminated_partner_and_audits_it(
        api: Any, status: str) -> None:
    from store import Partner

    token = api.tokens["erp"]
    with session_scope(api.db) as s:
        s.execute(update(Partner).where(Partner.code == "P1").values(status=status))
        token_id = s.scalars(select(ApiToken.id).where(ApiToken.name == "test erp")).one()
    refused = _problem(api.client.post("/api/v1/reports?partner=P1", headers=auth(token), json=ROWS[:1]), 403)
    assert refused["partner"] == "P1" and refused["partner_status"] == status and status in refused["detail"]
    assert api.client.post("/api/v1/reports?partner=P2", headers=auth(token), json=ROWS[:1]).status_code == 201
    with session_scope(api.db) as s:
        batches = s.scalars(select(ReportBatch)).all()
        assert [b.partner.code for b in batches] == ["P2"]  # nothing stored for P1
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "api_token.refused")).one()
        assert (entry.entity_id, entry.after["partner"], entry.after["status"], entry.after["path"]) == (
            str(token_id), "P1", status, "/api/v1/reports")
        assert entry.actor.startswith("api:") and entry.actor[4:] in token


def test_it_stores_only_the_hash_of_a_token_and_audits_its_life(api: Any) -> None:
    token = api.tokens["p1"]
    with session_scope(api.db) as s:
        row = s.scalars(select(ApiToken).where(ApiToken.name == "test p1")).one()
        assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        stored = json.dumps([getattr(row, c.name) for c in ApiToken.__table__.columns], default=str)
        assert token.split("_", 2)[2] not in stored
        assert row.first_used_at is None
        token_id = row.id
    assert api.client.get("/api/v1/policy", headers=auth(token)).status_code == 200
    from web.api.tokens import revoke_token

    with session_scope(api.db) as s:
        row = s.get(ApiToken, token_id)
        assert row.first_used_at is not None and row.last_used_at is not None
        revoke_token(s, token_id, by="admin")
    response = api.client.get("/api/v1/policy", headers=auth(token))
    _problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    with session_scope(api.db) as s:
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.entity_type == "api_token",
                                                               AuditLog.entity_id == str(token_id))
                                 .order_by(AuditLog.id)))
    assert actions == ["api_token.created", "api_token.first_used", "api_token.revoked"]


def test_it_refuses_no_token_a_forged_one_and_a_session_cookie(api: Any) -> None:
    _problem(api.client.get("/api/v1/violations"), 401)
    forged = api.tokens["p1"][:-4] + "AAAA"
    _problem(api.client.get("/api/v1/violations", headers=auth(forged)), 401)
    _problem(api.client.get("/api/v1/violations", headers=auth("not-a-token")), 401)
    _problem(api.client.get("/api/v1/no-such-route", headers=auth(api.tokens["p1"])), 404)
    _problem(api.client.put("/api/v1/policy", headers=auth(api.tokens["p1"])), 405)


def test_it_imports_a_json_report_and_answers_a_retry_with_the_same_receipt(api: Any) -> None:
    headers = auth(api.tokens["p1"], **{"Idempotency-Key": "batch-2026-05-02"})
    first = api.client.post("/api/v1/reports", json=ROWS, headers=headers)
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["rows_accepted"] == 1, receipt["rejections"]
    assert (receipt["partner"], receipt["rows_total"], receipt["rows_accepted"], receipt["rows_rejected"]) == \
        ("P1", 3, 1, 2)
    reasons = {r["row"]: (r["column"], r["reason"]) for r in receipt["rejections"]}
    assert reasons[3][0] == "sku" and "NOPE-1" in reasons[3][1]
    assert reasons[4][0] == "price"
    again = api.client.post("/api/v1/reports", json=ROWS, headers=headers)
    assert again.status_code == 201 and again.json() == receipt
    assert again.headers["idempotent-replayed"] == "true"
    other = api.client.post("/api/v1/reports", json=ROWS[:1], headers=headers)
    assert "another body" in _problem(other, 422)["detail"]
    # Without a key, the same rows again change nothing either: the importer knows the batch.
    plain = api.client.post("/api/v1/reports", json=ROWS, headers=auth(api.tokens["p1"]))
    assert plain.status_code == 200 and plain.json()["duplicate"] is True and plain.json()["id"] == receipt["id"]
    with session_scope(api.db) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 1
        reported = select(func.count()).select_from(Observation).where(Observation.source == "partner_report")
        assert s.scalar(reported) == 1
        actor = s.scalar(select(ReportBatch.submitted_by))
    assert actor.startswith("partner P1 (API token ")
    own = api.client.get(f"/api/v1/reports/{receipt['id']}", headers=auth(api.tokens["p1"]))
    assert own.status_code == 200 and own.json()["rows_rejected"] == 2 and len(own.json()["rejections"]) == 2
    _problem(api.client.get(f"/api/v1/reports/{receipt['id']}", headers=auth(api.tokens["p2"])), 404)


def test_it_lets_a_brand_integration_send_a_named_partners_report_and_keeps_partner_tokens_to_their_own(
        api: Any) -> None:
    erp = auth(api.tokens["erp"], **{"Idempotency-Key": "erp-1"})
    sent = api.client.post("/api/v1/reports?partner=P2", json=ROWS[:1], headers=erp)
    assert sent.status_code == 201, sent.text
    receipt = sent.json()
    assert (receipt["partner"], receipt["rows_accepted"]) == ("P2", 1)
    # The same key and body for another partner is another request, not a replay of P2's.
    assert "another body" in _problem(api.client.post("/api/v1/reports?partner=P1", json=ROWS[:1], headers=erp),
                                      422)["detail"]
    assert "partner=CODE" in _problem(api.client.post("/api/v1/reports", json=ROWS[:1],
                                                      headers=auth(api.tokens["erp"])), 422)["detail"]
    _problem(api.client.post("/api/v1/reports?partner=NOPE", json=ROWS[:1], headers=auth(api.tokens["erp"])), 404)
    _problem(api.client.post("/api/v1/reports?partner=bad%20code", json=ROWS[:1], headers=auth(api.tokens["erp"])),
             422)
    # carl manages P1 only: his ERP token cannot report for P2, nor read P2's receipt.
    _problem(api.client.post("/api/v1/reports?partner=P2", json=ROWS[:1], headers=auth(api.tokens["carl_erp"])), 404)
    _problem(api.client.get(f"/api/v1/reports/{receipt['id']}", headers=auth(api.tokens["carl_erp"])), 404)
    read = api.client.get(f"/api/v1/reports/{receipt['id']}", headers=auth(api.tokens["erp"]))
    assert read.status_code == 200 and read.json()["partner"] == "P2"
    # A partner token names only its own partner.
    other = _problem(api.client.post("/api/v1/reports?partner=P2", json=ROWS[:1], headers=auth(api.tokens["p1"])),
                     403)
    assert other["partner"] == "P2" and "own partner" in other["detail"]
    own = api.client.post("/api/v1/reports?partner=P1", json=ROWS[:1], headers=auth(api.tokens["p1"]))
    assert own.status_code == 201 and own.json()["partner"] == "P1"
    with session_scope(api.db) as s:
        batches = {b.partner.code: b.submitted_by for b in s.scalars(select(ReportBatch))}
        imported = s.scalars(select(AuditLog).where(AuditLog.action == "report.import",
                                                    AuditLog.entity_id == str(receipt["id"]))).one()
    assert set(batches) == {"P1", "P2"}
    prefix = api.tokens["erp"].split("_")[1]
    assert batches["P2"] == imported.actor == f"bianca (API token {prefix})"


def test_it_imports_an_uploaded_csv_and_refuses_bad_bodies(api: Any) -> None:
    csv = f"sku,price,currency,date\nAC-100,189.00,USD,{DAY}\nAC-200,,USD,{DAY}\n"
    response = api.client.post("/api/v1/reports", headers=auth(api.tokens["p2"]),
                               files={"file": ("prices.csv", csv.encode(), "text/csv")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["partner"], body["format"], body["rows_accepted"], body["rows_rejected"]) == ("P2", "csv", 1, 1)
    assert body["rejections"][0]["column"] == "price"
    _problem(api.client.post("/api/v1/reports", content=b"{nope", headers=auth(api.tokens["p2"], **{
        "Content-Type": "application/json"})), 400)
    _problem(api.client.post("/api/v1/reports", json={"rows": "x"}, headers=auth(api.tokens["p2"])), 422)
    _problem(api.client.post("/api/v1/reports", content=b"x", headers=auth(api.tokens["p2"], **{
        "Content-Type": "text/plain"})), 415)
    big = b"[" + b" " * ((1 << 20) + 10) + b"]"
    api.app.state.settings.api.max_upload_mb = 1
    _problem(api.client.post("/api/v1/reports", content=big, headers=auth(api.tokens["p2"], **{
        "Content-Type": "application/json"})), 413)
    # A brand integration without reports:write cannot send reports; a partner token lacking the scope neither.
    _problem(api.client.post("/api/v1/reports", json=ROWS, headers=auth(api.tokens["brand"])), 403)
    _problem(api.client.post("/api/v1/reports", json=ROWS, headers=auth(api.tokens["p4"])), 403)


def test_it_imports_an_uploaded_xlsx(api: Any, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["sku", "price", "currency", "date"])
    sheet.append(["AC-100", "201.50", "USD", DAY])
    sheet.append(["AC-100", "-3", "USD", DAY])
    book.save(tmp_path / "prices.xlsx")
    response = api.client.post("/api/v1/reports", headers=auth(api.tokens["p1"]), files={
        "file": ("prices.xlsx", (tmp_path / "prices.xlsx").read_bytes(),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["format"], body["rows_accepted"], body["rows_rejected"]) == ("xlsx", 1, 1)
    assert body["rejections"][0]["row"] == 3 and body["rejections"][0]["column"] == "price"


def test_it_answers_409_while_a_request_with_the_same_key_runs(api: Any) -> None:
    from store import ApiIdempotency

    body = json.dumps(ROWS).encode()
    with session_scope(api.db) as s:
        token_id = s.scalars(select(ApiToken.id).where(ApiToken.name == "test p1")).one()
        digest = hashlib.sha256(b"application/json\n" + body).hexdigest()
        s.add(ApiIdempotency(token_id=token_id, key="in-flight", request_sha256=digest))
    response = api.client.post("/api/v1/reports", content=body, headers=auth(
        api.tokens["p1"], **{"Idempotency-Key": "in-flight", "Content-Type": "application/json"}))
    assert "still running" in _problem(response, 409)["detail"]
    assert response.headers["retry-after"] == "1"
    with session_scope(api.db) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 0
    _problem(api.client.post("/api/v1/reports", content=body, headers=auth(
        api.tokens["p1"], **{"Idempotency-Key": "bad key with spaces", "Content-Type": "application/json"})), 400)
    # A claim left by a request that died long ago is taken over: the retry is imported once.
    with session_scope(api.db) as s:
        s.execute(update(ApiIdempotency).values(created_at=utcnow() - timedelta(minutes=16)))
    retried = api.client.post("/api/v1/reports", content=body, headers=auth(
        api.tokens["p1"], **{"Idempotency-Key": "in-flight", "Content-Type": "application/json"}))
    assert retried.status_code == 201, retried.text
    with session_scope(api.db) as s:
        assert s.scalar(select(func.count()).select_from(ReportBatch)) == 1


def test_it_serves_the_prices_in_force_for_the_partner(api: Any) -> None:
    body = api.client.get("/api/v1/policy", headers=auth(api.tokens["p1"])).json()
    # The web world's v2 (AC-200's MAP up) is in force from June 2026: today it is the one in force.
    assert body["partner"] == "P1" and body["version"] == 2 and len(body["sha256"]) == 64
    items = {(i["sku"], i["region"]): i for i in body["items"]}
    assert set(items) == {("AC-100", "US"), ("AC-200", "US")}
    assert items["AC-100", "US"]["mode"] == "map"
    assert items["AC-100", "US"]["minimum_advertised_price"] == "199.00"
    assert items["AC-200", "US"]["minimum_advertised_price"] == "109.00"
    assert "unilateral" in items["AC-100", "US"]["wording"]
    euro = api.client.get("/api/v1/policy", headers=auth(api.tokens["p4"])).json()
    assert [(i["sku"], i["mode"], i["recommended_price"]) for i in euro["items"]] == [
        ("AC-100", "recommended", "229.00")]
    assert "information only" in euro["items"][0]["wording"]
    _problem(api.client.get("/api/v1/policy", headers=auth(api.tokens["brand"])), 403)
    _problem(api.client.get("/api/v1/policy?at=2026-05-02T00:00", headers=auth(api.tokens["p1"])), 422)


def _all_ids(api: Any, token: str, limit: int) -> list[int]:
    ids: list[int] = []
    cursor = None
    for _ in range(50):
        url = f"/api/v1/violations?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = api.client.get(url, headers=auth(token)).json()
        if not page["items"]:
            return ids
        ids += [v["id"] for v in page["items"]]
        cursor = page["next_cursor"]
    raise AssertionError("the cursor never ended")


def test_it_pages_violations_by_cursor_within_each_tokens_scope(api: Any) -> None:
    world = api.world
    with session_scope(api.db) as s:
        every = sorted(s.scalars(select(Violation.id)))
    brand = _all_ids(api, api.tokens["brand"], 1)
    assert sorted(brand) == every and len(brand) == len(set(brand))
    partner = _all_ids(api, api.tokens["p1"], 2)
    with session_scope(api.db) as s:
        p1 = sorted(s.scalars(select(Violation.id).where(Violation.partner_id == world.partners["P1"])))
    assert sorted(partner) == p1 and world.violations["P1"] in partner
    # P4's finding is a deviation in a recommended scope: never shown to the partner.
    assert _all_ids(api, api.tokens["p4"], 10) == []
    # A channel manager's integration sees that manager's partners only.
    carl = _all_ids(api, api.tokens["carl"], 10)
    assert world.violations["P1"] in carl and world.violations["P2"] not in carl
    _problem(api.client.get("/api/v1/violations?cursor=garbage", headers=auth(api.tokens["brand"])), 422)
    later = (utcnow() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert api.client.get(f"/api/v1/violations?since={later}", headers=auth(api.tokens["brand"])).json()["items"] == []


def test_it_shows_a_violation_with_checked_evidence_and_hides_others(api: Any) -> None:
    vid = api.world.violations["P1"]
    detail = api.client.get(f"/api/v1/violations/{vid}", headers=auth(api.tokens["p1"])).json()
    assert detail["partner"] == "P1" and detail["status_reason"] is None
    links = {e["kind"]: e for e in detail["evidence"]}
    assert set(links) == {"screenshot", "html"}
    shot = api.client.get(links["screenshot"]["href"], headers=auth(api.tokens["p1"]))
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/png"
    assert hashlib.sha256(shot.content).hexdigest() == links["screenshot"]["sha256"] == api.world.screenshot_sha
    _problem(api.client.get(f"/api/v1/violations/{vid}", headers=auth(api.tokens["p2"])), 404)
    _problem(api.client.get(f"/api/v1/violations/{vid}/evidence/html", headers=auth(api.tokens["p2"])), 404)
    _problem(api.client.get(f"/api/v1/violations/{api.world.violations['P4']}", headers=auth(api.tokens["p4"])), 404)
    _problem(api.client.get("/api/v1/violations/999999", headers=auth(api.tokens["brand"])), 404)


def test_it_acts_on_violations_through_the_lifecycle_audited_with_the_owner(api: Any) -> None:
    vid = api.world.violations["P1"]
    _problem(api.client.post(f"/api/v1/violations/{vid}/acknowledge", headers=auth(api.tokens["p1"])), 403)
    _problem(api.client.post(f"/api/v1/violations/{vid}/acknowledge", headers=auth(api.tokens["brand_read"])), 403)
    _problem(api.client.post(f"/api/v1/violations/{api.world.violations['P2']}/acknowledge",
                             headers=auth(api.tokens["carl"])), 404)
    done = api.client.post(f"/api/v1/violations/{vid}/acknowledge", headers=auth(api.tokens["carl"]))
    assert done.status_code == 200 and done.json()["status"] == "acknowledged"
    _problem(api.client.post(f"/api/v1/violations/{vid}/acknowledge", headers=auth(api.tokens["carl"])), 409)
    _problem(api.client.post(f"/api/v1/violations/{vid}/dismiss", json={}, headers=auth(api.tokens["carl"])), 422)
    resolved = api.client.post(f"/api/v1/violations/{vid}/resolve", json={"reason": "price fixed"},
                               headers=auth(api.tokens["carl"]))
    assert resolved.json()["status"] == "resolved" and resolved.json()["status_reason"] == "price fixed"
    with session_scope(api.db) as s:
        entries = list(s.execute(select(AuditLog.action, AuditLog.actor, AuditLog.reason).where(
            AuditLog.entity_type == "violation", AuditLog.entity_id == str(vid)).order_by(AuditLog.id)))
    assert [(a, who) for a, who, _ in entries] == [("violation.acknowledged", "carl"), ("violation.resolved", "carl")]
    assert entries[0][2].startswith("via API token ")


def test_it_limits_each_token_and_answers_429_with_retry_after(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.api import _deps

    monkeypatch.setattr(_deps.time, "time", lambda: 1_800_000_015.0)  # 45 s before the window ends
    api.app.state.settings.api.rate_limit_per_minute = 3
    statuses = [api.client.get("/api/v1/policy", headers=auth(api.tokens["p1"])).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    response = api.client.get("/api/v1/policy", headers=auth(api.tokens["p1"]))
    _problem(response, 429)
    assert response.headers["retry-after"] == "45"
    # Another token has its own window.
    assert api.client.get("/api/v1/policy", headers=auth(api.tokens["p2"])).status_code == 200


def test_it_shares_the_rate_limit_between_two_app_processes_over_one_database(
        api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pricewarden.settings import Settings
    from web.api import _deps
    from web.app import create_app

    monkeypatch.setattr(_deps.time, "time", lambda: 1_800_000_010.0)  # 10 s into a minute, for every request

    api.app.state.settings.api.rate_limit_per_minute = 4
    settings = Settings(workspace=tmp_path / "ws", evidence_url=str(tmp_path / "ws" / "evidence"))
    settings.api.rate_limit_per_minute = 4
    other = TestClient(create_app(settings, engine=api.db), raise_server_exceptions=False)
    statuses = []
    for index in range(6):
        client = api.client if index % 2 == 0 else other
        statuses.append(client.get("/api/v1/violations?limit=1", headers=auth(api.tokens["brand"])).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
    monkeypatch.setattr(_deps.time, "time", lambda: 1_800_000_070.0)  # the next minute: a fresh window
    assert other.get("/api/v1/violations?limit=1", headers=auth(api.tokens["brand"])).status_code == 200


class _Receiver:
    """A real HTTP webhook receiver on 127.0.0.1 that records each request (and fails the first N)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                failing = len(receiver.got) <= receiver.fail_first
                self.send_response(503 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pricewarden"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def test_it_delivers_signed_webhooks_through_the_outbox_with_retries(api: Any) -> None:
    from alerts import deliver_due
    from alerts.webhooks import verify

    receiver = _Receiver(fail_first=1)
    try:
        made = api.client.post("/api/v1/webhooks", json={"url": receiver.url, "events": [
            "violation.acknowledged", "violation.resolved"]}, headers=auth(api.tokens["carl"]))
        assert made.status_code == 201, made.text
        secret = made.json()["secret"]
        listed = api.client.get("/api/v1/webhooks", headers=auth(api.tokens["carl"])).json()
        assert [h["id"] for h in listed] == [made.json()["id"]] and "secret" not in listed[0]
        partner_hook = api.client.post("/api/v1/webhooks", json={"url": receiver.url},
                                       headers=auth(api.tokens["p2"]))
        assert partner_hook.status_code == 201
        vid = api.world.violations["P1"]
        api.client.post(f"/api/v1/violations/{vid}/acknowledge", headers=auth(api.tokens["carl"]))
        now = utcnow()
        with session_scope(api.db) as s:
            first = deliver_due(s, now)
        assert len(first.retrying) == 1 and first.sent == []  # the receiver answered 503 once
        with session_scope(api.db) as s:
            second = deliver_due(s, now + timedelta(hours=2))
        assert len(second.sent) == 1
        assert len(receiver.got) == 2
        (h1, b1), (h2, b2) = receiver.got
        assert b1 == b2 and h1["x-pricewarden-key"] == h2["x-pricewarden-key"]
        event = json.loads(b2)
        assert (event["type"], event["violation"]["id"], event["actor"]) == ("violation.acknowledged", vid, "carl")
        assert verify(secret, h2["x-pricewarden-timestamp"], b2, h2["x-pricewarden-signature"])
        assert verify_signature(secret, h2, b2) and not verify_signature(secret, h2, b2.replace(b"carl", b"dana"))
        assert not verify(secret, h2["x-pricewarden-timestamp"], b2 + b" ", h2["x-pricewarden-signature"])
        assert not verify("whsec_other", h2["x-pricewarden-timestamp"], b2, h2["x-pricewarden-signature"])
        # P2's hook heard nothing about P1's violation; nothing is queued twice on the next pass.
        with session_scope(api.db) as s:
            deliver_due(s, now + timedelta(hours=3))
            rows = list(s.scalars(select(AlertDelivery).where(AlertDelivery.kind == "webhook")))
        assert len(rows) == 1 and rows[0].status == "sent"
        gone = api.client.delete(f"/api/v1/webhooks/{made.json()['id']}", headers=auth(api.tokens["carl"]))
        assert gone.status_code == 204
        _problem(api.client.delete(f"/api/v1/webhooks/{partner_hook.json()['id']}",
                                   headers=auth(api.tokens["carl"])), 404)
    finally:
        receiver.close()


def test_it_sends_opened_and_resolved_events_made_by_detection_and_people(api: Any) -> None:
    from decimal import Decimal

    from web_world import T0

    from alerts import deliver_due
    from detection.run import detect
    from store import Listing

    receiver = _Receiver()
    try:
        made = api.client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=auth(api.tokens["brand"]))
        secret = made.json()["secret"]
        p1 = api.world.violations["P1"]
        api.client.post(f"/api/v1/violations/{p1}/resolve", headers=auth(api.tokens["brand"]))
        with session_scope(api.db) as s:
            listing = s.scalars(select(Listing).where(Listing.url == "http://127.0.0.1:9/p1/ac-100")).one()
            at = T0 + timedelta(days=6)
            s.add(Observation(obs_key=digest_key("again"), source="crawl", listing_id=listing.id,
                              product_id=listing.product_id, partner_id=listing.partner_id, url=listing.url,
                              observed_at=at, price=Decimal("150.00"), currency="USD", raw_text="$150.00",
                              method="structured", confidence=0.99))
            s.flush()
            detect(s, anomalies=False)
        with session_scope(api.db) as s:
            report = deliver_due(s, utcnow())
        assert report.failed == [] and report.retrying == []
        events = [json.loads(body) for _headers, body in receiver.got]
        kinds = [(e["type"], e["violation"]["partner"]) for e in events]
        assert ("violation.resolved", "P1") in kinds and ("violation.opened", "P1") in kinds
        opened = next(e for e in events if e["type"] == "violation.opened")
        assert opened["violation"]["id"] != p1 and opened["violation"]["status"] == "open"
        for headers, body in receiver.got:
            assert verify_signature(secret, headers, body)
    finally:
        receiver.close()


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's recipe exactly as docs/api.md prints it."""
    from test_web_api_docs import blocks

    namespace: dict[str, Any] = {}
    exec(blocks("python")[0], namespace)
    return bool(namespace["verify"](secret, headers, body))


def test_it_queues_escalations_for_the_brand_and_keeps_partners_to_their_own(api: Any) -> None:
    from alerts.webhooks import queue_webhook_events

    hooks = {}
    for name in ("brand", "p1", "p2", "p4"):
        made = api.client.post("/api/v1/webhooks", json={"url": f"https://hooks.example.com/{name}"},
                               headers=auth(api.tokens[name]))
        hooks[made.json()["id"]] = name
    p1, p4 = api.world.violations["P1"], api.world.violations["P4"]
    api.client.post(f"/api/v1/violations/{p4}/dismiss", json={"reason": "deviation noted"},
                    headers=auth(api.tokens["brand"]))
    api.client.post(f"/api/v1/violations/{p1}/acknowledge", json={"reason": "calling them"},
                    headers=auth(api.tokens["brand"]))
    with session_scope(api.db) as s:
        # What escalate_due queues when an alert outlives its SLA: one row per manager brought in.
        for user in ("bianca", "admin"):
            s.add(AlertDelivery(idempotency_key=hashlib.sha256(user.encode()).hexdigest(), kind="escalation",
                                violation_id=p1, recipient_label=user, escalation_step="warning",
                                status="sent"))
        s.flush()
        assert queue_webhook_events(s) == 4
        assert queue_webhook_events(s) == 0  # nothing twice
        rows = [(hooks[r.webhook_id], json.loads(r.body_text)) for r in s.scalars(
            select(AlertDelivery).where(AlertDelivery.kind == "webhook").order_by(AlertDelivery.id))]
    heard = sorted((name, e["type"], e["violation"]["id"]) for name, e in rows)
    assert heard == sorted([("brand", "violation.dismissed", p4), ("brand", "violation.acknowledged", p1),
                            ("brand", "violation.escalated", p1), ("p1", "violation.acknowledged", p1)])
    partner_event = next(e for name, e in rows if name == "p1")
    assert partner_event["actor"] == "brand" and partner_event["reason"] is None
    brand_event = next(e for name, e in rows if name == "brand" and e["type"] == "violation.acknowledged")
    assert brand_event["actor"] == "bianca" and brand_event["reason"] == "calling them"


def test_it_refuses_a_webhook_url_the_network_policy_refuses(api: Any) -> None:
    for url in ("http://169.254.169.254/latest/meta-data", "file:///etc/passwd", "http://10.0.0.5/hook"):
        detail = _problem(api.client.post("/api/v1/webhooks", json={"url": url}, headers=auth(api.tokens["brand"])),
                          422)["detail"]
        assert "network policy" in detail


def test_it_serves_an_openapi_document_of_every_api_route(api: Any) -> None:
    document = api.client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    assert {"/api/v1/reports", "/api/v1/reports/{report_id}", "/api/v1/policy", "/api/v1/violations",
            "/api/v1/violations/{violation_id}", "/api/v1/violations/{violation_id}/acknowledge",
            "/api/v1/webhooks"} <= paths
    assert all(p.startswith("/api/v1/") for p in paths)


def _fuzz(operation: Any, token: str, failures: list[str]) -> None:
    """Run ``operation`` with bounded generated requests under ``token``; collect server errors and schema breaks."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
              response_schema_conformance]

    @settings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        try:
            case.validate_response(response, checks=checks)
        except Exception as exc:  # a server error or a schema break: collect every one
            failures.append(f"{operation.label} -> {response.status_code}: {str(exc)[:400]}")

    run()


def test_it_answers_every_generated_request_within_the_schema(api: Any) -> None:
    """schemathesis over the served document, with a brand integration's token and a partner's: no server
    error, every answer's status, media type, headers and body as documented."""
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    for token in (api.tokens["brand"], api.tokens["p1"]):
        for operation in operations:
            _fuzz(operation, token, failures)
    assert failures == []
