"""Anomaly models over price history: what no rule names, sent to review as ``kind=anomaly``.

Features per observation (one series per SKU, seller and listing, in time order):

* ``drop_pct``: change against the seller's own baseline, the rolling median of its previous
  prices (negative = cheaper);
* ``market_gap_pct``: distance from the SKU's cross-seller median that day;
* ``market_z``: the same as a z-score against the day's cross-seller spread;
* ``sellers_dropping``: distinct sellers of the SKU (in one currency) that dropped by half of
  ``anomaly_drop_pct`` or more within the last ``anomaly_price_war_days`` (a price war cascading
  across sellers);
* ``report_gap_pct``: partner-reported price against the web price nearest in time.

An IsolationForest (``contamination`` from settings) ranks the points; a point is an anomaly only
when the forest isolates it *and* an explicit threshold explains it, so every anomaly records which
features drove it and against which baseline, and a stable history yields nothing. A price at a
floor lowered by a promotion or exemption window is explained by that window and never an anomaly.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from detection.tables import NA_E4
from store import AnomalyModel

if TYPE_CHECKING:
    from detection.run import DetectSummary

FEATURES = ["drop_pct", "market_gap_pct", "market_z", "sellers_dropping", "report_gap_pct"]
ANOMALY_RULES = ("price_war", "sudden_drop", "market_drag", "report_drift")
BASELINE_WINDOW = 5
PRICE_WAR_DAYS = 7
PRICE_WAR_SELLERS = 3
FIT_SAMPLE = 100_000  # points the forest is fitted on at most (a seeded sample of the history)


@dataclass(frozen=True)
class AnomalyParams:
    """Thresholds that turn an isolated point into an explained anomaly."""

    contamination: float = 0.02
    min_history: int = 5
    drop_pct: float = 15.0
    report_drift_pct: float = 5.0
    price_war_days: int = PRICE_WAR_DAYS
    price_war_sellers: int = PRICE_WAR_SELLERS

    @property
    def war_drop_pct(self) -> float:
        """A seller counts as dropping in a price war at half the sudden-drop threshold: a cascade of
        moderate cuts across sellers is the signal, not one deep cut."""
        return self.drop_pct / 2

    @classmethod
    def from_settings(cls) -> AnomalyParams:
        """The parameters configured in ``detection.*`` settings."""
        from pricewarden.settings import get_settings

        cfg = get_settings().detection
        return cls(contamination=cfg.anomaly_contamination, min_history=cfg.anomaly_min_history,
                   drop_pct=cfg.anomaly_drop_pct, report_drift_pct=max(5 * cfg.misreport_tolerance_pct, 5.0),
                   price_war_days=cfg.anomaly_price_war_days, price_war_sellers=cfg.anomaly_price_war_sellers)


def features(obs: pd.DataFrame, params: AnomalyParams, reports: pd.DataFrame | None = None) -> pd.DataFrame:
    """Engineered features per priced, visible observation (index aligned with those rows of ``obs``).

    ``obs`` needs ``observed_at, sku, party, price_e4, visibility``; ``reports`` (optional) has
    ``observed_at, sku, party, price_e4`` of partner-reported prices.
    """
    priced = obs[(obs["price_e4"] != NA_E4) & (obs["visibility"].astype(str) == "visible")]
    frame = priced[["observed_at", "sku", "party", "price_e4"]].copy()
    frame["sku"] = frame["sku"].astype(str)
    # One series per SKU, seller and listing: a partner's own shop and its marketplace offer are
    # two price histories, not one.
    n = len(frame)
    listing = (pd.to_numeric(priced["listing_id"]).fillna(-1).astype(np.int64)
               if "listing_id" in priced else pd.Series([""] * n, index=frame.index))
    # Sorted and grouped by the rank of their text (the same order and groups as by the text itself),
    # the text made once per distinct series or market, not per row.
    frame["series_key"], series = _text_keys([frame["sku"], frame["party"], listing])
    frame["series"] = series
    # A market is one SKU in one currency: prices in CNY and USD are never compared.
    currency = priced["currency"] if "currency" in priced else pd.Series([""] * n, index=frame.index)
    frame["market"], _ = _text_keys([frame["sku"], currency])
    frame["in_window"] = priced["in_window"].to_numpy(dtype=bool) if "in_window" in priced else False
    frame["party"] = frame["party"].astype(str)
    frame["price"] = frame["price_e4"].astype(np.float64) / 10_000  # model features only, never money
    frame = frame.sort_values(["series_key", "observed_at"], kind="stable")
    frame["baseline"], frame["history"] = _baselines(frame, max(BASELINE_WINDOW, params.min_history),
                                                     params.min_history)
    frame["drop_pct"] = (frame["price"] - frame["baseline"]) / frame["baseline"] * 100

    frame["day"] = frame["observed_at"].dt.floor("D")
    day = frame.groupby(["market", "day"])["price"]
    frame["market_median"] = day.transform("median")
    # Distinct sellers per market and day: the distinct (group, seller) pairs counted per group.
    group = day.ngroup().to_numpy(dtype=np.int64)
    party_codes, party_names = pd.factorize(frame["party"])
    pairs = pd.unique(group * max(len(party_names), 1) + party_codes)
    frame["market_sellers"] = np.bincount(pairs // max(len(party_names), 1), minlength=int(group.max()) + 1)[group]
    spread = day.transform("std").fillna(0.0)
    spread = np.maximum(spread, frame["market_median"] * 0.01)
    frame["market_gap_pct"] = np.where(frame["market_sellers"] >= 3,
                                       (frame["price"] - frame["market_median"]) / frame["market_median"] * 100, 0.0)
    frame["market_z"] = np.where(frame["market_sellers"] >= 3, (frame["price"] - frame["market_median"]) / spread, 0.0)

    frame["sellers_dropping"] = _sellers_dropping(frame, params, party_codes)
    frame["report_gap_pct"] = _report_gap(frame, reports)
    return frame


def _baselines(frame: pd.DataFrame, window: int, min_periods: int) -> tuple[Any, Any]:
    """Each point's baseline (the median of up to ``window`` previous prices of its series, at least
    ``min_periods`` of them) and how many points of its series precede it; ``frame`` sorted by series.

    A full window (``min_periods == window``, the default) is the median of ``window`` shifted columns,
    by numpy for every row at once; otherwise pandas' rolling median per series.
    """
    keys = frame["series_key"].to_numpy(dtype=np.float64)
    n = len(frame)
    if window == min_periods and n and not np.isnan(keys).any():
        prices = frame["price"].to_numpy(dtype=np.float64)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        history = np.arange(n, dtype=np.int64) - np.repeat(starts, np.diff(np.r_[starts, n]))
        baseline = np.full(n, np.nan)
        rows = np.flatnonzero(history >= window)
        if len(rows):
            # An odd window's median is one of the prices; an even one's the mean of the middle two, as
            # pandas computes it.
            baseline[rows] = np.median(np.stack([prices[rows - k] for k in range(1, window + 1)]), axis=0)
        return baseline, history
    grouped = frame.groupby("series_key", sort=False)["price"]
    rolling = grouped.shift(1).groupby(frame["series_key"], sort=False).rolling(
        window, min_periods=min_periods).median()
    return rolling.reset_index(level=0, drop=True), grouped.cumcount()


def _text_keys(parts: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """The ``|``-joined text of ``parts`` (each as ``astype(str)`` writes it) per row, as its rank among
    the distinct texts (float, NaN where a part is missing) and as the text itself (object).

    The text is made once per distinct combination; sorting or grouping by the rank is sorting or
    grouping by the text, without comparing or hashing a string per row.
    """
    n = len(parts[0])
    combined = np.zeros(n, dtype=np.int64)
    missing = np.zeros(n, dtype=bool)
    columns: list[tuple[np.ndarray, np.ndarray]] = []
    for part in parts:
        codes, uniques = pd.factorize(part, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        texts = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str)
        absent = texts.isna().to_numpy()
        missing |= (codes < 0) | (absent[codes] if len(absent) else False)
        columns.append((codes, texts.to_numpy(dtype=object)))
        combined = np.asarray(pd.factorize(combined * (len(uniques) + 1) + codes + 1)[0], dtype=np.int64)
    rank = np.full(n, np.nan)
    text = np.full(n, np.nan, dtype=object)
    valid = np.flatnonzero(~missing)
    if not len(valid):
        return rank, text
    _, first, inverse = np.unique(combined[valid], return_index=True, return_inverse=True)
    distinct = np.array(["|".join(str(names[codes[i]]) for codes, names in columns) for i in valid[first]],
                        dtype=object)
    order = np.argsort(distinct, kind="stable")
    ranks = np.empty(len(distinct), dtype=np.int64)
    ranks[order] = np.arange(len(distinct))
    rank[valid] = ranks[inverse.reshape(-1)]
    text[valid] = distinct[inverse.reshape(-1)]
    return rank, text


def _sellers_dropping(frame: pd.DataFrame, params: AnomalyParams, parties: Any = None) -> np.ndarray:
    """Distinct sellers of the market with a drop ≥ war_drop_pct within the window ending at each row.

    A drop at ``d`` counts for the instants ``t`` with ``d <= t < d + window``: each seller's drops
    are merged into intervals that do not overlap, so the sellers dropping at ``t`` are the intervals
    of its market holding ``t``, counted by binary search over the markets' sorted starts and ends
    (no join of every row with every drop of its market). ``parties``: ``pd.factorize(frame["party"])[0]``
    when the caller has it.
    """
    # A seller at a promotion or exemption floor is not fighting a price war.
    dropping = ((frame["drop_pct"] <= -params.war_drop_pct) & ~frame["in_window"].astype(bool)).to_numpy()
    out = np.zeros(len(frame), dtype=np.float64)
    if not dropping.any():
        return out
    window = pd.Timedelta(days=params.price_war_days).value
    markets, names = pd.factorize(frame["market"])
    parties = pd.factorize(frame["party"])[0] if parties is None else parties
    ns = frame["observed_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    d_market, d_party, d_at = markets[dropping], parties[dropping], ns[dropping]
    order = np.lexsort((d_at, d_party, d_market))
    d_market, d_party, d_at = d_market[order], d_party[order], d_at[order]
    # A drop opens a new interval unless the same seller's previous one still covers it.
    same = np.r_[False, (d_market[1:] == d_market[:-1]) & (d_party[1:] == d_party[:-1])]
    fresh = ~same | np.r_[True, d_at[:-1] + window < d_at[1:]]
    group = np.cumsum(fresh) - 1
    starts = d_at[fresh]
    ends = np.zeros(len(starts), dtype=np.int64)
    np.maximum.at(ends, group, d_at + window)
    i_market = d_market[fresh]
    # Instants as ranks, so that (market, instant) is one sortable int64.
    ranks = np.unique(np.concatenate([ns, starts, ends]))
    span = len(ranks) + 1
    start_keys = np.sort(i_market * span + np.searchsorted(ranks, starts))
    end_keys = np.sort(i_market * span + np.searchsorted(ranks, ends))
    row_keys = markets * span + np.searchsorted(ranks, ns)
    opened = np.searchsorted(start_keys, row_keys, side="right") - np.searchsorted(start_keys, markets * span)
    closed = np.searchsorted(end_keys, row_keys, side="right") - np.searchsorted(end_keys, markets * span)
    del names
    return np.asarray(opened - closed, dtype=np.float64)


def _report_gap(frame: pd.DataFrame, reports: pd.DataFrame | None) -> np.ndarray:
    """Reported price vs this web price in percent, for the nearest report within two days."""
    out = np.zeros(len(frame), dtype=np.float64)
    if reports is None or reports.empty:
        return out
    left = frame[["observed_at", "sku", "party", "price"]].assign(row=np.arange(len(frame)))
    left = left.sort_values("observed_at", kind="stable")
    right = reports[["observed_at", "sku", "party", "price_e4"]].copy()
    right["sku"], right["party"] = right["sku"].astype(str), right["party"].astype(str)
    right["reported"] = right["price_e4"].astype(np.float64) / 10_000
    right = right.sort_values("observed_at", kind="stable")
    merged = pd.merge_asof(left, right[["observed_at", "sku", "party", "reported"]], on="observed_at",
                           by=["sku", "party"], direction="nearest", tolerance=pd.Timedelta(days=2))
    gap = ((merged["reported"] - merged["price"]) / merged["price"] * 100).fillna(0.0)
    out[merged["row"].to_numpy(dtype=np.int64)] = gap.to_numpy(dtype=np.float64)
    return out


def explain(row: dict[str, Any], params: AnomalyParams) -> list[dict[str, Any]]:
    """The explicit reasons a point is anomalous, strongest rule first (empty: not explained)."""
    drivers: list[dict[str, Any]] = []
    if row.get("in_window"):
        return []  # a price at a brand-approved promotion or exemption floor explains itself
    if row["sellers_dropping"] >= params.price_war_sellers and row["drop_pct"] <= -params.war_drop_pct:
        drivers.append({"rule": "price_war", "feature": "sellers_dropping", "value": int(row["sellers_dropping"]),
                        "threshold": params.price_war_sellers,
                        "baseline": f"sellers of {row['sku']} dropping ≥{params.war_drop_pct:g}% within "
                                    f"{params.price_war_days} days"})
        drivers.append({"rule": "price_war", "feature": "drop_pct", "value": round(row["drop_pct"], 2),
                        "threshold": -params.war_drop_pct,
                        "baseline": f"rolling median of the seller's previous prices = {row['baseline']:.2f}"})
    if row["drop_pct"] <= -params.drop_pct:
        drivers.append({"rule": "sudden_drop", "feature": "drop_pct", "value": round(row["drop_pct"], 2),
                        "threshold": -params.drop_pct,
                        "baseline": f"rolling median of the seller's previous prices = {row['baseline']:.2f}"})
    if row["market_gap_pct"] <= -params.drop_pct:
        drivers.append({"rule": "market_drag", "feature": "market_gap_pct", "value": round(row["market_gap_pct"], 2),
                        "threshold": -params.drop_pct,
                        "baseline": f"cross-seller median of {row['sku']} that day = {row['market_median']:.2f}"
                                    f" (z {row['market_z']:.1f})"})
    if abs(row["report_gap_pct"]) > params.report_drift_pct:
        drivers.append({"rule": "report_drift", "feature": "report_gap_pct", "value": round(row["report_gap_pct"], 2),
                        "threshold": params.report_drift_pct,
                        "baseline": "web price observed nearest in time to the partner's report"})
    return drivers


def fit(feats: pd.DataFrame, params: AnomalyParams, seed: int = 0) -> Any:
    """An IsolationForest fitted on the modelled rows of ``feats``."""
    return _fitted(feats, params, seed)[0]


def _fitted(feats: pd.DataFrame, params: AnomalyParams, seed: int = 0) -> tuple[Any, np.ndarray]:
    """The forest and its decision values on the rows it was fitted on (negative: isolated).

    The rows are scored once: the forest is grown as ``contamination="auto"`` (the trees do not depend
    on it), then its offset set as scikit-learn's fit sets it for a contamination, the percentile of
    the same scores; the model is the one ``IsolationForest(contamination=...).fit`` makes.
    """
    from sklearn.ensemble import IsolationForest

    model = IsolationForest(n_estimators=100, contamination="auto", random_state=seed)
    matrix = _matrix(feats)
    model.fit(matrix)
    scores = model.score_samples(matrix)
    model.contamination = params.contamination
    model.offset_ = np.percentile(scores, 100.0 * params.contamination)
    return model, scores - model.offset_


def _matrix(feats: pd.DataFrame) -> np.ndarray:
    return np.asarray(feats[FEATURES].fillna(0.0).to_numpy(dtype=np.float64), dtype=np.float64)


def explainable(feats: pd.DataFrame, params: AnomalyParams) -> np.ndarray:
    """Rows that :func:`explain` can explain: the only ones worth scoring (a vectorised :func:`explain`)."""
    drop = feats["drop_pct"].to_numpy(dtype=np.float64)
    war = (feats["sellers_dropping"].to_numpy(dtype=np.float64) >= params.price_war_sellers) \
        & (drop <= -params.war_drop_pct)
    market = feats["market_gap_pct"].to_numpy(dtype=np.float64) <= -params.drop_pct
    report = np.abs(feats["report_gap_pct"].to_numpy(dtype=np.float64)) > params.report_drift_pct
    in_window = feats["in_window"].to_numpy(dtype=bool) if "in_window" in feats else np.zeros(len(feats), dtype=bool)
    return np.asarray(~in_window & (war | (drop <= -params.drop_pct) | market | report), dtype=bool)


def score(model: Any, feats: pd.DataFrame, params: AnomalyParams) -> pd.DataFrame:
    """Explained anomalies among the modelled rows of ``feats``: index, rule, score, drivers.

    A point is an anomaly only when the forest isolates it *and* a threshold explains it, and the
    forest scores each point on its own: so only the points a threshold explains are scored.
    """
    modelled = feats[(feats["history"] >= params.min_history).to_numpy() & explainable(feats, params)]
    if modelled.empty:
        return pd.DataFrame(columns=["index", "rule", "score", "drivers"])
    matrix = _matrix(modelled)
    # The forest's scores once: ``predict`` is -1 where the score minus the model's offset is negative
    # (scikit-learn's own test), so it would score every point a second time.
    every = model.score_samples(matrix)
    isolated = every - model.offset_ < 0
    scores = every[isolated]
    out = []
    for (index, row), value in zip(modelled[isolated].to_dict("index").items(), scores, strict=True):
        drivers = explain(row, params)
        if drivers:
            out.append({"index": index, "rule": drivers[0]["rule"], "score": round(float(value), 4),
                        "drivers": drivers})
    return pd.DataFrame(out, columns=["index", "rule", "score", "drivers"])


@dataclass
class Trained:
    """A model fitted in this run, not stored yet: its pickled artifact and the metrics of its row."""

    artifact: bytes
    metrics: dict[str, Any]


@dataclass
class Scored:
    """What the models made of a frame, without a session: the anomalies found (``found``: index, rule,
    score, drivers; ``None`` when no row is left to judge), the rows judged (``judged``: their index in
    the frame) and the model fitted for it (``trained``, ``None`` when a stored one scored)."""

    found: pd.DataFrame | None
    judged: np.ndarray
    trained: Trained | None


def fit_model(feats: pd.DataFrame, params: AnomalyParams) -> tuple[Any, Trained]:
    """Fit a model on ``feats`` (a bounded, seeded sample of its modelled rows); the model and its artifact."""
    modelled = feats[feats["history"] >= params.min_history]
    # Fitted on a bounded, seeded sample: the forest looks at 256 points per tree anyway, and the
    # contamination threshold is a quantile that a sample estimates well; fitting on every point of
    # a long history costs a score of each.
    sample = modelled if len(modelled) else feats
    if len(sample) > FIT_SAMPLE:
        sample = sample.sample(n=FIT_SAMPLE, random_state=0).sort_index()
    model, decision = _fitted(sample, params)
    buffer = io.BytesIO()
    pickle.dump(model, buffer)
    metrics = {"samples": len(modelled), "fitted_on": len(sample), "series": int(feats["series"].nunique()),
               "isolated_share": float((decision < 0).mean()) if len(modelled) else 0.0}
    return model, Trained(buffer.getvalue(), metrics)


def store_model(session: Session, trained: Trained, params: AnomalyParams) -> AnomalyModel:
    """Store a fitted model as the next ``AnomalyModel`` version (artifact as evidence)."""
    from store.evidence import EvidenceStore

    sha = EvidenceStore.from_settings().put(session, trained.artifact, kind="model",
                                            content_type="application/octet-stream")
    version = (session.scalar(select(func.max(AnomalyModel.version))) or 0) + 1
    row = AnomalyModel(
        version=version, artifact_sha256=sha,
        params={"algorithm": "IsolationForest", "features": FEATURES, "contamination": params.contamination,
                "min_history": params.min_history, "drop_pct": params.drop_pct,
                "report_drift_pct": params.report_drift_pct, "price_war_days": params.price_war_days,
                "price_war_sellers": params.price_war_sellers, "n_estimators": 100, "random_state": 0,
                "fit_sample": FIT_SAMPLE},
        metrics=dict(trained.metrics),
    )
    session.add(row)
    session.flush()
    return row


def train(session: Session, feats: pd.DataFrame, params: AnomalyParams) -> tuple[AnomalyModel, Any]:
    """Fit a model on ``feats`` and store it as the next ``AnomalyModel`` version (artifact as evidence)."""
    model, trained = fit_model(feats, params)
    return store_model(session, trained, params), model


def latest_artifact(session: Session) -> bytes | None:
    """The newest stored model's pickled estimator (verified by its SHA-256), not unpickled."""
    from store.evidence import EvidenceStore

    row = session.scalars(select(AnomalyModel).order_by(AnomalyModel.version.desc())).first()
    if row is None or row.artifact_sha256 is None:
        return None
    return EvidenceStore.from_settings().get(row.artifact_sha256)


