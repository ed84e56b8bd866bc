"""The rules: pure, vectorised judgements of observations against the resolved rule frame.

Each rule is a boolean mask over the rows; a row can break several rules (below MAP and beyond the
maximum discount are two findings). The mode of the scope decides what a breach *is* (see
:data:`detection.engine.RULE_KIND`): in ``recommended`` scopes price findings are deviations, in
``observe`` scopes nothing is flagged. A hidden price (cart or login only) in a ``map`` scope is a
``hidden_price`` finding of its own, never a MAP breach or a missing price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from detection.engine import HIDDEN_VISIBILITY, RULE_KIND, resolve_frame
from detection.tables import NA_E4, RuleFrames

FINDING_COLUMNS = [
    "pos", "rule", "kind", "mode", "scope", "version", "rule_ref", "observed_e4", "allowed_e4", "gap_e4",
    "currency",
]


@dataclass(frozen=True)
class Judgement:
    """The outcome of one rules pass.

    ``findings``: one row per (observation, rule broken), ``pos`` being the observation's position in
    the input frame. ``judged``/``compliant``: per observation (aligned with the input), whether a
    rule could judge it and whether it broke no rule that is a violation in its scope.
    ``resolved``: the rule in force for each observation.
    """

    findings: pd.DataFrame
    judged: np.ndarray
    compliant: np.ndarray
    resolved: pd.DataFrame


def judge(obs: pd.DataFrame, rf: RuleFrames) -> Judgement:
    """Resolve then evaluate: the whole rules pass over an observations frame."""
    return evaluate(obs, resolve_frame(obs, rf))


def evaluate(obs: pd.DataFrame, res: pd.DataFrame) -> Judgement:
    """Judge every observation against its resolved rule; see the module docstring for the rules."""
    n = len(obs)
    price = obs["price_e4"].to_numpy(dtype=np.int64)
    visibility = obs["visibility"].astype(object).to_numpy(dtype=object)
    currency = obs["currency"].astype(object).to_numpy(dtype=object)
    mode = res["mode"].to_numpy(dtype=object)
    has_rule = res["has_rule"].to_numpy(dtype=bool)
    has_scope = res["has_scope"].to_numpy(dtype=bool)
    hidden = np.isin(visibility, HIDDEN_VISIBILITY)
    # A price is judged only when shown to every shopper and in the currency of the rule.
    priced = (price != NA_E4) & ~hidden & has_rule & (currency == res["rule_currency"].to_numpy(dtype=object))

    floor = res["floor_e4"].to_numpy(dtype=np.int64)
    base_floor = res["base_floor_e4"].to_numpy(dtype=np.int64)
    map_price = res["map_e4"].to_numpy(dtype=np.int64)
    tol = res["tol_e4"].to_numpy(dtype=np.int64)
    tol_pct = res["tol_pct_e4"].to_numpy(dtype=np.int64)
    msrp = res["msrp_e4"].to_numpy(dtype=np.int64)
    reco = res["recommended_e4"].to_numpy(dtype=np.int64)
    cap = res["maximum_e4"].to_numpy(dtype=np.int64)
    is_map, is_reco, is_max = mode == "map", mode == "recommended", mode == "maximum"
    authorised = obs["authorised"].to_numpy(dtype=bool) if "authorised" in obs else np.ones(n, dtype=bool)

    below_floor = priced & (floor != NA_E4) & below(price, floor, tol, tol_pct)
    # The floor was raised above MAP by msrp less max_discount_pct and no window lowered it: a price
    # that clears MAP but not that floor breaks the discount rule, not MAP.
    by_discount = (floor == base_floor) & (map_price != NA_E4) & (base_floor > map_price) \
        & ~below(price, map_price, tol, tol_pct)
    # (rule, mask, allowed price, below: gap = allowed - observed, else observed - allowed)
    checks: list[tuple[str, np.ndarray, np.ndarray, bool]] = [
        ("below_map", is_map & below_floor & ~by_discount, floor, True),
        ("max_discount", is_map & below_floor & by_discount, floor, True),
        ("above_msrp", (is_map | is_reco | is_max) & priced & (msrp != NA_E4) & (price > msrp), msrp, False),
        ("below_recommended", is_reco & priced & (reco != NA_E4) & (price < reco), reco, True),
        ("above_maximum", is_max & priced & (cap != NA_E4) & above(price, cap, tol, tol_pct), cap, False),
        ("hidden_price", is_map & has_rule & hidden, floor, True),
        ("unauthorised_seller", has_scope & (is_map | is_reco | is_max) & ~authorised,
         np.full(n, NA_E4, dtype=np.int64), True),
    ]
    parts = []
    violated = np.zeros(n, dtype=bool)
    for rule, mask, allowed, is_below in checks:
        pos = np.flatnonzero(mask)
        if len(pos) == 0:
            continue
        kinds = pd.Series(mode[pos]).map(RULE_KIND[rule]).to_numpy(dtype=object)
        violated[pos[kinds == "violation"]] = True
        obs_p, allow_p = price[pos], allowed[pos]
        comparable = (obs_p != NA_E4) & (allow_p != NA_E4)
        # A hidden price has no advertised amount to measure against the floor.
        comparable &= rule != "hidden_price"
        gap = np.where(comparable, (allow_p - obs_p) if is_below else (obs_p - allow_p), NA_E4)
        parts.append(pd.DataFrame({
            "pos": pos, "rule": rule, "kind": kinds, "mode": mode[pos],
            "scope": res["scope"].to_numpy(dtype=object)[pos],
            "version": res["version"].to_numpy(dtype=np.int64)[pos],
            "rule_ref": res["rule_ref"].to_numpy(dtype=object)[pos],
            "observed_e4": obs_p, "allowed_e4": allow_p, "gap_e4": gap, "currency": currency[pos],
        }))
    findings = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FINDING_COLUMNS))
    findings = findings[findings["kind"].notna()] if len(findings) else findings
    judged = has_scope & ~(mode == "observe") & (priced | (is_map & has_rule & hidden) | ~authorised)
    return Judgement(findings.reset_index(drop=True), judged, judged & ~violated, res)


PCT_SCALE = 100 * 10_000  # 100 % in ten-thousandths of a percent


def below(price: np.ndarray, floor: np.ndarray, tol: np.ndarray, tol_pct: np.ndarray) -> np.ndarray:
    """``price < floor - tolerance``, exactly, with an absolute or percentage tolerance (e4 ints)."""
    with_pct = tol_pct != NA_E4
    return np.where(with_pct, price * PCT_SCALE < floor * (PCT_SCALE - tol_pct), price < floor - tol)


def above(price: np.ndarray, cap: np.ndarray, tol: np.ndarray, tol_pct: np.ndarray) -> np.ndarray:
    """``price > cap + tolerance``, exactly, with an absolute or percentage tolerance (e4 ints)."""
    with_pct = tol_pct != NA_E4
    return np.where(with_pct, price * PCT_SCALE > cap * (PCT_SCALE + tol_pct), price > cap + tol)


def stale_listings(last_valid: pd.DataFrame, now: pd.Timestamp, stale_after_days: int) -> pd.DataFrame:
    """Listings with no valid observation for ``stale_after_days``: rows of ``last_valid`` that are stale.

    ``last_valid`` has ``listing_id`` and ``last_valid_at`` (NaT when never observed with a price).
    """
    cutoff = now - pd.Timedelta(days=stale_after_days)
    last = last_valid["last_valid_at"]
    return last_valid[last.isna() | (last < cutoff)].reset_index(drop=True)
