"""Every state change a user or a token can make, made through the real app, and its entry in the audit log.

The state-changing routes (POST, PUT, PATCH, DELETE) are read from the app's route table: each must have a row in
AUDITED (the audit actions it writes, each walked below) or in EXEMPT (why it writes none, checked below), so a new
route without an audit entry fails the suite. The walk checks each entry's actor (a user, or the token by its public
prefix), action, target and status before and after, and that no secret (token, password, webhook secret, a
password or token in a URL) is anywhere in the log. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from portal_world import Shop, make_portal_app, product_page, serve_shop
from sqlalchemy import Engine, func, select, update
from starlette.routing import Mount
from web_world import cookie_for, csrf_of, password

from store import ApiToken, AuditLog, Base, Partner, Violation, session_scope, utcnow
from web.app import all_routes
from web.security import COOKIE, SAFE_METHODS

# "METHOD path" -> the audit actions its state changes write (the walk makes each one at least once).
AUDITED: dict[str, tuple[str, ...]] = {
    "POST /login": ("login.refused",),  # a partner account of a suspended partner; see EXEMPT_WHEN_SIGNED_IN
    "POST /violations/{violation_id}/acknowledge": ("violation.acknowledged",),
    "POST /violations/{violation_id}/dismiss": ("violation.dismissed",),
    "POST /violations/{violation_id}/resolve": ("violation.resolved",),
    "POST /violations/{violation_id}/reopen": ("violation.reopened",),
    "POST /violations/{violation_id}/assign": ("violation.assigned",),
    "POST /violations/{violation_id}/snooze": ("violation.snoozed", "violation.unsnoozed"),
    "POST /violations/{violation_id}/confirm": ("violation.confirm",),
    "POST /violations/{violation_id}/notice": ("alerts.notice_queued", "alerts.notice_refused"),
    "POST /violations/bulk": ("violation.acknowledged", "violation.dismissed"),
    "POST /undecided/{observation_id}/pick": ("undecided.pick",),
    "POST /undecided/{observation_id}/dismiss": ("undecided.dismiss",),
    "POST /portal/violations/{violation_id}/respond": ("violation.partner_corrected", "violation.partner_dispute",
                                                       "violation.recrawled"),
    "POST /portal/reports": ("report.import",),
    "POST /portal/policy/acknowledge": ("policy.acknowledged",),
    "POST /portal/complaints": ("complaint.filed", "complaint.checked"),
    "POST /tokens": ("api_token.created",),
    "POST /tokens/{token_id}/revoke": ("api_token.revoked",),
    "POST /portal/tokens": ("api_token.created",),
    "POST /portal/tokens/{token_id}/revoke": ("api_token.revoked",),
    "POST /api/v1/reports": ("report.import", "api_token.first_used", "api_token.refused"),
    "POST /api/v1/violations/{violation_id}/acknowledge": ("violation.acknowledged", "api_token.first_used"),
    "POST /api/v1/violations/{violation_id}/dismiss": ("violation.dismissed",),
    "POST /api/v1/violations/{violation_id}/resolve": ("violation.resolved",),
    "POST /api/v1/webhooks": ("webhook.created",),
    "DELETE /api/v1/webhooks/{webhook_id}": ("webhook.deleted",),
}
# State-changing routes that write no audit entry, and why; the walk checks that each changes nothing stored (but the
# record named).
EXEMPT: dict[str, str] = {
    "POST /logout": "ends the session, which lives only in its signed cookie: nothing stored changes",
    "POST /locale": "the session's language, kept in its cookie: nothing stored changes",
}
# A sign-in (right or wrong password) is recorded in login_attempts, with who, when, from where and whether it
# succeeded (what the throttling counts): no audit entry besides it.
SIGN_IN_RECORD = "login_attempts"


def state_changing_routes(app: Any) -> list[str]:
    """Every route of ``app`` that is not a safe method, as ``METHOD path`` (a route kind unknown here: ``? path``)."""
    found = []
    for path, route in all_routes(app.routes):
        if isinstance(route, APIRoute):
            found.extend(f"{method} {path}" for method in sorted(route.methods - SAFE_METHODS))
        elif not isinstance(route, Mount):
            found.append(f"? {path}")
    return sorted(found)


@dataclass
class Entry:
    """An audit entry the walk expects: ``before`` and ``after`` name keys the row must hold with these values (an
    empty ``before``: the row's is empty, as for what is made; ``None``: not checked)."""

    actor: str
    action: str
    entity_type: str
    entity_id: object
    before: dict[str, Any] | None = None
    after: dict[str, Any] = field(default_factory=dict)


class Walk:
    """Makes each change through the app and compares the audit entries it wrote with those expected."""

    def __init__(self, app: Any, db: Engine) -> None:
        self.app, self.db = app, db
        self.walked: set[tuple[str, str]] = set()
        self.wrong: list[str] = []

    def _last(self) -> int:
        with session_scope(self.db) as s:
            return int(s.scalar(select(func.coalesce(func.max(AuditLog.id), 0))) or 0)

    def counts(self) -> dict[str, int]:
        with session_scope(self.db) as s:
            return {t.name: int(s.scalar(select(func.count()).select_from(t)) or 0)
                    for t in Base.metadata.sorted_tables}

    def step(self, key: str, send: Callable[[], Any], status: int, *wanted: Entry | Callable[[Any], Entry],
             jobs: bool = False) -> Any:
        """Run ``send`` (a request to route ``key``), wait for the jobs it queued when ``jobs``; then the answer must
        be ``status`` and the new audit entries exactly those ``wanted`` (an entry, or a function of the answer that
        gives it, for ids the answer tells)."""
        mark = self._last()
        response = send()
        if jobs:
            self.app.state.jobs.join()
        if response.status_code != status:
            self.wrong.append(f"{key}: answered {response.status_code}, expected {status}: {response.text[:200]}")
            return response
        expected = [e if isinstance(e, Entry) else e(response) for e in wanted]
        with session_scope(self.db) as s:
            rows = [(r.actor, r.action, r.entity_type, r.entity_id, dict(r.before or {}), dict(r.after or {}))
                    for r in s.scalars(select(AuditLog).where(AuditLog.id > mark).order_by(AuditLog.id))]
        if sorted(r[1] for r in rows) != sorted(e.action for e in expected):
            self.wrong.append(f"{key}: wrote {[r[1] for r in rows]}, expected {[e.action for e in expected]}")
            return response
        for e in expected:
            match = [r for r in rows if r[1] == e.action and r[3] == str(e.entity_id)]
            if not match:
                self.wrong.append(f"{key}: no {e.action} entry for {e.entity_type} {e.entity_id}: {rows}")
                continue
            actor, _action, kind, _id, before, after = match[0]
            if (actor, kind) != (e.actor, e.entity_type):
                self.wrong.append(f"{key} {e.action}: by {actor} on {kind}, expected {e.actor} on {e.entity_type}")
            if e.before is not None and (before if not e.before else {k: before.get(k) for k in e.before}) != e.before:
                self.wrong.append(f"{key} {e.action}: before {before}, expected {e.before}")
            if {k: after.get(k) for k in e.after} != e.after:
                self.wrong.append(f"{key} {e.action}: after {after}, expected {e.after}")
            self.walked.add((key, e.action))
        return response

    def quiet(self, key: str, send: Callable[[], Any], status: int, *, grows: str | None = None) -> Any:
        """Run ``send``: it must answer ``status``, write no audit entry and change no table (but one row more in
        ``grows``)."""
        before = self.counts()
        response = send()
        after = self.counts()
        if response.status_code != status:
            self.wrong.append(f"{key}: answered {response.status_code}, expected {status}")
        expected = {**before, **({grows: before[grows] + 1} if grows else {})}
        changed = {t: (before[t], after[t]) for t in after if after[t] != expected[t]}
        if changed:
            self.wrong.append(f"{key}: changed {changed} (rows before, after)")
        self.walked.add((key, "quiet"))
        return response


@pytest.fixture
def shop() -> Iterator[Shop]:
    yield from serve_shop()


@pytest.fixture
def world(db: Engine, shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, Engine, Shop]]:
    monkeypatch.setenv("PRICEWARDEN_API__RATE_LIMIT_PER_MINUTE", "100000")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__RETRIES", "0")
    app, portal = make_portal_app(db, shop)
    yield app, portal, db, shop
    if getattr(app.state, "jobs", None) is not None:
        app.state.jobs.shutdown()


