"""The partner portal: scope (own partner only, never a recommended or observe scope), responses with their
re-crawl, price reports through the importer, policy distribution and acknowledgement, complaints.

Crawls run for real: a shop on 127.0.0.1 serves the pages, each crawl in a process of its own.
Runs on SQLite and PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from portal_world import Shop, add_portal_objects, make_portal_app, product_page, serve_shop
from sqlalchemy import Engine, select, update
from web_world import POLICY, cookie_for, png

from store import (
    AlertDelivery,
    AuditLog,
    Complaint,
    Observation,
    Partner,
    PartnerResponse,
    PolicyReceipt,
    session_scope,
)
from web.security import COOKIE

pytest_plugins = ["test_alerts_support"]  # the webhook receiver


@pytest.fixture
def shop() -> Iterator[Shop]:
    yield from serve_shop()


@pytest.fixture
def setup(db: Engine, shop: Shop) -> Iterator[tuple[Any, Any, Engine, Shop]]:
    app, world = make_portal_app(db, shop)
    yield app, world, db, shop
    if getattr(app.state, "jobs", None) is not None:
        app.state.jobs.shutdown()


def _client(app: Any, db: Engine, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(COOKIE, cookie_for(app, db, name))
    return client


def _form(name: str, **data: Any) -> dict[str, Any]:
    return {**data, "csrf_token": f"token-of-{name}"}


# Scope ------------------------------------------------------------------------------------------


def test_it_shows_a_partner_its_own_listings_and_violations_only(setup: tuple[Any, ...]) -> None:
    app, world, db, shop = setup
    home = _client(app, db, "soundhub").get("/portal")
    assert home.status_code == 200
    vid = world.web.violations["P1"]
    assert shop.url("/p1/ac-100") in home.text and f'href="/portal/violations/{vid}"' in home.text
    assert "/p2/ac-100" not in home.text and "Shop Two" not in home.text and "zx-deals" not in home.text
    # P4's only finding is a deviation in a recommended scope: the brand's own analysis, never shown.
    euro = _client(app, db, "eurohub")
    euro_home = euro.get("/portal").text
    assert "No violations." in euro_home and "/p4/ac-100" not in euro_home  # not even "we watch your price"
    assert euro.get(f"/portal/violations/{world.web.violations['P4']}").status_code == 404
    assert euro.get(f"/portal/listings/{world.listings['p4']}").status_code == 404
    assert euro.get(f"/portal/observations/{world.observations['p4']}/archive").status_code == 404


def test_it_answers_404_to_another_partner_for_every_object(setup: tuple[Any, ...]) -> None:
    app, world, db, _shop = setup
    add_portal_objects(app, db, world)
    two = _client(app, db, "twohub")
    vid = world.web.violations["P1"]
    for path in (f"/portal/violations/{vid}", f"/portal/violations/{vid}/screenshot",
                 f"/portal/violations/{vid}/archive",
                 f"/portal/listings/{world.listings['p1']}", f"/portal/observations/{world.observations['p1']}/archive",
                 f"/portal/observations/{world.observations['p1']}/screenshot",
                 f"/portal/reports/{world.ids['batch_id']}", f"/portal/reports/{world.ids['batch_id']}/receipt.csv",
                 f"/portal/complaints/{world.ids['complaint_id']}",
                 f"/portal/responses/{world.ids['response_id']}/screenshot"):
        assert two.get(path).status_code == 404, path
    answer = two.post(f"/portal/violations/{vid}/respond", data=_form("twohub", action="corrected"))
    assert answer.status_code == 404
    with session_scope(db) as s:
        assert len(s.scalars(select(PartnerResponse)).all()) == 1  # only the world's own


def test_it_serves_the_partners_evidence_sandboxed(setup: tuple[Any, ...]) -> None:
    app, world, db, _shop = setup
    client = _client(app, db, "soundhub")
    archive = client.get(f"/portal/observations/{world.observations['p1']}/archive")
    assert archive.status_code == 200 and "sandbox" in archive.headers["content-security-policy"]
    shot = client.get(f"/portal/violations/{world.web.violations['P1']}/screenshot")
    assert shot.status_code == 200 and shot.content.startswith(b"\x89PNG")


def test_it_refuses_a_partner_account_tied_to_no_partner_at_sign_in(setup: tuple[Any, ...]) -> None:
    from web_world import sign_in

    app, _world, _db, _shop = setup
    client = TestClient(app, follow_redirects=False)
    response = sign_in(client, "nopartner")
    assert response.status_code == 403 and "not tied to a partner" in response.text
    ok = sign_in(TestClient(app, follow_redirects=False), "soundhub")
    assert ok.status_code == 303 and ok.headers["location"] == "/portal"


@pytest.mark.parametrize(("status", "says"), [("suspended", "is suspended"), ("terminated", "has ended")])
def test_it_refuses_the_session_and_sign_in_of_a_suspended_or_terminated_partner(setup: tuple[Any, ...],
                                                                                 status: str, says: str) -> None:
    from sqlalchemy import update
    from web_world import sign_in

    app, _world, db, _shop = setup
    client = _client(app, db, "soundhub")
    assert client.get("/portal").status_code == 200
    with session_scope(db) as s:
        s.execute(update(Partner).where(Partner.code == "P1").values(status=status))
    for path in ("/portal", "/portal/policy", "/portal/tokens"):
        refused = client.get(path)
        assert refused.status_code == 403 and says in refused.text, path
    assert _client(app, db, "twohub").get("/portal").status_code == 200  # another partner goes on
    login = sign_in(TestClient(app, follow_redirects=False), "soundhub")
    assert login.status_code == 403 and says in login.text and "set-cookie" not in login.headers
    with session_scope(db) as s:
        entries = s.scalars(select(AuditLog).where(AuditLog.action == "session.refused").order_by(AuditLog.id)).all()
        assert [(e.actor, e.after["status"], e.after["path"]) for e in entries] == [
            ("soundhub", status, "/portal"), ("soundhub", status, "/portal/policy"),
            ("soundhub", status, "/portal/tokens")]
        s.execute(update(Partner).where(Partner.code == "P1").values(status="authorised"))
    assert client.get("/portal").status_code == 200


# Responses --------------------------------------------------------------------------------------


def test_it_records_a_dispute_alerts_the_manager_and_recrawls_the_listing(setup: tuple[Any, ...]) -> None:
    app, world, db, _shop = setup
    vid = world.web.violations["P1"]
    client = _client(app, db, "soundhub")
    answer = client.post(f"/portal/violations/{vid}/respond", data=_form("soundhub", action="dispute",
                                                                          comment="we sell at 199 since Monday"),
                         files={"screenshot": ("mine.png", png(60, 40), "image/png")})
    assert answer.status_code == 303, answer.text
    app.state.jobs.join()
    with session_scope(db) as s:
        response = s.scalars(select(PartnerResponse)).one()
        assert (response.action, response.recrawl_status, response.username) == ("dispute", "done", "soundhub")
        observation = s.get(Observation, response.observation_id)
        assert observation is not None and observation.price == Decimal("199.00") and observation.source == "crawl"
        alert = s.scalars(select(AlertDelivery).where(AlertDelivery.kind == "response")).one()
        assert alert.recipient_label == "carl" and "disputes" in alert.subject and alert.status == "queued"
        actions = [e.action for e in s.scalars(select(AuditLog).where(AuditLog.entity_type == "violation",
                                                                      AuditLog.entity_id == str(vid))
                                               .order_by(AuditLog.id))]
        assert actions == ["violation.partner_dispute", "violation.recrawled"]
    page = client.get(f"/portal/violations/{vid}").text
    assert "we sell at 199 since Monday" in page and 'data-recrawl="done"' in page and "199.00 USD" in page
    timeline = _client(app, db, "carl").get(f"/violations/{vid}").text
    assert "The partner disputes the violation" in timeline and "we sell at 199 since Monday" in timeline
    assert "Page checked again after the partner&#39;s response: checked" in timeline
    shot = _client(app, db, "carl").get(f"/violations/{vid}/responses/{response.id}/screenshot")
    assert shot.status_code == 200 and shot.content == png(60, 40)


def test_it_refuses_a_bad_screenshot_a_dispute_without_reason_and_an_unknown_answer(setup: tuple[Any, ...]) -> None:
    app, world, db, _shop = setup
    vid = world.web.violations["P1"]
    client = _client(app, db, "soundhub")
    fake = client.post(f"/portal/violations/{vid}/respond", data=_form("soundhub", action="corrected"),
                       files={"screenshot": ("shot.png", b"<script>alert(1)</script>", "image/png")})
    assert fake.status_code == 400 and "not a PNG, JPEG or WebP image" in fake.text
    big = client.post(f"/portal/violations/{vid}/respond", data=_form("soundhub", action="corrected"),
                      files={"screenshot": ("big.png", b"\x89PNG\r\n\x1a\n" + bytes((5 << 20) + 1024), "image/png")})
    assert big.status_code == 400 and "larger than 5 MB" in big.text
    bare = client.post(f"/portal/violations/{vid}/respond", data=_form("soundhub", action="dispute"))
    assert bare.status_code == 400 and "A dispute needs a comment" in bare.text
    odd = client.post(f"/portal/violations/{vid}/respond", data=_form("soundhub", action="agree"))
    assert odd.status_code == 400
    with session_scope(db) as s:
        assert s.scalars(select(PartnerResponse)).all() == []


def _with_web(app: Any, **values: int) -> None:
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"web": settings.web.model_copy(update=values)})


def test_it_bounds_the_crawls_one_partner_may_start_with_responses_and_complaints(setup: tuple[Any, ...]) -> None:
    """A hostile partner answering one violation again and again, or filing complaint after complaint, would fill
    the queue every partner and the monitor wait on, aim the crawlers at any site and flood its manager."""
    from pricewarden.errors import PortalLimit
    from store import PortalJob, User
    from web.portal.complaints import file_complaint
    from web.portal.responses import respond

    app, world, db, shop = setup
    _with_web(app, partner_jobs_waiting=3, partner_requests_per_day=5)
    settings = app.state.settings
    vid = world.web.violations["P1"]
    with session_scope(db) as s:
        user = s.scalars(select(User).where(User.username == "soundhub")).one()
        respond(s, user, vid, "corrected", "fixed", settings=settings)
    with session_scope(db) as s, pytest.raises(PortalLimit) as again:
        respond(s, s.merge(user), vid, "dispute", "and again", settings=settings)
    assert again.value.limit == "violation"
    with session_scope(db) as s:
        for n in range(2):
            file_complaint(s, s.merge(user), shop.url(f"/deals/{n}"), "below MAP", settings=settings)
    with session_scope(db) as s, pytest.raises(PortalLimit) as waiting:
        file_complaint(s, s.merge(user), shop.url("/deals/9"), "below MAP", settings=settings)
    assert waiting.value.limit == "waiting" and "3 checks waiting" in str(waiting.value)
    # Once they have run, more may be sent, up to the day's share (3 sent so far, 5 a day).
    with session_scope(db) as s:
        s.execute(update(PartnerResponse).values(recrawl_status="done"))
        s.execute(update(Complaint).values(status="done", outcome="compliant"))
        s.execute(update(PortalJob).values(status="done"))
        for n in range(2):
            file_complaint(s, s.merge(user), shop.url(f"/deals/{n + 2}"), "below MAP", settings=settings)
        s.execute(update(Complaint).values(status="done", outcome="compliant"))
        s.execute(update(PortalJob).values(status="done"))
    with session_scope(db) as s, pytest.raises(PortalLimit) as day:
        file_complaint(s, s.merge(user), shop.url("/deals/9"), "below MAP", settings=settings)
    assert day.value.limit == "day"
    # The pages say so (429) and store nothing; another partner goes on.
    client = _client(app, db, "soundhub")
    refused = client.post("/portal/complaints", data=_form("soundhub", url=shop.url("/deals/9")))
    assert refused.status_code == 429 and "send this again tomorrow" in refused.text
    answer = client.post(f"/portal/violations/{vid}/respond", data=_form("soundhub", action="corrected"))
    assert answer.status_code == 429 and "send this again tomorrow" in answer.text
    with session_scope(db) as s:
        assert len(s.scalars(select(Complaint)).all()) == 4
        assert len(s.scalars(select(PartnerResponse)).all()) == 1
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "complaint.filed")).all()) == 4
        two = s.scalars(select(User).where(User.username == "twohub")).one()
        file_complaint(s, two, shop.url("/deals/9"), "below MAP", settings=settings)


# Reports ----------------------------------------------------------------------------------------

REPORT = ("sku,price,currency,date\n"
          "AC-100,199.00,USD,2026-05-02\n"
          "AC-999,10.00,USD,2026-05-02\n"
          "AC-200,-5,USD,2026-05-02\n"
          "AC-200,=1+1,USD,2026-05-02\n")


def test_it_imports_an_uploaded_report_and_shows_every_rejection(setup: tuple[Any, ...],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__MAX_AGE_DAYS", "3650")
    get_settings.cache_clear()
    app, _world, db, _shop = setup
    client = _client(app, db, "soundhub")
    answer = client.post("/portal/reports", data=_form("soundhub"),
                         files={"report": ("../../may report.csv", REPORT.encode(), "text/csv")})
    assert answer.status_code == 303
    receipt = client.get(answer.headers["location"])
    assert "1 rows accepted, 3 rejected of 4." in receipt.text and "1 accepted, 3 rejected of 4" in receipt.text
    rows = receipt.text.split('id="rejections"')[1]
    for row in ("<td class=\"num\">3</td>", "<td class=\"num\">4</td>", "<td class=\"num\">5</td>"):
        assert row in rows
    assert "AC-999" in rows and "may report.csv" in receipt.text
    csv = client.get(answer.headers["location"] + "/receipt.csv")
    assert csv.status_code == 200 and csv.text.count("\n") == 5 and "'=1+1" in csv.text
    again = client.post("/portal/reports", data=_form("soundhub"),
                        files={"report": ("may report.csv", REPORT.encode(), "text/csv")})
    assert again.headers["location"] == answer.headers["location"]
    assert "already imported" in client.get(again.headers["location"]).text
    listing = client.get("/portal/reports")
    assert listing.text.count('href="/portal/reports/') >= 1 and "may report.csv" in listing.text


def test_it_refuses_an_oversized_or_unknown_file_and_serves_the_template(setup: tuple[Any, ...],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    from pricewarden.settings import get_settings

    monkeypatch.setenv("PRICEWARDEN_REPORTS__MAX_FILE_MB", "1")
    get_settings.cache_clear()
    from web.app import create_app

    _app, _world, db, _shop = setup
    app = create_app(get_settings(), engine=db)  # reports.max_file_mb = 1: the body limit is 6 MB
    client = _client(app, db, "soundhub")
    big = client.post("/portal/reports", data=_form("soundhub"),
                      files={"report": ("big.csv", b"sku,price\n" + b"x" * (2 << 20), "text/csv")})
    assert big.status_code == 413 and "big.csv is larger than 1 MB" in big.text
    huge = client.post("/portal/reports", data=_form("soundhub"),
                       files={"report": ("huge.csv", b"x" * (7 << 20), "text/csv")})
    assert huge.status_code == 413 and "request body larger than 6 MB" in huge.text  # refused before parsing
    exe = client.post("/portal/reports", data=_form("soundhub"), files={"report": ("tool.exe", b"MZ", "x")})
    assert exe.status_code == 400 and "tool.exe: only CSV, TSV, XLSX or JSON" in exe.text
    template = client.get("/portal/reports/template.xlsx")
    assert template.status_code == 200 and 'filename="P1-price-report.xlsx"' in template.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert [c.value for c in book.worksheets[0][1]][:4] == ["sku", "price", "currency", "date"]


# Policy -----------------------------------------------------------------------------------------

POLICY_V2 = POLICY.replace("effective_from: 2026-01-01T00:00", "effective_from: 2026-06-01T00:00").replace(
    '{sku: AC-100, scope: us, map: "199.00"}', '{sku: AC-100, scope: us, map: "189.00"}').replace(
    '{sku: AC-100, scope: cn, maximum: "1499.00"}', '{sku: AC-100, scope: cn, maximum: "1399.00"}').replace(
    '{sku: AC-100, scope: eu, recommended: "229.00"}', '{sku: AC-100, scope: eu, recommended: "219.00"}').replace(
    "  - {name: eu, regions: [EU], mode: recommended, currency: EUR}",
    "  - {name: eu, regions: [EU], mode: recommended, currency: EUR}\n"
    "  - {name: jp, regions: [JP], mode: observe, currency: JPY}",
) + '  - {sku: AC-100, scope: jp, recommended: "30000"}\n'


def _publish_v2(db: Engine) -> Any:
    from policies import publish_text
    from web.portal.policy import distribute_policy

    with session_scope(db) as s:
        s.add(Partner(code="P5", name="Tokyo Audio", tier="B", regions=["JP"], notice_urls=["json://127.0.0.1:9/P5"]))
        s.flush()
        result = publish_text(s, POLICY_V2, file="policy-v2.yaml")
        return distribute_policy(s, result.version, actor="bianca"), result.version


def test_it_sends_a_new_version_worded_by_mode_and_records_the_acknowledgement(setup: tuple[Any, ...]) -> None:
    app, _world, db, _shop = setup
    report, version = _publish_v2(db)
    with session_scope(db) as s:
        receipts = {r.partner.code: r for r in s.scalars(select(PolicyReceipt))}
        assert {code: (r.modes, r.ask_ack) for code, r in receipts.items()} == {
            "P1": (["map"], True), "P2": (["map"], True), "P3": (["maximum"], False),
            "P4": (["recommended"], False)}  # P5's scope is observe: nothing is sent
        assert receipts["P1"].changes[0] == {"sku": "AC-100", "region": "US", "mode": "map", "currency": "USD",
                                             "before": "199.00", "after": "189.00"}
        sent = s.scalars(select(AlertDelivery).where(AlertDelivery.kind == "policy"))
        messages = {m.recipient_label: m for m in sent}
        assert sorted(messages) == ["partner P1", "partner P4"]  # the partners with a notice URL
        to_p1 = messages["partner P1"].body_text
        assert "unilateral" in to_p1 and "not an agreement" in to_p1
        assert "acknowledge receipt" in messages["partner P1"].body_text
        assert "information only" in messages["partner P4"].body_text
        assert "acknowledge" not in messages["partner P4"].body_text
    assert report.no_address == ["P2", "P3"] and "P5" in report.unchanged
    client = _client(app, db, "soundhub")
    assert f"Price policy version {version} was sent to you" in client.get("/portal").text
    ack = client.post("/portal/policy/acknowledge", data=_form("soundhub", version=str(version)))
    assert ack.status_code == 303
    assert client.post("/portal/policy/acknowledge", data=_form("soundhub", version=str(version))).status_code == 303
    assert _client(app, db, "eurohub").post("/portal/policy/acknowledge",
                                            data=_form("eurohub", version=str(version))).status_code == 404
    with session_scope(db) as s:
        receipt = s.scalars(select(PolicyReceipt).where(PolicyReceipt.version == version,
                                                        PolicyReceipt.acknowledged_by.is_not(None))).one()
        assert receipt.acknowledged_by == "soundhub" and len(receipt.source_sha256) == 64
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "policy.acknowledged")).all()
        assert len(audits) == 1 and audits[0].after["sha256"] == receipt.source_sha256
    brand = _client(app, db, "bianca").get("/policy/receipts").text
    assert f'data-ack="P1-{version}">soundhub' in brand and "awaiting" in brand and "not asked" in brand


def test_it_shows_the_prices_in_force_and_downloads_them_as_xlsx(setup: tuple[Any, ...]) -> None:
    import openpyxl

    app, _world, db, _shop = setup
    client = _client(app, db, "soundhub")
    page = client.get("/portal/policy").text
    rows = page.split('id="prices"')[1].split("</table>")[0]
    assert "AC-100" in rows and "199.00 USD" in rows and "AC-200" in rows and "99.00 USD" in rows
    assert "unilateral minimum advertised price policy" in page and 'data-mode="recommended"' not in page
    euro = _client(app, db, "eurohub").get("/portal/policy").text
    assert 'data-mode="recommended"' in euro and "229.00 EUR" in euro and 'data-mode="map"' not in euro
    book = openpyxl.load_workbook(io.BytesIO(client.get("/portal/policy.xlsx").content))
    values = [[c.value for c in row] for row in book.active.iter_rows()]
    assert values[6][:6] == ["AC-100", "Acme AC-100 headphones", "US", "MAP", "USD", 199.0]


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_it_prints_the_prices_in_force_to_pdf_for_the_partner_only_in_its_language(setup: tuple[Any, ...]) -> None:
    from sqlalchemy import update

    from store import Product

    app, _world, db, _shop = setup
    with session_scope(db) as s:  # a Chinese title, and a stray control character from a catalog import
        s.execute(update(Product).where(Product.sku == "AC-100").values(title="Acme AC-100 降噪耳机\x07"))
    client = _client(app, db, "soundhub")
    assert 'href="/portal/policy.pdf" id="pdf-link"' in client.get("/portal/policy").text
    response = client.get("/portal/policy.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="P1-prices-in-force.pdf"'
    text = _pdf_text(response.content)
    assert "Prices in force for Shop One" in text
    assert "AC-100" in text and "199.00 USD" in text and "AC-200" in text and "99.00 USD" in text
    assert "降噪耳机" in text  # the CJK font is there and embedded with its text
    assert "EUR" not in text and "229.00" not in text and "Shop Two" not in text  # P4's and P2's are not
    euro = _pdf_text(_client(app, db, "eurohub").get("/portal/policy.pdf").content)
    assert "229.00 EUR" in euro and "USD" not in euro and "Shop One" not in euro
    client.post("/locale", data=_form("soundhub", locale="zh_Hans", next="/portal/policy"))
    chinese = _pdf_text(client.get("/portal/policy.pdf").content)
    assert "Shop One 的现行价格" in chinese and "199.00 USD" in chinese
    assert _client(app, db, "bianca").get("/portal/policy.pdf").status_code == 403  # the portal is for partners


def test_it_bounds_the_print_and_kills_its_process_group() -> None:
    import os

    from pricewarden.errors import ExportError
    from web.portal import pdf

    started: list[int] = []
    popen = pdf.subprocess.Popen

    def remember(*args: Any, **kwargs: Any) -> Any:
        child = popen(*args, **kwargs)
        started.append(child.pid)
        return child

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pdf.subprocess, "Popen", remember)
        with pytest.raises(ExportError, match="did not print the PDF within"):
            pdf.html_to_pdf("<p>x</p>", timeout=0.2)  # far below Python's and Chromium's start
    [pid] = started
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing of the group is left
    assert pdf.html_to_pdf("<p>x</p>").startswith(b"%PDF-")  # and the next print is not blocked


def test_it_clears_control_characters_from_the_xlsx(setup: tuple[Any, ...]) -> None:
    import openpyxl
    from sqlalchemy import update

    from store import Product

    app, _world, db, _shop = setup
    with session_scope(db) as s:
        s.execute(update(Product).where(Product.sku == "AC-100").values(title="Acme\x01 AC-100\x1b[31m\x0b phones"))
    response = _client(app, db, "soundhub").get("/portal/policy.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    titles = {row[0].value: row[1].value for row in book.active.iter_rows(min_row=7)}
    assert titles["AC-100"] == "Acme AC-100[31m phones"


# Complaints -------------------------------------------------------------------------------------


def test_it_crawls_a_complaint_at_once_and_finds_the_violation(setup: tuple[Any, ...]) -> None:
    app, _world, db, shop = setup
    shop.pages["/deals/acme"] = product_page("Acme AC-100 headphones", "AC-100", "150.00")
    client = _client(app, db, "soundhub")
    filed = client.post("/portal/complaints", data=_form("soundhub", url=shop.url("/deals/acme"),
                                                         comment="far below MAP"))
    assert filed.status_code == 303
    app.state.jobs.join()
    with session_scope(db) as s:
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.status, complaint.outcome, complaint.public_price) == ("done", "violation", "150.00")
        assert complaint.violation_id is not None and complaint.listing_id is not None
        vid = complaint.violation_id
    mine = client.get(filed.headers["location"]).text
    assert 'data-outcome="violation"' in mine and "violation found" in mine and "150" in mine
    assert f"/violations/{vid}" not in mine and "Violation" not in mine.split('id="outcome-box"')[1]
    brand = _client(app, db, "bianca").get(f"/complaints/{complaint.id}").text
    assert f'href="/violations/{vid}"' in brand and "far below MAP" in brand
    assert _client(app, db, "dana").get(f"/complaints/{complaint.id}").status_code == 404  # P1 is carl's


def test_it_tells_a_page_that_is_not_ours_from_one_it_cannot_read(setup: tuple[Any, ...]) -> None:
    app, _world, db, shop = setup
    shop.pages["/garden/hose"] = product_page("Greenline garden hose 25 m", "GH-25", "19.90")
    client = _client(app, db, "soundhub")
    for path in ("/garden/hose", "/gone"):
        assert client.post("/portal/complaints", data=_form("soundhub", url=shop.url(path))).status_code == 303
    refused = client.post("/portal/complaints", data=_form("soundhub", url="http://169.254.169.254/latest/meta-data"))
    assert refused.status_code == 400 and "refused by the network policy" in refused.text
    app.state.jobs.join()
    with session_scope(db) as s:
        outcomes = {c.url.rsplit("/", 1)[-1]: c.outcome for c in s.scalars(select(Complaint))}
    assert outcomes == {"hose": "not_our_product", "gone": "unreadable"}


def test_it_sends_the_version_when_the_cli_publishes_it(setup: tuple[Any, ...], tmp_path: Any) -> None:
    import json

    from typer.testing import CliRunner

    from pricewarden.cli import app as cli

    _app, _world, db, _shop = setup
    path = tmp_path / "policy-v2.yaml"
    path.write_text(POLICY_V2, encoding="utf-8")
    result = CliRunner().invoke(cli, ["policy", "publish", str(path), "--by", "bianca", "--json"])
    assert result.exit_code == 0, result.output
    sent = json.loads(result.output)["distribution"]
    assert len(sent["receipts"]) == 4 and sent["messages"] == 2 and sent["no_address"] == ["P2", "P3"]
    with session_scope(db) as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "policy.distributed")).all()
        assert sorted(a.entity_id for a in audits) == ["P1", "P2", "P3", "P4"]
        assert {a.actor for a in audits} == {"bianca"}


def test_it_delivers_the_policy_to_the_partner_and_the_response_to_its_manager(setup: tuple[Any, ...],
                                                                               webhook: Any) -> None:
    from alerts import deliver_due
    from store import User

    app, world, db, _shop = setup
    with session_scope(db) as s:
        s.scalars(select(Partner).where(Partner.code == "P1")).one().notice_urls = [webhook.url("/p1")]
        s.scalars(select(User).where(User.username == "carl")).one().notification_urls = [webhook.url("/carl")]
    _publish_v2(db)
    answer = _client(app, db, "soundhub").post(f"/portal/violations/{world.web.violations['P1']}/respond",
                                                data=_form("soundhub", action="corrected", comment="now 199"))
    assert answer.status_code == 303
    app.state.jobs.join()
    with session_scope(db) as s:
        report = deliver_due(s)
    assert len(report.sent) == 2, report  # P4's notice URL (port 9) answers nothing: retried later
    [policy] = webhook.inbox.at("/p1")
    assert "unilateral" in policy.body and "199.00 -> 189.00 USD" in policy.body
    assert "acknowledge receipt" in policy.body
    [alert] = webhook.inbox.at("/carl")
    assert "Shop One says the price is corrected" in alert.title and "now 199" in alert.body


def test_it_runs_in_a_new_process_the_crawls_a_stopped_one_left_queued(setup: tuple[Any, ...]) -> None:
    import subprocess
    import sys

    from store import PortalJob, User
    from web.portal.complaints import file_complaint
    from web.portal.responses import respond

    _app, world, db, shop = setup
    shop.pages["/deals/left"] = product_page("Acme AC-100 headphones", "AC-100", "150.00")
    vid = world.web.violations["P1"]
    # What the portal's pages do, and then the process stops before its worker ran anything.
    with session_scope(db) as s:
        user = s.scalars(select(User).where(User.username == "soundhub")).one()
        response = respond(s, user, vid, "corrected", "199 again")
        complaint = file_complaint(s, user, shop.url("/deals/left"), "far below MAP")
        response_id, complaint_id = response.id, complaint.id
    with session_scope(db) as s:
        assert [(j.kind, j.target_id, j.status) for j in s.scalars(select(PortalJob).order_by(PortalJob.id))] == [
            ("recrawl", response_id, "queued"), ("complaint", complaint_id, "queued")]
    listed = subprocess.run([sys.executable, "-m", "pricewarden", "jobs"], capture_output=True, text=True,
                            timeout=120, check=True)
    assert "recrawl" in listed.stdout and "complaint" in listed.stdout and "queued" in listed.stdout
    ran = subprocess.run([sys.executable, "-m", "pricewarden", "jobs", "--run"], capture_output=True, text=True,
                         timeout=600, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "ran: 2 done" in ran.stdout and "no job waiting or failed" in ran.stdout
    with session_scope(db) as s:
        response_row = s.get(PartnerResponse, response_id)
        complaint_row = s.get(Complaint, complaint_id)
        assert response_row is not None and complaint_row is not None
        assert (response_row.recrawl_status, complaint_row.status, complaint_row.outcome) == (
            "done", "done", "violation")
        recrawled = s.scalars(select(AuditLog).where(AuditLog.action == "violation.recrawled")).one()
        assert recrawled.entity_id == str(vid) and recrawled.after["response"] == response_id
        jobs = s.scalars(select(PortalJob)).all()
        assert {(j.status, j.attempts) for j in jobs} == {("done", 1)}
    # On the violation's timeline (the brand's page) and the complaint's page (the partner's).
    brand = _client(_app, db, "carl").get(f"/violations/{vid}").text
    assert "Page checked again after the partner&#39;s response" in brand.replace("&#x27;", "&#39;")
    mine = _client(_app, db, "soundhub").get(f"/portal/complaints/{complaint_id}").text
    assert 'data-outcome="violation"' in mine and "150.00" in mine


def test_it_claims_each_job_once_retries_a_dead_one_and_gives_up_after_the_last_attempt(
        setup: tuple[Any, ...]) -> None:
    from datetime import timedelta

    from store import PortalJob, User, utcnow
    from web.portal.jobs import MAX_ATTEMPTS, STALE, claim, drain, enqueue
    from web.portal.responses import respond

    _app, world, db, shop = setup
    shop.pages["/deals/left"] = product_page("Acme AC-100 headphones", "AC-100", "150.00")
    now = utcnow()
    with session_scope(db) as s:
        user = s.scalars(select(User).where(User.username == "soundhub")).one()
        response = respond(s, user, world.web.violations["P1"], "dispute", "our price is right")
        gone = Complaint(partner_id=user.partner_id, user_id=user.id, username="soundhub", url=shop.url("/gone"),
                         status="running")
        left = Complaint(partner_id=user.partner_id, user_id=user.id, username="soundhub",
                         url=shop.url("/deals/left"), status="running")
        busy = Complaint(partner_id=user.partner_id, user_id=user.id, username="soundhub", url=shop.url("/x"),
                         status="running")
        s.add_all([gone, left, busy])
        s.flush()
        response_id = response.id
        # The response's re-crawl: its process died during each attempt.
        s.execute(update_job(PortalJob.target_id == response.id, status="running", attempts=MAX_ATTEMPTS,
                             claimed_at=now - STALE - timedelta(minutes=1)))
        for complaint, attempts, claimed in ((gone, 1, now - 2 * STALE), (left, 2, now - 2 * STALE),
                                             (busy, 1, now)):  # busy: running now, elsewhere
            job = enqueue(s, "complaint", complaint.id)
            job.status, job.attempts, job.claimed_at = "running", attempts, claimed
    # Two workers claim at once: each job goes to one of them.
    first, second = claim(db, worker="a"), claim(db, worker="b")
    assert first is not None and second is not None and first.id != second.id
    assert {first.attempt, second.attempt} == {2, 3}
    with session_scope(db) as s:
        failed = s.scalars(select(PortalJob).where(PortalJob.kind == "recrawl")).one()
        assert failed.status == "failed" and f"{MAX_ATTEMPTS} attempts" in failed.last_error
        given_up = s.get(PartnerResponse, response_id)
        assert given_up is not None and given_up.recrawl_status == "failed"
        assert "given up after" in given_up.recrawl_detail
        assert s.scalars(select(AuditLog).where(AuditLog.action == "violation.recrawled")).one().after[
            "status"] == "failed"
    assert claim(db) is None  # the one running elsewhere is left alone
    from web.portal.jobs import run

    assert {run(db, first), run(db, second)} == {"done"}
    assert drain(db) == {}
    with session_scope(db) as s:
        found = {c.url.rsplit("/", 1)[-1]: (c.status, c.outcome) for c in s.scalars(select(Complaint))}
    assert found == {"gone": ("done", "unreadable"), "left": ("done", "violation"), "x": ("running", None)}


def update_job(where: Any, **values: Any) -> Any:
    from sqlalchemy import update

    from store import PortalJob

    return update(PortalJob).where(where, PortalJob.kind == "recrawl").values(**values)
