"""``POST /api/v1/reports`` and ``GET /api/v1/reports/{id}``: a partner's price reports, through the same
importer as ``pricewarden report import`` (:mod:`crawlers.reports`).

The body is JSON (a list of row objects keyed by column, or ``{"rows": [...]}``) or a
``multipart/form-data`` upload whose ``file`` part is a CSV/TSV/XLSX/JSON report. An
``Idempotency-Key`` header makes a retry safe: the same key with the same body answers what the
first request answered, and nothing is stored twice; the same key with another body is refused
(422); a retry while the first request still runs gets 409.

Whose report it is: a partner token's own partner, always (naming another partner answers 403); an
integration token (a brand's ERP, acting as a manager) names the partner with ``?partner=CODE``, one the
manager sees (else 404) and in good standing (a suspended or terminated partner answers 403 naming its status,
audited as ``api_token.refused``, as the partner's own token would), and the import is audited under the manager
and the token.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crawlers.reports import import_file, import_rows
from pricewarden.errors import InvalidIdentifier, NotFoundError, PartnerInactive, ReportImportError
from store import ApiIdempotency, Partner, ReportBatch, ReportRejection, utcnow
from store.access import check_standing, get_partner_for_user, visible_partner_ids
from web.api._deps import ApiProblem, api_token, problems, refuse_inactive
from web.api.schemas import Receipt
from web.api.tokens import Principal
from web.auth import db

router = APIRouter(prefix="/api/v1", tags=["reports"])
Db = Annotated[Session, Depends(db, scope="function")]
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
ABANDONED = timedelta(minutes=15)  # a claim older than this without an answer was left by a request that died
_REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"oneOf": [
            {"type": "array", "items": {"type": "object"}, "description": "Rows keyed by column."},
            {"type": "object", "required": ["rows"], "properties": {"rows": {"type": "array", "items": {
                "type": "object"}}}}]},
            "example": [{"sku": "AC-100", "price": "199.00", "currency": "USD", "date": "2026-05-02",
                         "channel": "https://shop.example/ac-100"}]},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "CSV, TSV, XLSX or JSON report."}}}},
    },
}


def _receipt(batch: ReportBatch, code: str, *, duplicate: bool, rejections: list[dict[str, Any]],
             ignored: list[str] | None = None) -> dict[str, Any]:
    return Receipt(id=batch.id, partner=code, file_name=batch.file_name, file_sha256=batch.file_sha256,
                   format=batch.format, received_at=batch.received_at, rows_total=batch.rows_total,
                   rows_accepted=batch.rows_accepted, rows_rejected=batch.rows_rejected,
                   receipt_sha256=batch.receipt_sha256, duplicate=duplicate, ignored_columns=ignored or [],
                   rejections=rejections).model_dump(mode="json")


def _rejections(session: Session, batch_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(ReportRejection.row_number, ReportRejection.column, ReportRejection.reason)
                           .where(ReportRejection.batch_id == batch_id).order_by(ReportRejection.row_number)
                           .limit(1000))
    return [{"row": n, "column": c, "reason": r} for n, c, r in rows]


def _claim(session: Session, principal: Principal, key: str, request_sha: str, hours: int) -> JSONResponse | None:
    """Claim ``key`` for this request; the earlier answer when it was already used with the same body."""
    now = utcnow()
    session.execute(delete(ApiIdempotency).where(ApiIdempotency.token_id == principal.token_id,
                                                 ApiIdempotency.created_at < now - timedelta(hours=hours)))
    try:
        with session.begin_nested():
            session.add(ApiIdempotency(token_id=principal.token_id, key=key, request_sha256=request_sha,
                                       created_at=now))
        session.commit()
        return None
    except IntegrityError:
        session.rollback()
    earlier = session.scalar(select(ApiIdempotency).where(ApiIdempotency.token_id == principal.token_id,
                                                          ApiIdempotency.key == key))
    if earlier is None:  # expired and deleted between the two statements: claim again
        return _claim(session, principal, key, request_sha, hours)
    if earlier.request_sha256 != request_sha:
        raise ApiProblem(422, "Idempotency-Key reused", f"the Idempotency-Key {key!r} was used with another body; "
                         "use a new key for a new report")
    if earlier.status_code is None and earlier.created_at < now - ABANDONED:
        # Its request died (a crashed worker) before answering: claim the key again. Whatever that request
        # managed to commit is a batch the importer recognises, so the retry answers it as a duplicate.
        session.delete(earlier)
        session.commit()
        return _claim(session, principal, key, request_sha, hours)
    if earlier.status_code is None:
        raise ApiProblem(409, "Request in progress", f"a request with the Idempotency-Key {key!r} is still running; "
                         "retry when it has finished", headers={"Retry-After": "1"})
    location = f"/api/v1/reports/{earlier.response['id']}"
    return JSONResponse(earlier.response, status_code=earlier.status_code,
                        headers={"Idempotent-Replayed": "true", "Location": location})


def _release(session: Session, principal: Principal, key: str) -> None:
    session.rollback()
    session.execute(delete(ApiIdempotency).where(ApiIdempotency.token_id == principal.token_id,
                                                 ApiIdempotency.key == key, ApiIdempotency.status_code.is_(None)))
    session.commit()


async def _read_body(request: Request, megabytes: int) -> bytes:
    """The request body, refused (413) as soon as it says or shows it is larger than ``megabytes``."""
    limit = megabytes << 20
    too_large = ApiProblem(413, "Report too large", f"the body is larger than {megabytes} MB (api.max_upload_mb); "
                           "send larger reports through the inbox or `pricewarden report import`")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # starlette reads the form from it later
    return body


async def _parse(request: Request, body: bytes, max_rows: int) -> tuple[str, Any, str]:
    """``("rows", records, name)`` for JSON or ``("file", bytes, name)`` for an upload."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in ("application/json", ""):
        try:
            data = json.loads(body, parse_float=Decimal)
        except (ValueError, RecursionError):
            raise ApiProblem(400, "Not JSON", "the body is not valid JSON") from None
        if isinstance(data, dict) and isinstance(data.get("rows"), list):
            data = data["rows"]
        if not isinstance(data, list):
            raise ApiProblem(422, "Invalid report", "the JSON body must be a list of row objects or {\"rows\": [...]}")
        if len(data) > max_rows:
            raise ApiProblem(413, "Too many rows", f"{len(data)} rows; a JSON report may have {max_rows} "
                             "(api.max_rows): send a CSV/XLSX file")
        return "rows", data, "api"
    if media == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiProblem(422, "Invalid report", "the multipart body needs a 'file' part with the report")
        name = _SAFE_NAME.sub("-", Path(upload.filename or "report.csv").name).strip(".-")[:100] or "report.csv"
        return "file", await upload.read(), name
    raise ApiProblem(415, "Unsupported media type", "send application/json rows or a multipart/form-data 'file'")


