"""Identifiers checked where they enter: partner codes, SKUs, usernames, evidence keys, audit actors.

A partner code ``../../..`` wrote receipts and templates outside the workspace; the evidence store
took any string as a SHA-256. Each bad identifier is refused with a clear error naming the file,
row and field (catalog) or the value and the rule (everything else), and nothing is written.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pricewarden.errors import InvalidIdentifier
from pricewarden.identifiers import check_actor, check_evidence_key, check_partner_code, check_sku, check_username

SAMPLE = Path(__file__).resolve().parents[1] / "pricewarden" / "sample" / "catalog"

CODES = [("P001", True), ("acme.eu-2_b", True), ("../../..", False), ("..", False), ("a..b", False),
         (".hidden", False), ("-x", False), ("P/001", False), ("P\\001", False), ("P\x00X", False),
         ("P\x1b[31mX", False), ("P 001", False), ("", False), ("x" * 50, True), ("x" * 51, False), ("代码", False)]
SKUS = [("AC-100", True), ("KB 100/US", True), ("Größe-42", True), ("型号-7", True), ("../x", False),
        ("a/../b", False), ("/.", False), ("a\\b", False), ("A\x00B", False), ("A\x1b[2JB", False),
        ("A\u202eB", False), (" AC-100", False), ("AC-100 ", False), ("", False), ("x" * 100, True), ("x" * 101, False)]
USERS = [("carl", True), ("bianca.brandt@acme-audio.example", True), ("ops+eu", True), ("../root", False),
         ("carl\x00", False), ("car l", False), ("", False)]
ACTORS = [("catalog-import", True), ("partner:P001", True), ("Carl Chen", True), ("x\x1b[31m", False),
          ("a\nb", False), (" carl", False), ("", False)]
KEYS = [("a" * 64, True), ("0123456789abcdef" * 4, True), ("A" * 64, False), ("a" * 63, False),
        ("../..", False), ("../" + "a" * 61, False), ("g" * 64, False)]


@pytest.mark.parametrize(("check", "value", "ok"), [(check_partner_code, v, ok) for v, ok in CODES]
                         + [(check_sku, v, ok) for v, ok in SKUS] + [(check_username, v, ok) for v, ok in USERS]
                         + [(check_actor, v, ok) for v, ok in ACTORS]
                         + [(check_evidence_key, v, ok) for v, ok in KEYS])
def test_identifier_rules(check: Any, value: str, ok: bool) -> None:
    if ok:
        assert check(value) == value
        return
    with pytest.raises(InvalidIdentifier) as caught:
        check(value)
    message = str(caught.value)
    assert "\x00" not in message and "\x1b" not in message  # shown escaped, never raw on a terminal
    assert "is not a valid" in message


def test_catalog_rows_with_bad_identifiers_are_rejected_naming_file_row_and_field(db: Any, tmp_path: Path) -> None:
    from store import Listing, Partner, Product, User, session_scope
    from store.catalog import import_catalog

    catalog = tmp_path / "catalog"
    shutil.copytree(SAMPLE, catalog)
    with (catalog / "partners.csv").open("a", encoding="utf-8") as handle:
        handle.write("../../..,Escaper,B,US,authorised,,,carl,en,,,,\n")
        handle.write("P\x1b[31mX,Painter,B,US,authorised,,,carl,en,,,,\n")
        handle.write("P005,Bad manager,B,US,authorised,,,../carl,en,,,,\n")
    with (catalog / "products.csv").open("a", encoding="utf-8") as handle:
        handle.write("../etc/passwd,,,Acme,Escaper,headphones\n")
        handle.write("AC-9\x00,,,Acme,Nul,headphones\n")
    with (catalog / "users.csv").open("a", encoding="utf-8") as handle:
        handle.write("../root,Root,root@acme-audio.example,admin,en,,,,\n")
    with (catalog / "listings.csv").open("a", encoding="utf-8") as handle:
        handle.write("https://soundhub.example/p/x,AC-100,../../..,,,US\n")
    report = import_catalog(catalog)
    where = {(Path(p.file).name, p.line, p.field) for p in report.problems}
    assert where == {("partners.csv", 6, "code"), ("partners.csv", 7, "code"), ("partners.csv", 8, "channel_manager"),
                     ("products.csv", 7, "sku"), ("products.csv", 8, "sku"), ("users.csv", 8, "username"),
                     ("listings.csv", 7, "partner")}, report.problems
    assert all("is not a valid" in p.message for p in report.problems)
    with session_scope(db) as session:
        assert sorted(session.scalars(select(Partner.code))) == ["P001", "P002", "P003", "P004"]
        assert len(session.scalars(select(Product.sku)).all()) == 5
        assert "../root" not in session.scalars(select(User.username)).all()
        assert len(session.scalars(select(Listing.url)).all()) == 5  # every good row kept


def _pricewarden(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICEWARDEN_")}
    env["PRICEWARDEN_WORKSPACE"] = str(tmp_path / "ws")
    env["PRICEWARDEN_DATABASE_URL"] = os.environ["PRICEWARDEN_DATABASE_URL"]
    return subprocess.run([str(Path(sys.executable).parent / "pricewarden"), *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_report_commands_refuse_a_partner_code_that_is_a_path(db: Any, tmp_path: Path) -> None:
    from store import Partner, session_scope

    with session_scope(db) as session:  # even a partner stored before codes were checked
        session.add(Partner(code="../../escaped", name="Legacy"))
    report = tmp_path / "report.csv"
    report.write_text("sku,price,currency,date\nAC-100,199.00,USD,2026-03-02\n", encoding="utf-8")
    for args in (["report", "template", "--partner", "../../escaped", "-f", "csv"],
                 ["report", "import", str(report), "--partner", "../../escaped"],
                 ["report", "import", str(report), "--partner", "P\x1b[31m"]):
        done = _pricewarden(tmp_path, *args)
        assert done.returncode == 1, done.stdout + done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("error: ") and "is not a valid partner code" in line and "\x1b" not in line, line
    outside = [p for p in tmp_path.rglob("*") if "escaped" in p.name]
    assert outside == [], outside


def test_the_evidence_store_takes_only_a_sha256_as_a_key(tmp_path: Path) -> None:
    from store.evidence import EvidenceStore, sha256_of

    store = EvidenceStore(str(tmp_path / "evidence"))
    (tmp_path / "secret.txt").write_text("not evidence", encoding="utf-8")
    sha = store.write(b"<html>evidence</html>")
    assert sha == sha256_of(b"<html>evidence</html>") and store.get(sha) == b"<html>evidence</html>"
    for key in ("../..", "../secret.txt", "../" + "a" * 61, sha.upper(), sha[:-1]):
        with pytest.raises(InvalidIdentifier):
            store.get(key)
        with pytest.raises(InvalidIdentifier):
            store.exists(key)
        with pytest.raises(InvalidIdentifier):
            store.write(b"x", sha=key)


def test_the_audit_log_refuses_an_actor_with_control_characters(db: Any) -> None:
    from store import AuditLog, session_scope
    from store.audit import audit

    with session_scope(db) as session:
        with pytest.raises(InvalidIdentifier):
            audit(session, actor="carl\x1b]0;pwned\x07", action="violation.acknowledged", entity_type="violation",
                  entity_id=1)
        audit(session, actor="carl", action="violation.acknowledged", entity_type="violation", entity_id=1)
    with session_scope(db) as session:
        assert session.scalars(select(AuditLog.actor)).all() == ["carl"]
