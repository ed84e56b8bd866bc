"""The vectorised rules pass: observations joined to the rule in force at their instant, then judged.

Pure functions over DataFrames, no I/O and no Python loop per row. The observations frame has one
row per observation with these columns (extra columns are ignored)::

    observed_at  datetime64[ns, UTC]   the instant it was seen
    sku          str / category        the product
    category     str / category        the product's category (may be missing)
    region       str / category        the market (US, EU, ...): picks the policy scope
    tier         str / category        the partner's tier ("" or missing for unknown sellers)
    partner      str / category        the partner code (missing for an unknown seller)
    price_e4     int64                 advertised price in ten-thousandths, NA_E4 (-1) when none
    currency     str / category        ISO 4217 of the price
    visibility   str / category        visible | cart_only | login_only
    authorised   bool                  the seller is an authorised partner for this SKU

:func:`resolve_frame` is the vectorised twin of ``policies.resolve`` (a property test holds them
equal); :func:`evaluate` turns the resolved frame into findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from detection.tables import ANY, NA_E4, NO_TIER, RuleFrames

PRICE_RULES = ("below_map", "above_msrp", "max_discount", "below_recommended", "above_maximum")
HIDDEN_VISIBILITY = ("cart_only", "login_only")

# What each rule is in each mode: a violation (the mode allows acting on it), a deviation (recorded
# and reported to the brand only), or nothing. Observe flags nothing; recommended never violates
# on price (EU Regulation 2022/720: minimum resale prices are a hardcore restriction).
RULE_KIND: dict[str, dict[str, str]] = {
    "below_map": {"map": "violation"},
    "above_msrp": {"map": "violation", "recommended": "deviation", "maximum": "violation"},
    "max_discount": {"map": "violation"},
    "below_recommended": {"recommended": "deviation"},
    "above_maximum": {"maximum": "violation"},
    "hidden_price": {"map": "violation"},
    "unauthorised_seller": {"map": "violation", "recommended": "violation", "maximum": "violation"},
    "partner_misreport": {"map": "violation", "recommended": "deviation", "maximum": "violation"},
}

RESOLVED_COLUMNS = [
    "version", "scope", "mode", "rule_currency", "base_floor_e4", "floor_e4", "map_e4", "tol_e4",
    "tol_pct_e4", "msrp_e4", "recommended_e4", "maximum_e4", "rule_ref", "has_rule", "has_scope",
]
KNOWN_TIERS = ("A", "B", "C")


def _codes(values: pd.Series | np.ndarray, categories: pd.Index) -> np.ndarray:
    """Integer codes of ``values`` in ``categories`` (-1 where missing or unknown)."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        # Recode the few categories, not the million rows.
        recode = np.append(np.asarray(categories.get_indexer(values.cat.categories), dtype=np.int64), -1)
        return np.asarray(recode[values.cat.codes.to_numpy(dtype=np.int64)], dtype=np.int64)  # -1 -> last: -1
    if len(categories) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    return np.asarray(categories.get_indexer(pd.Index(values, dtype=object)), dtype=np.int64)