def _partner_for(session: Session, principal: Principal, code: str | None, request: Request) -> str:
    """The code of the partner a report is for: the partner token's own, or the one an integration names (refused,
    403 and audited, when that partner is suspended or terminated, as the partner's own token is)."""
    if principal.kind == "partner":
        if code is not None and code != principal.partner_code:
            raise ApiProblem(403, "Another partner", f"a partner token sends only its own partner's reports "
                             f"({principal.partner_code}), not {code!r}'s", partner=code)
        return principal.partner_code or ""
    if code is None:
        raise ApiProblem(422, "Partner needed", "an integration token names the partner the report is for: "
                         "POST /api/v1/reports?partner=CODE")
    try:
        partner: Partner = get_partner_for_user(session, principal.user, code)
    except NotFoundError:
        raise ApiProblem(404, "Not found", f"no partner {code!r} this token may report for") from None
    try:
        check_standing(partner)
    except PartnerInactive as exc:
        refuse_inactive(session, exc, request, prefix=principal.prefix, token_id=principal.token_id)
    return partner.code


def _run(kind: str, payload: Any, name: str, actor: str, request: Request, code: str) -> Any:
    engine = request.app.state.engine
    if kind == "rows":
        return import_rows(payload, code, name=name, engine=engine, submitted_by=actor)
    with tempfile.TemporaryDirectory(prefix="pw-api-") as folder:
        path = Path(folder) / name
        path.write_bytes(payload)
        return import_file(path, code, engine=engine, submitted_by=actor)