def test_it_has_an_audit_row_or_a_stated_exemption_for_every_state_changing_route(
        world: tuple[Any, Any, Engine, Shop]) -> None:
    app = world[0]
    routes = state_changing_routes(app)
    assert len(routes) >= 28
    assert not set(AUDITED) & set(EXEMPT)
    known = set(AUDITED) | set(EXEMPT)
    assert routes == sorted(known), (
        "a route that changes state needs its audit actions in AUDITED (and a step in the walk) or a reason in EXEMPT: "
        f"missing {sorted(set(routes) - known)}, gone {sorted(known - set(routes))}")


def _client(app: Any, db: Engine, name: str | None = None) -> TestClient:
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    if name is not None:
        client.cookies.set(COOKIE, cookie_for(app, db, name))
    return client


def _form(who: str, **fields: Any) -> dict[str, Any]:
    return {**fields, "csrf_token": f"token-of-{who}"}


def _setup(app: Any, portal: Any, db: Engine, shop: Shop) -> dict[str, Any]:
    """What the walk needs beyond the world: a second undecided page (P2's), P1's violation waiting for a person's
    confirmation, a policy version sent to the partners for acknowledgement, and a deal page for a complaint."""
    from web_world import POLICY, _undecided

    from policies import publish_text
    from store import EvidenceStore, Listing, Observation
    from web.portal.policy import distribute_policy

    web = portal.web
    with session_scope(db) as s:
        listing = s.get(Listing, portal.listings["p2"])
        assert listing is not None
        second = _undecided(s, EvidenceStore.from_settings(), listing, web.screenshot_sha)
        s.flush()
        undecided_p2 = second.id
        first = s.get(Observation, web.undecided["P1"])
        assert first is not None and first.html_sha256
        v = s.get(Violation, web.violations["P1"])
        assert v is not None
        v.confirmation = "disagreed"
        version = publish_text(s, POLICY.replace('map: "199.00"', 'map: "189.00"'), file="policy-v3.yaml").version
        distribute_policy(s, version, actor="bianca")
    shop.pages["/deals/ac-100"] = product_page("Acme AC-100 headphones", "AC-100", "150.00")
    return {"undecided_p2": undecided_p2, "version": version}