def _lookup(keys: np.ndarray, table_keys: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row of ``table_keys`` matching each of ``keys`` (-1 when none or not ``valid``)."""
    if len(table_keys) == 0:
        return np.full(len(keys), -1, dtype=np.int64)
    found = np.asarray(pd.Index(table_keys).get_indexer(keys), dtype=np.int64)
    found[~valid] = -1
    return found


def _version_index(observed_at: pd.Series, rf: RuleFrames) -> np.ndarray:
    """Index (into ``rf.versions``) of the version in force at each instant, -1 before the first.

    This is ``merge_asof(direction="backward")`` on ``effective_from`` without sorting the
    observations: a binary search over the few version starts, sorted by (effective_from, version)
    so that of two versions starting together the higher number wins.
    """
    starts = rf.versions["effective_from"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    instants = observed_at.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    return np.asarray(np.searchsorted(starts, instants, side="right"), dtype=np.int64) - 1


@dataclass(frozen=True)
class _Coder:
    """Combines (version, scope|partner, kind, key, tier) into one int64 key for hash joins."""

    n_mid: int
    n_keys: int
    n_tiers: int

    def __call__(self, v: np.ndarray, mid: np.ndarray, is_sku: np.ndarray | int, k: np.ndarray,
                 t: np.ndarray | int = 0) -> np.ndarray:
        return np.asarray((((v * self.n_mid + mid) * 2 + is_sku) * self.n_keys + k) * self.n_tiers + t, dtype=np.int64)


MODES = ("map", "recommended", "maximum", "observe")
MAP, RECOMMENDED, MAXIMUM, OBSERVE = range(4)


def resolve_frame(obs: pd.DataFrame, rf: RuleFrames) -> pd.DataFrame:
    """The rule in force for each observation (index aligned with ``obs``), prices after windows.

    Version by ``effective_from`` (the last at or before ``observed_at``), scope by region, the SKU
    rule else the category rule, merged with the tier's override; then every promotion (scope, SKU
    or category, tier) and exemption (partner, SKU or category, map scopes) whose [start, end)
    window holds the instant lowers the map floor (or, in recommended scopes, the recommended
    price) to its own when lower. Columns: :data:`RESOLVED_COLUMNS`.
    """
    res = resolve_arrays(obs, rf)
    has_rule, has_scope = res["has_rule"], res["has_scope"]
    frame = pd.DataFrame({name: res[name] for name in RESOLVED_COLUMNS if name in res}, index=obs.index)
    scope_row, rule_row = np.maximum(res["scope_row"], 0), np.maximum(res["rule_row"], 0)
    frame["scope"] = np.where(has_scope, rf.scopes["scope"].to_numpy(dtype=object)[scope_row], None) \
        if len(rf.scopes) else None
    frame["mode"] = np.where(has_scope, rf.scopes["mode"].to_numpy(dtype=object)[scope_row], None) \
        if len(rf.scopes) else None
    for name, column in (("rule_currency", "currency"), ("rule_ref", "rule_ref")):
        frame[name] = np.where(has_rule, rf.base[column].to_numpy(dtype=object)[rule_row], None) \
            if len(rf.base) else None
    return frame[RESOLVED_COLUMNS]


def resolve_arrays(obs: pd.DataFrame, rf: RuleFrames) -> dict[str, np.ndarray]:
    """:func:`resolve_frame` as plain numpy arrays (no strings): what the rules pass uses.

    Besides the numeric columns: ``scope_row`` / ``rule_row`` (rows of ``rf.scopes`` / ``rf.base``,
    -1 for none), ``mode_code`` (index in :data:`MODES`, -1 for none) and ``currency_match`` (the
    observation's currency is the rule's).
    """
    n = len(obs)
    if rf.versions.empty or rf.scopes.empty:
        return _unresolved(n)
    vidx = _version_index(obs["observed_at"], rf)
    version_numbers = rf.versions["version"].to_numpy(dtype=np.int64)
    version_index = pd.Index(version_numbers)

    def vcodes(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(version_index.get_indexer(frame["version"].to_numpy(dtype=np.int64)), dtype=np.int64)

    regions = pd.Index(sorted(set(rf.scopes["region"].astype(str))))
    scopes = pd.Index(sorted(set(rf.scopes["scope"].astype(str))))
    keys = pd.Index(sorted(set(rf.base["key"].unique().astype(str)) | set(rf.promotions["key"].astype(str))
                           | set(rf.exemptions["key"].astype(str))))
    tiers = pd.Index([NO_TIER, *KNOWN_TIERS])
    partners = pd.Index(sorted(set(rf.exemptions["partner"].astype(str))))

    # Scope: (version, region) -> scope row.
    sc = rf.scopes
    sc_keys = vcodes(sc) * len(regions) + _codes(sc["region"].astype(str), regions)
    rcode = _codes(obs["region"], regions)
    scope_row = _lookup(vidx * len(regions) + rcode, sc_keys, (vidx >= 0) & (rcode >= 0))
    has_scope = scope_row >= 0
    safe_scope = np.maximum(scope_row, 0)
    scode = np.where(has_scope, _codes(sc["scope"].astype(str), scopes)[safe_scope], -1)
    mode_code = np.where(has_scope, _codes(sc["mode"].astype(str), pd.Index(MODES))[safe_scope], -1)

    # Base rule: the SKU's rule, else its category's; the row for the seller's tier (or none).
    br = rf.base
    rule_key = _Coder(max(len(scopes), 1), max(len(keys), 1), len(tiers))
    br_keys = rule_key(vcodes(br), _codes(br["scope"].astype(str), scopes),
                       np.asarray(br["kind"].to_numpy(dtype=object) == "sku", dtype=np.int64),
                       _codes(br["key"].astype(str), keys), _codes(br["tier"].astype(str), tiers))
    sku_code = _codes(obs["sku"], keys)
    cat_code = _codes(obs["category"], keys) if "category" in obs else np.full(n, -1, dtype=np.int64)
    tier_code = np.maximum(_codes(obs["tier"], tiers), 0) if "tier" in obs else np.zeros(n, dtype=np.int64)
    ok = has_scope & (scode >= 0)
    rule_row = np.full(n, -1, dtype=np.int64)
    for is_sku, kcode in ((1, sku_code), (0, cat_code)):
        todo = (rule_row < 0) & ok & (kcode >= 0)
        if todo.any():
            found = _lookup(rule_key(vidx, scode, is_sku, kcode, tier_code), br_keys, todo)
            rule_row = np.where(todo, found, rule_row)
    has_rule = rule_row >= 0
    safe_rule = np.maximum(rule_row, 0)

    def take(column: str, fill: int) -> np.ndarray:
        if br.empty:
            return np.full(n, fill, dtype=np.int64)
        return np.where(has_rule, br[column].to_numpy(dtype=np.int64)[safe_rule], fill)

    base_floor = take("floor_e4", NA_E4)
    recommended = take("recommended_e4", NA_E4)
    is_map, is_reco = mode_code == MAP, mode_code == RECOMMENDED
    # The price windows lower: the floor in map scopes, the recommended price in recommended ones.
    reference = np.where(is_map, base_floor, np.where(is_reco, recommended, NA_E4))
    lowerable = has_rule & (reference != NA_E4)
    instants = obs["observed_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ctx = _Ctx(vidx, scode, sku_code, cat_code, tier_code, instants, vcodes, scopes, keys, tiers, partners)
    reference = _apply_promotions(reference, lowerable, ctx, rf)
    reference = _apply_exemptions(reference, lowerable & is_map, ctx, rf, obs)

    currency_match = np.zeros(n, dtype=bool)
    if "currency" in obs and not br.empty:
        currencies = pd.Index(sorted(set(br["currency"].astype(str))))
        rule_currency = _codes(br["currency"].astype(str), currencies)[safe_rule]
        currency_match = has_rule & (rule_currency == _codes(obs["currency"], currencies))
    return {
        "version": np.where(vidx >= 0, version_numbers[np.maximum(vidx, 0)], -1),
        "base_floor_e4": base_floor,
        "floor_e4": np.where(is_map, reference, NA_E4),
        "map_e4": take("map_e4", NA_E4),
        "tol_e4": take("tol_e4", 0),
        "tol_pct_e4": take("tol_pct_e4", NA_E4),
        "msrp_e4": take("msrp_e4", NA_E4),
        "recommended_e4": np.where(is_reco, reference, recommended),
        "maximum_e4": take("maximum_e4", NA_E4),
        "has_rule": has_rule,
        "has_scope": has_scope,
        "scope_row": scope_row,
        "rule_row": rule_row,
        "mode_code": mode_code,
        "currency_match": currency_match,
    }


@dataclass(frozen=True)
class _Ctx:
    """Per-observation codes shared by the window joins."""

    vidx: np.ndarray
    scode: np.ndarray
    sku_code: np.ndarray
    cat_code: np.ndarray
    tier_code: np.ndarray
    instants: np.ndarray
    vcodes: Any
    scopes: pd.Index
    keys: pd.Index
    tiers: pd.Index
    partners: pd.Index


def _unresolved(n: int) -> dict[str, np.ndarray]:
    """The resolved arrays when no policy version is published: nothing applies."""
    na = np.full(n, NA_E4, dtype=np.int64)
    none = np.full(n, -1, dtype=np.int64)
    no = np.zeros(n, dtype=bool)
    return {"version": none, "base_floor_e4": na, "floor_e4": na, "map_e4": na, "tol_e4": np.zeros(n, dtype=np.int64),
            "tol_pct_e4": na, "msrp_e4": na, "recommended_e4": na, "maximum_e4": na, "has_rule": no,
            "has_scope": no, "scope_row": none, "rule_row": none, "mode_code": none, "currency_match": no}


def _window_min(
    reference: np.ndarray, cand_pos: np.ndarray, cand_key: np.ndarray, table_key: np.ndarray,
    table: pd.DataFrame, value_column: str, instants: np.ndarray,
    obs_scope: np.ndarray | None = None,
) -> np.ndarray:
    """Lower ``reference`` at ``cand_pos`` by the rows of ``table`` whose key matches and window holds."""
    hit = np.isin(cand_key, table_key)
    if not hit.any():
        return reference
    pos = cand_pos[hit]
    left = pd.DataFrame({"pos": pos, "key": cand_key[hit], "t": instants[pos]})
    right = pd.DataFrame({
        "key": table_key,
        "start": table["start"].to_numpy(dtype="datetime64[ns]").astype(np.int64),
        "end": table["end"].to_numpy(dtype="datetime64[ns]").astype(np.int64),
        "value": table[value_column].to_numpy(dtype=np.int64),
    })
    if obs_scope is not None:
        left["scope"] = obs_scope[pos]
        right["want_scope"] = table["scope"].to_numpy(dtype=np.int64)
    merged = left.merge(right, on="key", how="inner")
    t = merged["t"].to_numpy()
    inside = (merged["start"].to_numpy() <= t) & (t < merged["end"].to_numpy())
    if obs_scope is not None:
        want = merged["want_scope"].to_numpy()
        inside &= (want < 0) | (want == merged["scope"].to_numpy())
    merged = merged[inside]
    if merged.empty:
        return reference
    best = merged.groupby("pos", sort=False)["value"].min()
    out = reference.copy()
    at = best.index.to_numpy(dtype=np.int64)
    out[at] = np.minimum(out[at], best.to_numpy(dtype=np.int64))
    return out


def _apply_promotions(reference: np.ndarray, lowerable: np.ndarray, ctx: _Ctx, rf: RuleFrames) -> np.ndarray:
    pr = rf.promotions
    if pr.empty or not lowerable.any():
        return reference
    coder = _Coder(max(len(ctx.scopes), 1), max(len(ctx.keys), 1), len(ctx.tiers))
    table_key = coder(ctx.vcodes(pr), _codes(pr["scope"].astype(str), ctx.scopes),
                      np.asarray(pr["kind"].to_numpy(dtype=object) == "sku", dtype=np.int64),
                      _codes(pr["key"].astype(str), ctx.keys), _codes(pr["tier"].astype(str), ctx.tiers))
    for is_sku, kcode in ((1, ctx.sku_code), (0, ctx.cat_code)):
        sel = np.flatnonzero(lowerable & (kcode >= 0) & (ctx.scode >= 0))
        if len(sel):
            cand = coder(ctx.vidx[sel], ctx.scode[sel], is_sku, kcode[sel], ctx.tier_code[sel])
            reference = _window_min(reference, sel, cand, table_key, pr, "price_e4", ctx.instants)
    return reference


def _apply_exemptions(
    reference: np.ndarray, lowerable: np.ndarray, ctx: _Ctx, rf: RuleFrames, obs: pd.DataFrame,
) -> np.ndarray:
    ex = rf.exemptions
    if ex.empty or not lowerable.any() or "partner" not in obs:
        return reference
    coder = _Coder(max(len(ctx.partners), 1), max(len(ctx.keys), 1), 1)
    table_key = coder(ctx.vcodes(ex), _codes(ex["partner"].astype(str), ctx.partners),
                      np.asarray(ex["kind"].to_numpy(dtype=object) == "sku", dtype=np.int64),
                      _codes(ex["key"].astype(str), ctx.keys))
    # Exemption scope as a code (-1 = any map scope) compared after the join.
    named = _codes(ex["scope"].astype(str), ctx.scopes)
    table = ex.assign(scope=np.where(ex["scope"].astype(str) == ANY, -1, np.where(named >= 0, named, -2)))
    pcode = _codes(obs["partner"], ctx.partners)
    for is_sku, kcode in ((1, ctx.sku_code), (0, ctx.cat_code)):
        sel = np.flatnonzero(lowerable & (kcode >= 0) & (pcode >= 0))
        if len(sel):
            cand = coder(ctx.vidx[sel], pcode[sel], is_sku, kcode[sel])
            reference = _window_min(reference, sel, cand, table_key, table, "floor_e4", ctx.instants, ctx.scode)
    return reference