@router.post("/reports", status_code=201, response_model=Receipt, summary="Send a price report",
             responses={200: {"description": "This exact report was imported before: its receipt, nothing stored",
                              "model": Receipt},
                        **problems(400, 401, 403, 404, 409, 413, 415, 422, 429)},
             openapi_extra={"requestBody": _REQUEST_BODY, "parameters": [{
                 "name": "Idempotency-Key", "in": "header", "required": False,
                 "schema": {"type": "string", "maxLength": 200, "pattern": "^[!-~]+$"},
                 "description": "Makes a retry safe: the same key and body answer the same; nothing is stored "
                                "twice."}]})
async def post_report(request: Request, session: Db,
                      principal: Annotated[Principal, Depends(api_token("reports:write"))],
                      partner: Annotated[str | None, Query(
                          min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                          description="The partner the report is for (its code): required with an integration token, "
                                      "optional with a partner token, which reports only for its own partner.")
                      ] = None) -> JSONResponse:
    """Import a report for the token's partner (or, for an integration, the partner it names); every row
    accepted or rejected with its reason."""
    settings = request.app.state.settings
    code = _partner_for(session, principal, partner, request)
    actor = principal.actor  # read here, not in the import's thread, which must not touch this session
    session.commit()  # end the read before the body arrives
    body = await _read_body(request, settings.api.max_upload_mb)
    key = request.headers.get("idempotency-key")
    if key is not None and not _KEY.match(key):
        raise ApiProblem(400, "Invalid Idempotency-Key", "an Idempotency-Key is 1 to 200 printable ASCII characters")
    # An integration's request names its partner: the same body for another partner is another request.
    named = f"{code}\n".encode() if principal.kind == "integration" else b""
    request_sha = hashlib.sha256(named + request.headers.get("content-type", "").encode() + b"\n" + body).hexdigest()
    if key is not None:
        replay = _claim(session, principal, key, request_sha, settings.api.idempotency_hours)
        if replay is not None:
            return replay
    try:
        kind, payload, name = await _parse(request, body, settings.api.max_rows)
        result = await run_in_threadpool(_run, kind, payload, name, actor, request, code)
    except ReportImportError as exc:
        if key is not None:
            _release(session, principal, key)
        raise ApiProblem(422, "Report cannot be read", str(exc)) from None
    except (InvalidIdentifier, NotFoundError) as exc:
        if key is not None:
            _release(session, principal, key)
        raise ApiProblem(422, "Report cannot be imported", str(exc)) from None
    except BaseException:
        if key is not None:
            _release(session, principal, key)
        raise
    batch = session.get(ReportBatch, result.batch_id)
    assert batch is not None  # committed by the importer
    rejections = result.rejections if not result.duplicate else _rejections(session, batch.id)
    answer = _receipt(batch, result.partner, duplicate=result.duplicate, rejections=rejections,
                      ignored=result.ignored_columns)
    status = 200 if result.duplicate else 201
    if key is not None:
        row = session.scalar(select(ApiIdempotency).where(ApiIdempotency.token_id == principal.token_id,
                                                          ApiIdempotency.key == key))
        if row is not None:
            row.status_code, row.response = status, answer
        session.commit()
    return JSONResponse(answer, status_code=status, headers={"Location": f"/api/v1/reports/{batch.id}"})


@router.get("/reports/{report_id}", response_model=Receipt, summary="A report's receipt",
            responses=problems(401, 403, 404, 422, 429))
def get_report(report_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], session: Db,
               principal: Annotated[Principal, Depends(api_token("reports:write"))]) -> dict[str, Any]:
    """The receipt of one of the token's partner's reports, or for an integration of a partner its manager sees
    (any other answers 404)."""
    batch = session.get(ReportBatch, report_id)
    if principal.kind == "partner":
        allowed = batch is not None and principal.partner_id is not None and batch.partner_id == principal.partner_id
    else:
        seen = visible_partner_ids(session, principal.user)
        allowed = batch is not None and (seen is None or batch.partner_id in seen)
    if batch is None or not allowed:
        raise ApiProblem(404, "Not found", f"no report {report_id}")
    return _receipt(batch, batch.partner.code, duplicate=False, rejections=_rejections(session, batch.id))
