"""The currency a policy expects for a partner's price: the currency of the scope covering its regions.

Used by the partner-report importer (``crawlers.reports`` looks up ``policies.expected_currency``)
to fill a missing currency and to reject a row priced in another one. Each call reads the partner
and the newest version row from the configured database (three small indexed queries); parsed
versions are reused while no version has been published since, so a new publication is seen at once.
"""

from __future__ import annotations

import os
from datetime import datetime
from threading import Lock

from sqlalchemy import func, select

from policies._model import PublishedPolicy
from policies._resolve import version_in_force

_parsed: dict[tuple[object, ...], list[PublishedPolicy]] = {}
_lock = Lock()


def _unlocked_in_child() -> None:
    # A process forked while another thread held the lock (the report importer forks its reader, maybe
    # from a web worker's thread) would wait for it forever: the child starts with a free one.
    global _lock
    _lock = Lock()


os.register_at_fork(after_in_child=_unlocked_in_child)


def expected_currency(sku: str, partner_code: str, at: datetime) -> str | None:
    """The ISO 4217 currency the policy in force at ``at`` sets for ``partner_code``'s regions.

    ``None`` when it cannot say: unknown partner, no version in force, no scope for its regions,
    or regions whose scopes use different currencies (``sku`` does not change the answer today:
    currencies are per scope; it is part of the signature so that per-rule currencies can come).
    """
    if at.tzinfo is None:
        return None
    from policies._store import load_versions
    from pricewarden.settings import get_settings
    from store import Partner, PolicyVersion, get_engine, session_scope

    engine = get_engine()
    with session_scope(engine) as session:
        regions = session.scalar(select(Partner.regions).where(Partner.code == partner_code))
        if not regions:
            return None
        count = session.scalar(select(func.count(PolicyVersion.id))) or 0
        latest = session.execute(
            select(PolicyVersion.version, PolicyVersion.source_sha256, PolicyVersion.published_at)
            .order_by(PolicyVersion.version.desc()).limit(1)
        ).first()
        # A database emptied and refilled (tests, restores) can reuse version numbers: the hash and
        # publication instant of the newest row tell the sets apart.
        key = (get_settings().database, count, tuple(latest) if latest else ())
        with _lock:
            versions = _parsed.get(key)
        if versions is None:
            versions = load_versions(session)
            with _lock:
                _parsed.clear()  # only the newest set is worth keeping
                _parsed[key] = versions
    chosen = version_in_force(versions, at)
    if chosen is None:
        return None
    currencies = {scope.currency for region in regions
                  if (scope := chosen.policy.scope_for_region(str(region).upper())) is not None}
    return currencies.pop() if len(currencies) == 1 else None
