"""The rules: pure, vectorised judgements of observations against the resolved rule frame.

Each rule is a boolean mask over the rows; a row can break several rules (below MAP and beyond the
maximum discount are two findings). The mode of the scope decides what a breach *is* (see
:data:`detection.engine.RULE_KIND`): in ``recommended`` scopes price findings are deviations, in
``observe`` scopes nothing is flagged. A hidden price (cart or login only) in a ``map`` scope that
conceals a price below the floor, or whose hidden price is unknown, is a ``hidden_price`` finding of
its own, never a MAP breach or a missing price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from detection.engine import HIDDEN_VISIBILITY, MAP, MAXIMUM, MODES, RECOMMENDED, RULE_KIND, resolve_arrays
from detection.tables import NA_E4, RuleFrames

KINDS = ("violation", "deviation")
RULES = ("below_map", "max_discount", "above_msrp", "below_recommended", "above_maximum", "hidden_price",
         "unauthorised_seller")
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
    ``resolved``: the rule in force for each observation (``resolve_arrays``).
    """

    findings: pd.DataFrame
    judged: np.ndarray
    compliant: np.ndarray
    resolved: Mapping[str, np.ndarray]


def judge(obs: pd.DataFrame, rf: RuleFrames) -> Judgement:
    """Resolve then evaluate: the whole rules pass over an observations frame."""
    return evaluate(obs, resolve_arrays(obs, rf), rf)