def load_latest(session: Session) -> tuple[AnomalyModel, Any] | None:
    """The newest stored model and its fitted estimator (the artifact verified by its SHA-256)."""
    from store.evidence import EvidenceStore

    row = session.scalars(select(AnomalyModel).order_by(AnomalyModel.version.desc())).first()
    if row is None or row.artifact_sha256 is None:
        return None
    data = EvidenceStore.from_settings().get(row.artifact_sha256)
    # Our own artifact, content-addressed and verified against its SHA-256 by the evidence store.
    return row, pickle.loads(data)  # noqa: S301


def reports_frame(session: Session, judge_from: datetime | None) -> pd.DataFrame:
    """The partner-reported prices the features compare with (a report matches a web price within two days)."""
    from detection.frames import observations_frame

    return observations_frame(session, sources=("partner_report",),
                              since=judge_from - timedelta(days=2) if judge_from is not None else None)


def score_frame(obs: pd.DataFrame, params: AnomalyParams, reports: pd.DataFrame | None, stored: bytes | None,
                judge_from: datetime | None = None) -> Scored | None:
    """The models' work on ``obs`` without a session (``detection.forked`` runs it in a child process):
    features, a model fitted when none is ``stored`` (a pickled artifact), the judged rows scored.
    ``None``: no feature row at all (nothing fitted, nothing judged)."""
    feats = features(obs, params, reports)
    if feats.empty:
        return None
    trained = None
    if stored is not None:
        # Our own artifact, content-addressed and verified against its SHA-256 by the evidence store.
        model = pickle.loads(stored)  # noqa: S301
    else:
        model, trained = fit_model(feats, params)
    if judge_from is not None:
        feats = feats[feats["observed_at"] >= pd.Timestamp(judge_from)]
        if feats.empty:
            return Scored(None, np.zeros(0, dtype=np.int64), trained)
    found = score(model, feats, params)
    judged = feats.index[feats["history"] >= params.min_history].to_numpy(dtype=np.int64)
    return Scored(found, judged, trained)


