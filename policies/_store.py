"""Store adapter: publish a validated policy file as a new immutable version, and load versions back.

Publishing validates first (nothing is stored when the file has a problem), refuses a file identical
to the latest version, stores the text verbatim with its SHA-256, the UTC ``effective_from``, the
time zone and each scope's mode, and writes an audit entry in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from threading import Lock

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from policies._diff import Change, diff_policies
from policies._load import parse_policy
from policies._model import Policy, PublishedPolicy
from policies._resolve import local, version_in_force
from pricewarden.errors import PolicyError, PolicyValidationError, Problem, StoreError
from pricewarden.settings import get_settings
from store import Partner, PolicyVersion, Product, audit, utcnow

_PARSED_MAX = 32
_parsed: dict[tuple[object, ...], Policy] = {}
_parsed_lock = Lock()


@dataclass(frozen=True, slots=True)
class PublishResult:
    """A published version, the version it replaces from its ``effective_from``, and the changes."""

    version: int
    policy: Policy
    previous: PublishedPolicy | None
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_versions(session: Session) -> list[PublishedPolicy]:
    """Every published version, parsed, in version order (each with the modes it was published with)."""
    rows = session.scalars(select(PolicyVersion).order_by(PolicyVersion.version)).all()
    region_modes = tuple(sorted(get_settings().region_modes.items()))
    result: list[PublishedPolicy] = []
    for row in rows:
        file = row.source_file or f"policy v{row.version}"
        scope_modes = tuple(sorted((k, str(v)) for k, v in (row.scope_modes or {}).items()))
        # Versions are immutable, so a parsed one can be reused: parsing a large file takes seconds.
        key = (row.source_sha256, file, scope_modes, region_modes)
        with _parsed_lock:
            policy = _parsed.get(key)
        if policy is None:
            try:
                policy = parse_policy(row.source_text, file=file, scope_modes=dict(scope_modes),
                                      region_modes=dict(region_modes))
            except PolicyValidationError as exc:
                raise PolicyError(f"stored policy version {row.version} no longer validates: {exc}") from exc
            with _parsed_lock:
                if len(_parsed) >= _PARSED_MAX:
                    _parsed.pop(next(iter(_parsed)))
                _parsed[key] = policy
        result.append(PublishedPolicy(row.version, policy, row.published_at, row.published_by))
    return result


def publish_policy(session: Session, path: str | Path, *, published_by: str = "system",
                   now: datetime | None = None) -> PublishResult:
    """Validate and publish the policy file at ``path`` (see :func:`publish_text`)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")  # no newline translation: verbatim
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyValidationError([Problem(str(path), None, None, f"cannot read the file: {exc}")]) from exc
    return publish_text(session, text, file=str(path), published_by=published_by, now=now)


def publish_text(session: Session, text: str, *, file: str, published_by: str = "system",
                 now: datetime | None = None) -> PublishResult:
    """Validate ``text`` and add it as version max+1; the caller's transaction commits it.

    Raises :class:`PolicyValidationError` (nothing added) for a bad file and :class:`PolicyError`
    when the text is identical to the latest version.
    """
    policy = parse_policy(text, file=file)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    latest = session.scalars(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1)).first()
    if latest is not None and latest.source_sha256 == sha:
        raise PolicyError(f"{file} is identical to policy version {latest.version} (sha256 {sha[:12]}): "
                          "nothing published")
    versions = load_versions(session)
    previous = version_in_force(versions, policy.effective_from)
    number = (session.scalar(select(func.max(PolicyVersion.version))) or 0) + 1
    row = PolicyVersion(
        version=number, name=policy.name, source_file=file, source_sha256=sha, source_text=text,
        effective_from=policy.effective_from, timezone=policy.timezone, published_by=published_by,
        scope_modes=policy.scope_modes(),
    )
    if now is not None:
        row.published_at = now
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise StoreError(f"another policy version {number} was published at the same moment: try again") from exc
    changes = diff_policies(previous.policy if previous else None, policy)
    audit(session, actor=published_by, action="policy.publish", entity_type="policy_version", entity_id=number,
          before={"version": previous.version} if previous else {},
          after={"version": number, "name": policy.name, "sha256": sha,
                 "effective_from": policy.effective_from.isoformat(), "timezone": policy.timezone,
                 "scope_modes": policy.scope_modes(), "changes": len(changes)})
    return PublishResult(number, policy, previous, changes, _warnings(session, policy, versions, now))


def _warnings(session: Session, policy: Policy, versions: list[PublishedPolicy], now: datetime | None) -> list[str]:
    """Things worth a second look that are not errors: back-dating, unknown partners or SKUs."""
    now = now or utcnow()
    warnings: list[str] = []
    if policy.effective_from < now:
        warnings.append(f"effective_from {local(policy.effective_from, policy.timezone)} is in the past: "
                        "findings already recorded keep their version; re-judged observations from that "
                        "instant on use this one")
    later = [v.version for v in versions if v.effective_from > policy.effective_from]
    if later:
        warnings.append(f"versions {', '.join(map(str, later))} start later and stay in force from their own "
                        "effective_from")
    for scope in policy.scopes:
        if scope.mode_from_settings:
            warnings.append(f"scope {scope.name} has no mode in the file: the region default "
                            f"`{scope.mode}` from settings was recorded with this version")
    partners = {e.partner for e in policy.exemptions}
    if partners:
        known = set(session.scalars(select(Partner.code).where(Partner.code.in_(partners))))
        warnings += [f"exemption names partner {p}, which is not in the catalog" for p in sorted(partners - known)]
    skus = {r.sku for r in policy.rules if r.sku} | {s for p in policy.promotions for s in p.skus}
    if skus and session.scalar(select(func.count()).select_from(Product)):
        known = set(session.scalars(select(Product.sku).where(Product.sku.in_(skus))))
        warnings += [f"sku {s} is not in the catalog" for s in sorted(skus - known)]
    return warnings
