"""The rule tables the vectorised engine joins observations to, with money in integer ten-thousandths.

Prices in PriceWarden have at most four decimals, so ``Decimal * 10_000`` is an exact integer: the
engine compares ``int64`` columns (exact, fast) and converts back to ``Decimal`` only for findings.
A percentage tolerance is kept in ten-thousandths of a percent and applied by cross-multiplying
(``price * 10^6 < floor * (10^6 - pct_e4)``), which stays exact in ``int64``.

The tables are plain DataFrames built from plain records (``RuleFrames.from_records``) so that the
engine needs nothing but pandas; ``detection.policy_bridge`` builds the records from the policy
package's compiled rule tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

SCALE = 10_000
NA_E4 = -1  # sentinel for "not set" in int64 money columns (real prices are never negative)
NO_TIER = ""

VERSION_COLUMNS = ["version", "effective_from"]
SCOPE_COLUMNS = ["version", "region", "scope", "mode", "currency"]
BASE_COLUMNS = [
    "version", "scope", "kind", "key", "tier", "floor_e4", "map_e4", "tol_e4", "tol_pct_e4", "msrp_e4",
    "recommended_e4", "maximum_e4", "currency", "rule_ref",
]
PROMO_COLUMNS = ["version", "scope", "kind", "key", "tier", "price_e4", "start", "end", "name"]
EXEMPTION_COLUMNS = ["version", "partner", "scope", "kind", "key", "floor_e4", "start", "end", "reason"]
ANY = "*"  # wildcard tier (promotions) or scope (exemptions) in the joined tables


def to_e4(amount: Decimal | str | int | None, rounding: str | None = None) -> int:
    """``amount`` in exact ten-thousandths (``NA_E4`` for ``None``); refuses floats and >4 decimals.

    With ``rounding`` (``ROUND_CEILING``/``ROUND_FLOOR``) a finer amount is rounded instead of refused.
    """
    if amount is None:
        return NA_E4
    if isinstance(amount, float):
        raise TypeError("money must be Decimal or str, not float")
    scaled = Decimal(amount) * SCALE
    if scaled != scaled.to_integral_value():
        if rounding is None:
            raise ValueError(f"{amount} has more than 4 decimals")
        scaled = scaled.to_integral_value(rounding=rounding)
    return int(scaled)


def from_e4(value: int) -> Decimal | None:
    """The ``Decimal`` of a ten-thousandths integer (``None`` for ``NA_E4``), at least two decimals."""
    if value == NA_E4:
        return None
    amount = Decimal(int(value)).scaleb(-4)
    return amount.quantize(Decimal("0.01")) if value % 100 == 0 else amount.normalize()


def _dec(value: Any) -> Decimal | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return Decimal(str(value)) if not isinstance(value, Decimal) else value


def _utc(value: datetime) -> pd.Timestamp:
    if value.tzinfo is None:
        raise ValueError("naive datetime in rule tables: instants must be aware")
    return pd.Timestamp(value).tz_convert("UTC")


def base_row(
    *, version: int, scope: str, kind: str, key: str, tier: str | None = None, floor: Decimal | None = None,
    map: Decimal | None = None, msrp: Decimal | None = None, recommended: Decimal | None = None,
    maximum: Decimal | None = None, tolerance: Decimal | None = None, tolerance_pct: Decimal | None = None,
    currency: str, rule_ref: str = "",
) -> dict[str, Any]:
    """One base-rule row: a SKU or category rule merged with one tier's override (``tier`` None: none).

    ``floor`` is the map floor before windows (``map`` raised to the discounted MSRP); a percentage
    tolerance is kept as ten-thousandths of a percent so the engine applies it to the floor in force
    after windows, exactly.
    """
    return {
        "version": int(version), "scope": scope, "kind": kind, "key": key, "tier": tier or NO_TIER,
        "floor_e4": to_e4(_dec(floor)), "map_e4": to_e4(_dec(map)),
        "tol_e4": to_e4(_dec(tolerance)) if tolerance is not None else 0,
        "tol_pct_e4": to_e4(_dec(tolerance_pct)) if tolerance_pct is not None else NA_E4,
        "msrp_e4": to_e4(_dec(msrp)), "recommended_e4": to_e4(_dec(recommended)),
        "maximum_e4": to_e4(_dec(maximum)), "currency": currency, "rule_ref": rule_ref,
    }


def promo_row(
    *, version: int, scope: str, kind: str, key: str, tier: str | None, price: Decimal,
    start: datetime, end: datetime, name: str = "",
) -> dict[str, Any]:
    """One promotion row for one SKU or category and one tier (``None``: sellers without a tier)."""
    return {
        "version": int(version), "scope": scope, "kind": kind, "key": key, "tier": tier or NO_TIER,
        "price_e4": to_e4(price), "start": _utc(start), "end": _utc(end), "name": name,
    }


def exemption_row(
    *, version: int, partner: str, scope: str | None, kind: str, key: str, floor: Decimal,
    start: datetime, end: datetime, reason: str = "",
) -> dict[str, Any]:
    """One partner exemption row for one SKU or category (``scope`` None: any map scope)."""
    return {
        "version": int(version), "partner": partner, "scope": scope or ANY, "kind": kind, "key": key,
        "floor_e4": to_e4(floor), "start": _utc(start), "end": _utc(end), "reason": reason,
    }


@dataclass(frozen=True)
class RuleFrames:
    """All published policy versions as five small DataFrames (see module docstring)."""

    versions: pd.DataFrame
    scopes: pd.DataFrame
    base: pd.DataFrame
    promotions: pd.DataFrame
    exemptions: pd.DataFrame
    # (version, scope) -> {"window_days": int, "steps": [{"name", "after", ...}]} for escalation.
    ladders: Mapping[tuple[int, str], Mapping[str, Any]]

    @classmethod
    def from_records(
        cls,
        *,
        versions: Iterable[Mapping[str, Any]],
        scopes: Iterable[Mapping[str, Any]],
        base: Iterable[Mapping[str, Any]],
        promotions: Iterable[Mapping[str, Any]] = (),
        exemptions: Iterable[Mapping[str, Any]] = (),
        ladders: Mapping[tuple[int, str], Mapping[str, Any]] | None = None,
    ) -> RuleFrames:
        """Build the frames; ``versions`` rows are ``{version, effective_from (aware)}``."""
        vrows = [{"version": int(v["version"]), "effective_from": _utc(v["effective_from"])} for v in versions]
        vf = pd.DataFrame(vrows, columns=VERSION_COLUMNS)
        vf["effective_from"] = pd.to_datetime(vf["effective_from"], utc=True).astype("datetime64[ns, UTC]")
        # Ties on effective_from go to the higher version number (it corrects the earlier one).
        vf = vf.sort_values(["effective_from", "version"], kind="stable").reset_index(drop=True)
        sf = pd.DataFrame(list(scopes), columns=SCOPE_COLUMNS)
        bf = pd.DataFrame(list(base), columns=BASE_COLUMNS)
        pf = pd.DataFrame(list(promotions), columns=PROMO_COLUMNS)
        ef = pd.DataFrame(list(exemptions), columns=EXEMPTION_COLUMNS)
        for frame in (pf, ef):
            for col in ("start", "end"):
                frame[col] = pd.to_datetime(frame[col], utc=True).astype("datetime64[ns, UTC]")
        return cls(vf, sf, bf, pf, ef, dict(ladders or {}))

    def ladder(self, version: int, scope: str) -> Mapping[str, Any] | None:
        """The escalation ladder of ``scope`` in ``version`` (``None`` when the scope has none)."""
        return self.ladders.get((int(version), scope))