def _visibility_hidden(obs: pd.DataFrame) -> np.ndarray:
    column = obs["visibility"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        hidden_codes = np.flatnonzero(column.cat.categories.isin(HIDDEN_VISIBILITY))
        return np.asarray(np.isin(column.cat.codes.to_numpy(), hidden_codes), dtype=bool)
    return np.asarray(column.isin(HIDDEN_VISIBILITY).to_numpy(dtype=bool), dtype=bool)


def evaluate(obs: pd.DataFrame, res: Mapping[str, np.ndarray], rf: RuleFrames) -> Judgement:
    """Judge every observation against its resolved rule (``resolve_arrays``); see the module doc."""
    n = len(obs)
    price = obs["price_e4"].to_numpy(dtype=np.int64)
    mode = res["mode_code"]
    has_rule, has_scope = res["has_rule"], res["has_scope"]
    hidden = _visibility_hidden(obs)
    # A price is judged only when shown to every shopper, in the currency of the rule, and sold by a
    # partner: an unknown seller is outside the policy, its finding is being unauthorised.
    known = obs["partner"].notna().to_numpy(dtype=bool) if "partner" in obs else np.ones(n, dtype=bool)
    priced = (price != NA_E4) & ~hidden & has_rule & res["currency_match"] & known
    floor, base_floor, map_price = res["floor_e4"], res["base_floor_e4"], res["map_e4"]
    tol, tol_pct, msrp = res["tol_e4"], res["tol_pct_e4"], res["msrp_e4"]
    reco, cap = res["recommended_e4"], res["maximum_e4"]
    is_map, is_reco, is_max = mode == MAP, mode == RECOMMENDED, mode == MAXIMUM
    acting = is_map | is_reco | is_max
    authorised = obs["authorised"].to_numpy(dtype=bool) if "authorised" in obs else np.ones(n, dtype=bool)

    below_floor = priced & (floor != NA_E4) & below(price, floor, tol, tol_pct)
    # The floor was raised above MAP by msrp less max_discount_pct and no window lowered it: a price
    # that clears MAP but not that floor breaks the discount rule, not MAP.
    by_discount = (floor == base_floor) & (map_price != NA_E4) & (base_floor > map_price) \
        & ~below(price, map_price, tol, tol_pct)
    # A price shown only in the cart or after login is not advertised: it is judged as hidden
    # pricing when it conceals a price below the floor, or when the hidden price is unknown.
    cart_known = (price != NA_E4) & res["currency_match"]
    hidden_breach = is_map & has_rule & hidden & known & (floor != NA_E4) & (
        ~cart_known | below(price, floor, tol, tol_pct))
    # (rule, mask, allowed price, below: gap = allowed - observed, else observed - allowed)
    checks: list[tuple[str, np.ndarray, np.ndarray, bool]] = [
        ("below_map", is_map & below_floor & ~by_discount, floor, True),
        ("max_discount", is_map & below_floor & by_discount, floor, True),
        ("above_msrp", acting & priced & (msrp != NA_E4) & (price > msrp), msrp, False),
        ("below_recommended", is_reco & priced & (reco != NA_E4) & (price < reco), reco, True),
        ("above_maximum", is_max & priced & (cap != NA_E4) & above(price, cap, tol, tol_pct), cap, False),
        ("hidden_price", hidden_breach, floor, True),
        ("unauthorised_seller", has_scope & acting & ~authorised, np.full(n, NA_E4, dtype=np.int64), True),
    ]
    kind_codes = np.array([KINDS.index(k) for k in KINDS], dtype=np.int8)
    parts = []
    violated = np.zeros(n, dtype=bool)
    for rule, mask, allowed, is_below in checks:
        pos = np.flatnonzero(mask)
        if len(pos) == 0:
            continue
        # Kind by mode: index MODES -> KINDS code, -1 where the rule is nothing in that mode.
        by_mode = np.array([KINDS.index(RULE_KIND[rule][m]) if m in RULE_KIND[rule] else -1 for m in MODES],
                           dtype=np.int8)
        kinds = by_mode[mode[pos]]
        keep = kinds >= 0
        pos, kinds = pos[keep], kinds[keep]
        violated[pos[kinds == kind_codes[0]]] = True
        obs_p, allow_p = price[pos], allowed[pos]
        comparable = (obs_p != NA_E4) & (allow_p != NA_E4)
        gap = np.where(comparable, (allow_p - obs_p) if is_below else (obs_p - allow_p), NA_E4)
        parts.append((rule, pos, kinds, obs_p, allow_p, gap))
    findings = _findings_frame(parts, res, rf, obs)
    judged = has_scope & acting & (priced | (is_map & has_rule & hidden & known & (floor != NA_E4)) | ~authorised)
    return Judgement(findings, judged, judged & ~violated, res)


def _findings_frame(parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                    res: Mapping[str, np.ndarray], rf: RuleFrames, obs: pd.DataFrame) -> pd.DataFrame:
    """One row per finding; strings are looked up for the finding rows only."""
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    pos = np.concatenate([p[1] for p in parts])
    rules = pd.Categorical.from_codes(np.concatenate([np.full(len(p[1]), RULES.index(p[0]), dtype=np.int8)
                                                      for p in parts]), categories=list(RULES))
    kinds = pd.Categorical.from_codes(np.concatenate([p[2] for p in parts]), categories=list(KINDS))
    mode = pd.Categorical.from_codes(res["mode_code"][pos], categories=list(MODES))
    scope_row, rule_row = res["scope_row"][pos], res["rule_row"][pos]
    scope_names = rf.scopes["scope"].to_numpy(dtype=object)
    rule_refs = rf.base["rule_ref"].to_numpy(dtype=object)
    return pd.DataFrame({
        "pos": pos, "rule": rules, "kind": kinds, "mode": mode,
        "scope": np.where(scope_row >= 0, scope_names[np.maximum(scope_row, 0)], None) if len(scope_names)
        else None,
        "version": res["version"][pos],
        "rule_ref": np.where(rule_row >= 0, rule_refs[np.maximum(rule_row, 0)], None) if len(rule_refs) else None,
        "observed_e4": np.concatenate([p[3] for p in parts]),
        "allowed_e4": np.concatenate([p[4] for p in parts]),
        "gap_e4": np.concatenate([p[5] for p in parts]),
        "currency": obs["currency"].take(pos).to_numpy(),
    })


PCT_SCALE = 100 * 10_000  # 100 % in ten-thousandths of a percent


def below(price: np.ndarray, floor: np.ndarray, tol: np.ndarray, tol_pct: np.ndarray) -> np.ndarray:
    """``price < floor - tolerance``, exactly, with an absolute or percentage tolerance (e4 ints)."""
    with_pct = tol_pct != NA_E4
    return np.asarray(np.where(with_pct, price * PCT_SCALE < floor * (PCT_SCALE - tol_pct), price < floor - tol),
                      dtype=bool)


def above(price: np.ndarray, cap: np.ndarray, tol: np.ndarray, tol_pct: np.ndarray) -> np.ndarray:
    """``price > cap + tolerance``, exactly, with an absolute or percentage tolerance (e4 ints)."""
    with_pct = tol_pct != NA_E4
    return np.asarray(np.where(with_pct, price * PCT_SCALE > cap * (PCT_SCALE + tol_pct), price > cap + tol),
                      dtype=bool)


def stale_listings(last_valid: pd.DataFrame, now: pd.Timestamp, stale_after_days: int) -> pd.DataFrame:
    """Listings with no valid observation for ``stale_after_days``: rows of ``last_valid`` that are stale.

    ``last_valid`` has ``listing_id`` and ``last_valid_at`` (NaT when never observed with a price).
    """
    cutoff = now - pd.Timedelta(days=stale_after_days)
    last = last_valid["last_valid_at"]
    return last_valid[last.isna() | (last < cutoff)].reset_index(drop=True)