def _candidate(db: Engine, observation_id: int, raw: str) -> str:
    from store import Observation

    with session_scope(db) as s:
        obs = s.get(Observation, observation_id)
        assert obs is not None
        return str(next(i for i, c in enumerate(obs.details["undecided"]["candidates"]) if c["rawText"] == raw))


TOKEN = re.compile(r"pwt_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}")


def _shown(response: Any) -> tuple[str, str]:
    """The token a page shows once, and its prefix."""
    found = TOKEN.search(response.text)
    assert found is not None, response.text[:300]
    return found.group(0), found.group(1)


def _last_part(response: Any) -> int:
    """The id at the end of a redirect's location (``/portal/complaints/7``)."""
    return int(response.headers["location"].rsplit("/", 1)[1])


def _token_id(db: Engine, prefix: str) -> int:
    with session_scope(db) as s:
        return int(s.scalars(select(ApiToken.id).where(ApiToken.prefix == prefix)).one())


def test_it_audits_every_state_change_with_who_what_and_the_status_before_and_after(
        world: tuple[Any, Any, Engine, Shop]) -> None:
    app, portal, db, shop = world
    web = portal.web
    extra = _setup(app, portal, db, shop)
    walk = Walk(app, db)
    step, quiet = walk.step, walk.quiet
    users = web.users
    p1, p2, p3, p4, seller = (web.violations[k] for k in ("P1", "P2", "P3", "P4", "seller"))
    carl, bianca, admin, soundhub = (_client(app, db, n) for n in ("carl", "bianca", "admin", "soundhub"))
    secrets: list[str] = [password(n) for n in ("soundhub", "bianca")]

    # Sign-in, sign-out, language: the session's cookie; a sign-in's record is login_attempts.
    fresh = _client(app, db)
    token = csrf_of(fresh.get("/login").text)
    quiet("POST /login", lambda: fresh.post("/login", data={"username": "bianca", "password": password("bianca"),
                                                            "csrf_token": token}), 303, grows=SIGN_IN_RECORD)
    wrong = _client(app, db)
    wrong_token = csrf_of(wrong.get("/login").text)
    quiet("POST /login", lambda: wrong.post("/login", data={"username": "bianca", "password": "not-hers",
                                                            "csrf_token": wrong_token}), 401, grows=SIGN_IN_RECORD)
    quiet("POST /locale", lambda: bianca.post("/locale", data=_form("bianca", locale="zh_Hans", next="/")), 303)
    quiet("POST /logout", lambda: _client(app, db, "bianca").post("/logout", data=_form("bianca")), 303)

    # A violation's life on the review app (P1, carl's partner, a map scope).
    path = f"/violations/{p1}"
    step("POST /violations/{violation_id}/acknowledge", lambda: carl.post(f"{path}/acknowledge", data=_form("carl")),
         303, Entry("carl", "violation.acknowledged", "violation", p1, {"status": "open"}, {"status": "acknowledged"}))
    step("POST /violations/{violation_id}/acknowledge", lambda: carl.post(f"{path}/acknowledge", data=_form("carl")),
         409)  # a double submit: nothing changes, nothing is written
    step("POST /violations/{violation_id}/assign", lambda: carl.post(f"{path}/assign", data=_form(
        "carl", assignee="carl")), 303, Entry("carl", "violation.assigned", "violation", p1, {"assignee_id": None},
                                            {"assignee_id": users["carl"], "assignee": "carl"}))
    step("POST /violations/{violation_id}/snooze", lambda: carl.post(f"{path}/snooze", data=_form(
        "carl", days="3", reason="partner on holiday")), 303,
         Entry("carl", "violation.snoozed", "violation", p1, {"snoozed_until": None}))
    step("POST /violations/{violation_id}/snooze", lambda: carl.post(f"{path}/snooze", data=_form("carl", days="0")),
         303, Entry("carl", "violation.unsnoozed", "violation", p1, after={"snoozed_until": None}))
    step("POST /violations/{violation_id}/confirm", lambda: carl.post(f"{path}/confirm", data=_form(
        "carl", reason="seen on the page")), 303, Entry("carl", "violation.confirm", "violation", p1,
                                                        {"confirmation": "disagreed"}, {"confirmation": "confirmed"}))
    step("POST /violations/{violation_id}/notice", lambda: carl.post(f"{path}/notice", data=_form("carl")), 303,
         Entry("carl", "alerts.notice_queued", "violation", p1, after={"partner": "P1"}))
    step("POST /violations/{violation_id}/notice", lambda: bianca.post(f"/violations/{p4}/notice", data=_form(
        "bianca")), 409, Entry("bianca", "alerts.notice_refused", "violation", p4, after={"mode": "recommended"}))
    step("POST /violations/{violation_id}/resolve", lambda: carl.post(f"{path}/resolve", data=_form("carl")), 303,
         Entry("carl", "violation.resolved", "violation", p1, {"status": "acknowledged"}, {"status": "resolved"}))
    step("POST /violations/{violation_id}/reopen", lambda: carl.post(f"{path}/reopen", data=_form(
        "carl", reason="back again")), 303,
         Entry("carl", "violation.reopened", "violation", p1, {"status": "resolved"}, {"status": "open"}))
    step("POST /violations/{violation_id}/dismiss", lambda: carl.post(f"{path}/dismiss", data=_form(
        "carl", reason="a reseller's test page")), 303,
         Entry("carl", "violation.dismissed", "violation", p1, {"status": "open"}, {"status": "dismissed"}))
    step("POST /violations/{violation_id}/dismiss", lambda: _client(app, db, "dana").post(
        f"{path}/dismiss", data=_form("dana", reason="not mine")), 404)  # outside dana's partners: nothing written

    # Bulk acknowledge and dismiss (P4's deviation and the unauthorised seller's violation), one entry per violation.
    step("POST /violations/bulk", lambda: bianca.post("/violations/bulk", data=_form(
        "bianca", action="acknowledge", ids=[p4, seller])), 303,
         *(Entry("bianca", "violation.acknowledged", "violation", v, {"status": "open"}, {"status": "acknowledged"})
           for v in (p4, seller)))
    step("POST /violations/bulk", lambda: bianca.post("/violations/bulk", data=_form(
        "bianca", action="dismiss", reason="checked by hand", ids=[p4, seller])), 303,
         *(Entry("bianca", "violation.dismissed", "violation", v, {"status": "acknowledged"}, {"status": "dismissed"})
           for v in (p4, seller)))

    # The undecided queue: a pick writes a rule of the site; a dismissal writes none.
    oid = web.undecided["P1"]
    step("POST /undecided/{observation_id}/pick", lambda: carl.post(f"/undecided/{oid}/pick", data=_form(
        "carl", candidate=_candidate(db, oid, "$89.00"))), 303,
         Entry("carl", "undecided.pick", "observation", oid, {"review": None}, {"price": "89.00", "by": "carl"}))
    other = extra["undecided_p2"]
    step("POST /undecided/{observation_id}/dismiss", lambda: bianca.post(f"/undecided/{other}/dismiss", data=_form(
        "bianca", reason="neither is the price")), 303,
         Entry("bianca", "undecided.dismiss", "observation", other, {"review": None}, {"review": "dismissed"}))

    # Tokens made and revoked by an admin; the brand's integration acts through the API as bianca.
    made = step("POST /tokens", lambda: admin.post("/tokens", data=_form(
        "admin", name="erp", owner="user:bianca", scope=["violations:read", "violations:write"])), 200,
        lambda r: Entry("admin", "api_token.created", "api_token", _token_id(db, _shown(r)[1]), {},
                        {"prefix": _shown(r)[1], "user": "bianca", "kind": "integration"}))
    brand, brand_prefix = _shown(made)
    brand_id = _token_id(db, brand_prefix)
    secrets.append(brand)
    api = TestClient(app, raise_server_exceptions=False)
    bearer = {"Authorization": f"Bearer {brand}"}
    as_token = f"bianca (API token {brand_prefix})"
    step("POST /api/v1/violations/{violation_id}/acknowledge", lambda: api.post(
        f"/api/v1/violations/{p3}/acknowledge", headers=bearer), 200,
         Entry(f"api:{brand_prefix}", "api_token.first_used", "api_token", brand_id),
         Entry("bianca", "violation.acknowledged", "violation", p3, {"status": "open"},
               {"status": "acknowledged", "api_token": brand_prefix}))
    step("POST /api/v1/violations/{violation_id}/dismiss", lambda: api.post(
        f"/api/v1/violations/{p3}/dismiss", headers=bearer, json={"reason": "a listing error"}), 200,
         Entry("bianca", "violation.dismissed", "violation", p3, {"status": "acknowledged"},
               {"status": "dismissed", "api_token": brand_prefix}))
    step("POST /violations/{violation_id}/reopen", lambda: bianca.post(f"/violations/{p3}/reopen", data=_form(
        "bianca", reason="it was not an error")), 303,
         Entry("bianca", "violation.reopened", "violation", p3, {"status": "dismissed"}, {"status": "open"}))
    step("POST /api/v1/violations/{violation_id}/resolve", lambda: api.post(
        f"/api/v1/violations/{p3}/resolve", headers=bearer), 200,
         Entry("bianca", "violation.resolved", "violation", p3, {"status": "open"},
               {"status": "resolved", "api_token": brand_prefix}))
    step("POST /api/v1/violations/{violation_id}/resolve", lambda: api.post(
        f"/api/v1/violations/{p3}/resolve", headers=bearer), 409)

    # A webhook whose URL carries a password and a key: the log shows neither, nor the signing secret.
    hook_url = "https://hookuser:hookpass-7Qx@hooks.example.com/pricewarden?key=hookkey-9Zt"
    secrets += ["hookpass-7Qx", "hookkey-9Zt"]
    hook = step("POST /api/v1/webhooks", lambda: api.post("/api/v1/webhooks", headers=bearer, json={"url": hook_url}),
                201, lambda r: Entry(as_token, "webhook.created", "webhook", r.json()["id"], {}, {
                    "url": "https://hookuser:***@hooks.example.com/pricewarden?key=***"}))
    hook_id = hook.json()["id"]
    secrets.append(hook.json()["secret"])
    step("DELETE /api/v1/webhooks/{webhook_id}", lambda: api.delete(f"/api/v1/webhooks/{hook_id}", headers=bearer),
         204, Entry(as_token, "webhook.deleted", "webhook", hook_id, {"active": True}, {"active": False}))
    step("DELETE /api/v1/webhooks/{webhook_id}", lambda: api.delete(f"/api/v1/webhooks/{hook_id}", headers=bearer),
         404)
    step("POST /tokens/{token_id}/revoke", lambda: admin.post(f"/tokens/{brand_id}/revoke", data=_form("admin")), 303,
         Entry("admin", "api_token.revoked", "api_token", brand_id, {"revoked": False},
               {"revoked": True, "prefix": brand_prefix}))

    # The partner portal (soundhub, P1's account; twohub, P2's): responses, reports, policy, complaints, tokens.
    twohub = _client(app, db, "twohub")
    step("POST /portal/violations/{violation_id}/respond", lambda: twohub.post(f"/portal/violations/{p2}/respond",
                                                                              data=_form("twohub", action="corrected")),
         303, Entry("twohub", "violation.partner_corrected", "violation", p2, after={"action": "corrected"}),
         Entry("pricewarden", "violation.recrawled", "violation", p2, {"status": "running"}), jobs=True)
    step("POST /portal/violations/{violation_id}/respond", lambda: twohub.post(
        f"/portal/violations/{p2}/respond", data=_form("twohub", action="dispute", comment="our price is 199")), 303,
         Entry("twohub", "violation.partner_dispute", "violation", p2, after={"action": "dispute"}),
         Entry("pricewarden", "violation.recrawled", "violation", p2, {"status": "running"}), jobs=True)
    day = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d")
    report = f"sku,price,currency,date\nAC-100,199.00,USD,{day}\nNOPE,1,USD,{day}\n".encode()
    step("POST /portal/reports", lambda: soundhub.post("/portal/reports", data=_form("soundhub"), files={
        "report": ("prices.csv", report, "text/csv")}), 303,
         lambda r: Entry("soundhub", "report.import", "report_batch", _last_part(r), {},
                         {"partner": "P1", "accepted": 1, "rejected": 1}))
    step("POST /portal/reports", lambda: soundhub.post("/portal/reports", data=_form("soundhub"), files={
        "report": ("prices.csv", report, "text/csv")}), 303)  # the same file again: nothing imported, nothing written
    version = extra["version"]
    step("POST /portal/policy/acknowledge", lambda: soundhub.post("/portal/policy/acknowledge", data=_form(
        "soundhub", version=str(version))), 303,
         Entry("soundhub", "policy.acknowledged", "policy_version", version, {"acknowledged": False},
               {"acknowledged": True, "partner": "P1"}))
    step("POST /portal/policy/acknowledge", lambda: soundhub.post("/portal/policy/acknowledge", data=_form(
        "soundhub", version=str(version))), 303)  # acknowledged already: nothing written
    deal = shop.url("/deals/ac-100").replace("http://", "http://shopper:complaintpass-4Kd@") + "?session=sess-8Lw"
    secrets += ["complaintpass-4Kd", "sess-8Lw"]
    shown = {"url": "http://shopper:***@" + shop.base.removeprefix("http://") + "/deals/ac-100?session=***"}
    step("POST /portal/complaints", lambda: soundhub.post("/portal/complaints", data=_form(
        "soundhub", url=deal, comment="undercuts everyone")), 303,
         lambda r: Entry("soundhub", "complaint.filed", "complaint", _last_part(r), {}, {"status": "queued", **shown}),
         lambda r: Entry("pricewarden", "complaint.checked", "complaint", _last_part(r), {"status": "running"},
                         {"status": "done"}), jobs=True)
    made = step("POST /portal/tokens", lambda: soundhub.post("/portal/tokens", data=_form(
        "soundhub", name="shop system", scope=["reports:write"])), 200,
        lambda r: Entry("soundhub", "api_token.created", "api_token", _token_id(db, _shown(r)[1]), {},
                        {"prefix": _shown(r)[1], "partner": "P1", "kind": "partner"}))
    partner, partner_prefix = _shown(made)
    partner_id = _token_id(db, partner_prefix)
    secrets.append(partner)
    step("POST /portal/tokens/{token_id}/revoke", lambda: soundhub.post(f"/portal/tokens/{brand_id}/revoke",
                                                                        data=_form("soundhub")), 404)  # not its own
    p_bearer = {"Authorization": f"Bearer {partner}"}
    rows = [{"sku": "AC-200", "price": "99.00", "currency": "USD", "date": day}]
    step("POST /api/v1/reports", lambda: api.post("/api/v1/reports", headers=p_bearer, json=rows), 201,
         Entry(f"api:{partner_prefix}", "api_token.first_used", "api_token", partner_id),
         lambda r: Entry(f"partner P1 (API token {partner_prefix})", "report.import", "report_batch", r.json()["id"],
                         {}, {"partner": "P1", "accepted": 1}))

    # P1 suspended: its sign-in and its token are refused, each refusal audited; then reinstated.
    with session_scope(db) as s:
        s.execute(update(Partner).where(Partner.code == "P1").values(status="suspended"))
    fresh = _client(app, db)
    token = csrf_of(fresh.get("/login").text)
    step("POST /login", lambda: fresh.post("/login", data={"username": "soundhub", "password": password("soundhub"),
                                                           "csrf_token": token}), 403,
         Entry("soundhub", "login.refused", "user", users["soundhub"], after={"partner": "P1", "status": "suspended"}))
    step("POST /api/v1/reports", lambda: api.post("/api/v1/reports", headers=p_bearer, json=rows), 403,
         Entry(f"api:{partner_prefix}", "api_token.refused", "api_token", partner_id,
               after={"partner": "P1", "status": "suspended"}))
    with session_scope(db) as s:
        s.execute(update(Partner).where(Partner.code == "P1").values(status="authorised"))
    step("POST /portal/tokens/{token_id}/revoke", lambda: soundhub.post(f"/portal/tokens/{partner_id}/revoke",
                                                                        data=_form("soundhub")), 303,
         Entry("soundhub", "api_token.revoked", "api_token", partner_id, {"revoked": False}, {"revoked": True}))

    assert walk.wrong == [], "\n".join(walk.wrong)
    wanted = {(key, action) for key, actions in AUDITED.items() for action in actions}
    assert wanted - walk.walked == set(), "every audit action of AUDITED is made and checked by the walk"
    assert {key for key, action in walk.walked if action == "quiet"} >= set(EXEMPT)

    # No secret anywhere in the log: not in an actor, a detail or a reason.
    with session_scope(db) as s:
        text = "\n".join(f"{a.actor} {a.action} {a.entity_type} {a.entity_id} {a.before} {a.after} {a.reason}"
                         for a in s.scalars(select(AuditLog)))
    assert brand_prefix in text and partner_prefix in text  # the tokens are named, by their public prefix
    assert [secret for secret in secrets if secret in text] == []
    assert [t.split("_", 2)[2] for t in (brand, partner) if t.split("_", 2)[2] in text] == []