def detect_anomalies(
    session: Session, obs: pd.DataFrame, *, summary: DetectSummary, resolve_after: int, retrain: bool = False,
    params: AnomalyParams | None = None, evidence: Any = None, judge_from: datetime | None = None,
    every_key: bool = False, scored: Any = None, subjects: Any = None,
) -> None:
    """Score the observations with the latest model (training one first if none) and record anomalies.

    With ``judge_from`` the observations before it are context only (the baselines and markets of
    the later ones): they are neither judged nor scored. ``scored``: a ``detection.forked.Pending``
    whose child process has done :func:`score_frame` over the same frame, inputs and model (its result,
    or the work done here if the child failed). ``subjects``: ``detection.episodes.subjects_of(obs)`` when the
    caller has it.
    """
    from detection.episodes import apply_findings

    params = params or AnomalyParams.from_settings()
    if scored is not None:
        result = scored.result(lambda: _scored_here(session, obs, params, retrain, judge_from))
    else:
        result = _scored_here(session, obs, params, retrain, judge_from)
    if result is None:
        return
    if result.trained is not None:
        store_model(session, result.trained, params)
    if result.found is None:
        return
    found = result.found
    pos = found["index"].to_numpy(dtype=np.int64)
    findings = pd.DataFrame({
        "pos": pos, "rule": found["rule"].to_numpy(dtype=object), "kind": "anomaly", "mode": "observe",
        "scope": None, "version": -1, "rule_ref": None,
        "observed_e4": obs["price_e4"].to_numpy(dtype=np.int64)[pos] if len(pos) else np.zeros(0, dtype=np.int64),
        "allowed_e4": NA_E4, "gap_e4": NA_E4,
        "currency": obs["currency"].to_numpy(dtype=object)[pos] if len(pos) else np.zeros(0, dtype=object),
        "explanation": [{"score": s, "drivers": d} for s, d in zip(found["score"], found["drivers"], strict=True)],
    })
    judged = np.zeros(len(obs), dtype=bool)
    judged[result.judged] = True
    if judge_from is not None:
        # The context before judge_from has no event: the lifecycle sees the judged rows only.
        first = int(np.searchsorted(obs["observed_at"].to_numpy(dtype="datetime64[ns]"),
                                    pd.Timestamp(judge_from).tz_convert("UTC").tz_localize(None).to_datetime64()))
        if first:
            findings = findings.assign(pos=pos - first)
            judged, obs = judged[first:], obs.iloc[first:].reset_index(drop=True)
            subjects = None  # of the whole frame
    apply_findings(session, obs, findings, judged, ANOMALY_RULES, resolve_after=resolve_after, frames=None,
                   summary=summary, repeat_window_days=0, evidence=evidence, every_key=every_key,
                   subject_rows=subjects)


def _scored_here(session: Session, obs: pd.DataFrame, params: AnomalyParams, retrain: bool,
                 judge_from: datetime | None) -> Scored | None:
    """:func:`score_frame` in this process, its inputs read from ``session``."""
    reports = reports_frame(session, judge_from)
    return score_frame(obs, params, reports, None if retrain else latest_artifact(session), judge_from)
