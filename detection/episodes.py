"""Findings to episodes in bulk: each violation key's events built by column, advanced, written in batches.

The rules pass gives findings as a frame (``pos`` into the observations frame, rule, kind, mode,
money in e4). For every key (rule, subject) touched by a finding or still open, the events after the
episode's watermark are the key's findings plus the subject's other judged observations (compliant
for that rule), in (instant, id) order, which is the frame's order. They are built for all keys at
once with numpy, not per key, and a run of compliant observations is cut to its first
``resolve_after`` and its last: after that many in a row the episode is resolved (or its dismissed
breach is over) and the rest only move the watermark, so :func:`~detection.lifecycle.advance` gives
the same episodes from far fewer events.

Only the findings an episode ends on become full records (with ``Decimal`` money and the page's
evidence, read for those observations only). New episodes are inserted in one batch per pass, in
(first seen, rule, first observation) order, their escalation counts worked out from one query per
pass instead of one per violation.
"""

from __future__ import annotations

import bisect
import functools
import json
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, func, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from detection.lifecycle import (
    ACTIVE,
    DISMISSED,
    OPEN,
    RESOLVED,
    SEVERITIES,
    Episode,
    Event,
    advance,
    episode_of,
    escalation_step,
    severity,
    violation_key,
)
from detection.tables import NA_E4, RuleFrames, from_e4
from store import Violation, audit, audit_batch, audit_many, insert_columns
from store.models import SEARCH_COLUMNS, SEARCH_DDL, SEARCH_TABLE

if TYPE_CHECKING:
    from detection.run import DetectSummary

Evidence = Callable[[Iterable[int]], dict[int, tuple[Any, ...]]]

# New rows from which SQLite's text search is filled after the insert rather than by its trigger.
BULK_SEARCH = 1000

# The columns of a stored episode that the lifecycle reads (its state, and what a change reports).
_STORED = (Violation.id, Violation.key, Violation.kind, Violation.rule, Violation.status, Violation.severity,
           Violation.first_seen_at, Violation.last_seen_at, Violation.resolved_at, Violation.occurrences,
           Violation.compliant_streak, Violation.repeat_number, Violation.escalation_step,
           Violation.first_observation_id, Violation.last_observation_id, Violation.status_reason,
           Violation.observed_price, Violation.allowed_price, Violation.gap, Violation.gap_pct, Violation.url,
           Violation.raw_text, Violation.html_sha256, Violation.screenshot_sha256, Violation.rule_ref,
           Violation.policy_version, Violation.details)


def _none(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _id(value: Any) -> int | None:
    """An id from a frame cell (int, float with NaN, None) as ``int`` or ``None``."""
    value = _none(value)
    return None if value is None else int(value)


def subjects_of(obs: pd.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    """A subject code per observation, the subject (``sku|party|listing``) of each code, and one
    observation position per code."""
    if not len(obs):
        return np.zeros(0, dtype=np.int64), [], np.zeros(0, dtype=np.int64)
    combined = np.zeros(len(obs), dtype=np.int64)
    for column in ("sku", "party", "listing_id"):
        codes, uniques = pd.factorize(obs[column], use_na_sentinel=True)
        combined = combined * (len(uniques) + 1) + (np.asarray(codes, dtype=np.int64) + 1)
    codes, _ = pd.factorize(combined)
    codes = np.asarray(codes, dtype=np.int64)
    first = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    sku, party, listing = (obs[c].to_numpy(dtype=object) for c in ("sku", "party", "listing_id"))
    subjects = []
    for i in first:
        listing_id = _id(listing[i])
        subjects.append(f"{sku[i]}|{party[i]}|{'' if listing_id is None else listing_id}")
    return codes, subjects, first


class _Records:
    """Findings joined with their observation's evidence, money back to ``Decimal``, by findings row.

    Built for many rows at once (:meth:`records`), column by column: each column of the wanted rows is
    taken from the frame once, its missing cells made ``None`` once, and each distinct amount made a
    ``Decimal`` once (a listing's price repeats from crawl to crawl); a first run makes ~90,000 records.
    """

    OBS = ("obs_id", "observed_at", "sku", "party", "tier", "partner_id", "product_id", "listing_id", "seller_id",
           "seller_name", "region", "url", "raw_text", "html_sha256", "screenshot_sha256")
    FINDINGS = ("pos", "rule", "kind", "mode", "scope", "version", "rule_ref", "observed_e4", "allowed_e4", "gap_e4",
                "currency", "explanation")
    IDS = ("partner_id", "product_id", "listing_id")

    def __init__(self, obs: pd.DataFrame, findings: pd.DataFrame) -> None:
        self.obs, self.findings = obs, findings

    def _obs(self, column: str, pos: np.ndarray) -> list[Any]:
        # The wanted cells taken first: a million-row column made objects whole costs more than the records.
        return _plain_cells(self.obs[column].iloc[pos].to_numpy(dtype=object), ids=column in self.IDS)

    def _findings(self, column: str, rows: np.ndarray) -> np.ndarray:
        if column not in self.findings:
            return np.full(len(rows), None, dtype=object)
        return np.asarray(self.findings[column].iloc[rows].to_numpy(dtype=object), dtype=object)

    def columns(self, rows: np.ndarray, evidence: dict[int, tuple[Any, ...]] | None,
                subjects: Callable[[np.ndarray], list[str]]) -> dict[str, list[Any]]:
        """The records of findings rows ``rows`` (in that order, repeats allowed) by column: one list per
        field of :meth:`records` but ``at`` (``evidence``: by observation id, else the frame's columns;
        ``subjects``: the subjects of observation positions)."""
        wanted = np.asarray(rows, dtype=np.int64)
        if not len(wanted):
            return {name: [] for name in ("pos", "obs_id", *_RECORD_FIELDS)}
        pos = self.findings["pos"].to_numpy(dtype=np.int64)[wanted]
        obs_ids = self.obs["obs_id"].to_numpy(dtype=np.int64)[pos].tolist()
        money: dict[int, Decimal | None] = {NA_E4: None}
        e4 = {c: self._findings(c, wanted).astype(np.int64) for c in ("observed_e4", "allowed_e4", "gap_e4")}
        for value in np.unique(np.concatenate(list(e4.values()))).tolist():
            if value not in money:
                money[value] = from_e4(value)
        observed, allowed, gap = ([money[v] for v in e4[c].tolist()] for c in ("observed_e4", "allowed_e4", "gap_e4"))
        pct: dict[tuple[int, int], Decimal | None] = {}
        gap_pct = []
        for g, a in zip(e4["gap_e4"].tolist(), e4["allowed_e4"].tolist(), strict=True):
            if (g, a) not in pct:
                amount, base = money[g], money[a]
                pct[(g, a)] = (amount * 100 / base).quantize(Decimal("0.01")) if amount is not None and base else None
            gap_pct.append(pct[(g, a)])
        if evidence is not None:
            found = [evidence.get(i, (None, None, None, None)) for i in obs_ids]
            pages = [_plain_cells(np.array([e[k] for e in found] if found else [], dtype=object))
                     for k in range(4)]
        else:
            pages = [self._obs(c, pos) for c in ("url", "raw_text", "html_sha256", "screenshot_sha256")]
        versions = [None if v == -1 else v for v in self._findings("version", wanted).astype(np.int64).tolist()]
        out: dict[str, list[Any]] = {
            "pos": pos.tolist(), "obs_id": obs_ids,
            "rule": [str(v) for v in self._findings("rule", wanted).tolist()],
            "kind": [str(v) for v in self._findings("kind", wanted).tolist()],
            "mode": [None if v is None else str(v) for v in _plain_cells(self._findings("mode", wanted))],
            "scope": _plain_cells(self._findings("scope", wanted)), "version": versions,
            "rule_ref": _plain_cells(self._findings("rule_ref", wanted)),
            "observed_price": observed, "allowed_price": allowed, "gap": gap, "gap_pct": gap_pct,
            "currency": _plain_cells(self._findings("currency", wanted)),
            "sku": self.obs["sku"].iloc[pos].to_numpy(dtype=object).tolist(),
            "party": self.obs["party"].iloc[pos].to_numpy(dtype=object).tolist(),
        }
        for c in ("tier", "partner_id", "product_id", "listing_id", "seller_id", "seller_name", "region"):
            out[c] = self._obs(c, pos)
        out.update({"url": pages[0], "raw_text": pages[1], "html_sha256": pages[2], "screenshot_sha256": pages[3],
                    "explanation": self._findings("explanation", wanted).tolist(), "subject": subjects(pos)})
        return out

    def records(self, rows: Iterable[int], evidence: dict[int, tuple[Any, ...]] | None,
                subjects: Callable[[np.ndarray], list[str]]) -> dict[int, dict[str, Any]]:
        """The records of findings rows ``rows`` by row (see :meth:`columns`), each with its instant ``at``."""
        wanted = np.array(sorted(rows), dtype=np.int64)
        if not len(wanted):
            return {}
        columns = self.columns(wanted, evidence, subjects)
        ns = self.obs["observed_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)[np.asarray(columns["pos"])]
        columns["at"] = pd.to_datetime(ns, utc=True).to_pydatetime().tolist()
        names = list(columns)
        return {row: dict(zip(names, values, strict=True))
                for row, values in zip(wanted.tolist(), zip(*columns.values(), strict=True), strict=True)}


def _plain_cells(values: np.ndarray, *, ids: bool = False) -> list[Any]:
    """Cells of an object column as :func:`_none` (or, ``ids``, :func:`_id`) makes each one, by column."""
    cells: list[Any] = values.tolist()
    if not cells:
        return cells
    missing = pd.isna(values) if values.dtype == object else np.zeros(len(cells), dtype=bool)
    for i in np.flatnonzero(missing).tolist():
        cells[i] = None
    if ids:
        return [None if v is None else int(v) for v in cells]
    # The types present looked at once (in C), each cell converted only when a numpy integer is among them.
    if any(issubclass(kind, np.integer) for kind in set(map(type, cells))):
        return [int(v) if isinstance(v, np.integer) else v for v in cells]
    return cells


def _watermark_positions(ns: np.ndarray, ids: np.ndarray, marks: list[tuple[datetime, int] | None]) -> np.ndarray:
    """For each watermark, the first frame position after it (the frame is in (instant, id) order)."""
    out = np.zeros(len(marks), dtype=np.int64)
    for i, mark in enumerate(marks):
        if mark is None:
            continue
        at = pd.Timestamp(mark[0]).value
        lo = int(np.searchsorted(ns, at, side="left"))
        hi = int(np.searchsorted(ns, at, side="right"))
        out[i] = lo + int(np.searchsorted(ids[lo:hi], mark[1], side="right"))
    return out


def apply_findings(
    session: Session, obs: pd.DataFrame, findings: pd.DataFrame, judged: np.ndarray, rules: Iterable[str], *,
    resolve_after: int, frames: RuleFrames | None, summary: DetectSummary, repeat_window_days: int,
    evidence: Evidence | None = None, every_key: bool = False,
    subject_rows: tuple[np.ndarray, list[str], np.ndarray] | None = None,
) -> None:
    """Advance the lifecycle of every key of ``rules`` touched by ``findings`` or still open (with
    ``every_key``: every stored key of the subjects in ``obs``).

    ``findings`` is the engine's findings frame (``pos`` into ``obs``). ``judged`` marks the
    observations that count as compliant for a key of their subject when they carry no finding of
    the key's rule. ``evidence`` reads (url, raw text, HTML and screenshot hashes) by observation
    id when ``obs`` was loaded without them. ``subject_rows``: :func:`subjects_of` ``obs``, when the caller has it
    (the rules' and the models' passes over one frame).
    """
    rules = tuple(rules)
    n = len(obs)
    if not n:
        return  # no observation, no subject: no episode can move
    subject_codes, subjects, _ = subject_rows if subject_rows is not None else subjects_of(obs)
    subject_index = {s: i for i, s in enumerate(subjects)}
    findings = findings.reset_index(drop=True)
    f_pos = findings["pos"].to_numpy(dtype=np.int64) if len(findings) else np.zeros(0, dtype=np.int64)
    f_rule = findings["rule"].astype(str).to_numpy(dtype=object) if len(findings) else np.zeros(0, dtype=object)
    rule_names = sorted(set(rules) | set(f_rule))
    rule_code = {r: i for i, r in enumerate(rule_names)}
    n_subjects = max(len(subjects), 1)
    f_rcode = np.array([rule_code[r] for r in f_rule], dtype=np.int64)
    f_key = f_rcode * n_subjects + subject_codes[f_pos] if len(findings) else np.zeros(0, dtype=np.int64)

    # The stored rows: the latest episode of each key with findings, and every open (or dismissed,
    # breach going on) episode of these rules.
    key_text: dict[int, str] = {}
    sku, party, listing = (obs[c].to_numpy(dtype=object) for c in ("sku", "party", "listing_id"))
    unique_keys, first_rows = np.unique(f_key, return_index=True)
    for code, row in zip(unique_keys, first_rows, strict=True):
        pos = int(f_pos[row])
        key_text[int(code)] = violation_key(rule_names[int(code) // n_subjects], sku[pos], party[pos],
                                            _id(listing[pos]))
    # Plain columns on the session's connection, no ORM objects: a daily run reads and writes back
    # the latest episode of every key of the subjects it saw (tens of thousands of rows).
    session.flush()
    connection = session.connection()
    latest: dict[str, Any] = {}
    # A key names its rule (lifecycle.violation_key): with no stored row of these rules (a first run's anomaly
    # pass) no key can match, and one probe replaces a query per 500 keys, which PostgreSQL plans as a scan of
    # the whole table while the run's own new rows have no statistics (~0.6 s each at 1M observations).
    if connection.execute(select(Violation.id).where(Violation.rule.in_(rule_names)).limit(1)).first() is not None:
        keys = list(key_text.values())
        for start in range(0, len(keys), 500):
            for found in connection.execute(select(*_STORED).where(Violation.key.in_(keys[start:start + 500]))):
                if found.key not in latest or found.id > latest[found.key].id:
                    latest[found.key] = found
        for open_row in connection.execute(select(*_STORED).where(
                Violation.rule.in_(rules), Violation.status.in_([*ACTIVE, DISMISSED]))):
            if open_row.status == DISMISSED and (open_row.details or {}).get("breach_over"):
                continue
            if open_row.key not in latest or open_row.id > latest[open_row.key].id:
                latest[open_row.key] = open_row
        if every_key:
            # An incremental run reads only recent findings, but a full run would also advance the
            # latest episode of every other key of these subjects (a resolved one's watermark follows
            # the compliant observations): load those too, so that both runs write the same.
            wanted_subjects = set(subjects)
            newest = select(func.max(Violation.id)).where(Violation.rule.in_(rules)).group_by(Violation.key)
            for found in connection.execute(select(*_STORED).where(Violation.id.in_(newest))):
                if found.key not in latest and (found.details or {}).get("subject") in wanted_subjects:
                    latest[found.key] = found
    code_of_key = {text: code for code, text in key_text.items()}
    row_keys: dict[int, str] = dict(key_text)
    for text, row in latest.items():
        if text in code_of_key:
            continue
        subject = (row.details or {}).get("subject")
        index = subject_index.get(subject) if subject is not None else None
        if index is None or row.rule not in rule_code:
            # No observation of its subject here: nothing to advance (the episode stays as it is).
            continue
        code = rule_code[row.rule] * n_subjects + index
        row_keys[code] = text
        code_of_key[text] = code

    key_codes = np.array(sorted(row_keys), dtype=np.int64)
    if not len(key_codes):
        return
    episodes = [episode_of(latest[row_keys[int(c)]]) if row_keys[int(c)] in latest else None for c in key_codes]
    ns = obs["observed_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ids = obs["obs_id"].to_numpy(dtype=np.int64)
    after = _watermark_positions(ns, ids, [e.watermark if e is not None else None for e in episodes])

    # Every (key, position) event: the key's findings, and the subject's judged observations.
    k_subject = key_codes % n_subjects
    judged_pos = np.flatnonzero(judged[:n]) if n else np.zeros(0, dtype=np.int64)
    by_subject = judged_pos[np.argsort(subject_codes[judged_pos], kind="stable")]
    sorted_subjects = subject_codes[by_subject]
    starts = np.searchsorted(sorted_subjects, k_subject, side="left")
    ends = np.searchsorted(sorted_subjects, k_subject, side="right")
    lengths = ends - starts
    key_of_comp = np.repeat(np.arange(len(key_codes)), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    comp_pos = by_subject[np.repeat(starts, lengths) + offsets]
    f_keyidx = np.searchsorted(key_codes, f_key)
    breach_code = f_keyidx * (n + 1) + f_pos
    comp_code = key_of_comp * (n + 1) + comp_pos
    comp_code = comp_code[~np.isin(comp_code, breach_code)]
    codes = np.concatenate([breach_code, comp_code])
    breach = np.concatenate([np.ones(len(breach_code), dtype=bool), np.zeros(len(comp_code), dtype=bool)])
    frow = np.concatenate([np.arange(len(breach_code)), np.full(len(comp_code), -1)])
    order = np.argsort(codes, kind="stable")
    codes, breach, frow = codes[order], breach[order], frow[order]
    e_key, e_pos = codes // (n + 1), codes % (n + 1)
    keep = e_pos >= after[e_key]
    e_key, e_pos, breach, frow = e_key[keep], e_pos[keep], breach[keep], frow[keep]
    # A run of compliant events counts only up to resolve_after; then only its last moves the watermark.
    if len(e_key):
        boundary = np.r_[True, (e_key[1:] != e_key[:-1]) | (breach[1:] != breach[:-1])]
        run_start = np.flatnonzero(boundary)
        run_id = np.cumsum(boundary) - 1
        index_in_run = np.arange(len(e_key)) - run_start[run_id]
        run_end = np.r_[run_start[1:], len(e_key)] - 1
        keep = breach | (index_in_run < resolve_after) | (np.arange(len(e_key)) == run_end[run_id])
        e_key, e_pos, breach, frow = e_key[keep], e_pos[keep], breach[keep], frow[keep]
    bounds = np.searchsorted(e_key, np.arange(len(key_codes) + 1)).tolist()
    # A key with no stored episode starts from nothing: its episodes are worked out by column for all such
    # keys at once (:func:`_first_episodes`, what :func:`advance` makes of the same events); the keys with a
    # stored episode (or an event twice, or resolve_after below 1) go through ``advance`` event by event.
    by_columns = np.array([e is None for e in episodes], dtype=bool) & (resolve_after >= 1)
    twice = np.flatnonzero((e_key[1:] == e_key[:-1]) & (e_pos[1:] == e_pos[:-1]))
    by_columns[e_key[twice]] = False
    fresh = by_columns[e_key]
    fresh_at = np.flatnonzero(fresh)
    firsts = _first_episodes(e_key[fresh], breach[fresh], resolve_after)
    for column in ("first", "last", "mark", "resolve"):
        firsts[column] = np.where(firsts[column] >= 0, fresh_at[np.maximum(firsts[column], 0)], -1)
    # Instants as datetimes only for the events an episode takes one from.
    needed = np.unique(np.concatenate([np.flatnonzero(~fresh), firsts["first"], firsts["last"], firsts["mark"],
                                       firsts["resolve"][firsts["resolve"] >= 0]]))
    at_needed = pd.to_datetime(ns[e_pos[needed]], utc=True).to_pydatetime() if len(needed) else \
        np.zeros(0, dtype=object)

    def at(events: np.ndarray) -> list[datetime]:
        return cast("list[datetime]", at_needed[np.searchsorted(needed, events)].tolist())

    e_ids = ids[e_pos]
    touched: list[tuple[int, Episode]] = []
    for k in np.flatnonzero(~by_columns).tolist():
        lo, hi = bounds[k], bounds[k + 1]
        if lo == hi:
            continue
        # Plain Python lists: the events are made one by one, and a numpy scalar read per cell costs more.
        events = [Event(i, t, {"_row": r} if b else None) for i, t, r, b in zip(
            e_ids[lo:hi].tolist(), at(np.arange(lo, hi)), frow[lo:hi].tolist(), breach[lo:hi].tolist(), strict=True)]
        for result in advance(episodes[k], events, resolve_after):
            touched.append((k, result))

    # Full records for the findings episodes end on, with the evidence of those observations only: by column
    # for the episodes worked out by column, as dicts for those ``advance`` made.
    first_rows = frow[firsts["last"]]
    advanced_rows = {e.finding["_row"] for _, e in touched if e.finding and "_row" in e.finding}
    wanted_rows = advanced_rows | set(first_rows.tolist())
    found_evidence = evidence([int(ids[f_pos[r]]) for r in wanted_rows]) if evidence is not None else None
    subject_names = np.array(subjects, dtype=object)

    def subjects_at(positions: np.ndarray) -> list[str]:
        return cast("list[str]", subject_names[subject_codes[positions]].tolist())

    reading = _Records(obs, findings)
    records = reading.records(advanced_rows, found_evidence, subjects_at)
    new_episodes: list[tuple[Episode, dict[str, Any]]] = []
    new_keys: list[int] = []
    updates: list[tuple[Any, Episode]] = []
    for k, episode in touched:
        if episode.finding and "_row" in episode.finding:
            episode.finding = records[episode.finding["_row"]]
        row = latest.get(row_keys[int(key_codes[k])])
        if episode.row_id is None:
            new_episodes.append((episode, episode.finding))
            new_keys.append(k)
        elif row is not None and episode.watermark != episode_of(row).watermark:
            updates.append((row, episode))
    update_episodes(session, updates, summary)
    # The new episodes in the order the keys were advanced (the order they are sorted from to be stored).
    first = _first_columns(firsts, at, e_ids, resolve_after, reading.columns(first_rows, found_evidence, subjects_at))
    key_names = np.array([row_keys[int(c)] for c in key_codes], dtype=object)
    first["key"] = key_names[firsts["key"]].tolist()
    advanced = _episode_columns(new_episodes)
    advanced["key"] = [None] * len(new_episodes)  # worked out from the record, as for any other caller
    order = np.argsort(np.concatenate([firsts["key"], np.asarray(new_keys, dtype=np.int64)]), kind="stable")
    if len(new_episodes):
        taken = order.tolist()
        for name in first:
            both = first[name] + advanced[name]
            first[name] = [both[i] for i in taken]
    _insert_new(session, first, frames, summary, repeat_window_days)


_EPISODE_FIELDS = ("status", "first_seen_at", "last_seen_at", "resolved_at", "occurrences", "compliant_streak",
                   "repeat_number", "first_observation_id", "last_observation_id", "mark_at", "mark_id",
                   "status_reason", "breach_over")
# (those an Episode holds as attributes of the same name; its watermark gives mark_at and mark_id)
_EPISODE_ATTRS = tuple(name for name in _EPISODE_FIELDS if name not in ("mark_at", "mark_id"))
_RECORD_FIELDS = ("rule", "kind", "mode", "scope", "version", "rule_ref", "observed_price", "allowed_price", "gap",
                  "gap_pct", "currency", "sku", "party", "tier", "partner_id", "product_id", "listing_id", "seller_id",
                  "seller_name", "region", "url", "raw_text", "html_sha256", "screenshot_sha256", "explanation",
                  "subject")


def _first_columns(firsts: dict[str, np.ndarray], at: Callable[[np.ndarray], list[datetime]], e_ids: np.ndarray,
                   resolve_after: int, records: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The new episodes of :func:`_first_episodes` (event indices) as the columns :func:`_insert_new` takes,
    with ``records`` (by column, one per episode: the finding it ends on)."""
    resolved = firsts["resolve"] >= 0
    count = len(resolved)
    reason = f"auto: {resolve_after} compliant observations"
    resolved_at = at(firsts["resolve"][resolved])
    resolved_list = resolved.tolist()
    it = iter(resolved_at)
    columns: dict[str, list[Any]] = {
        "status": [RESOLVED if r else OPEN for r in resolved_list],
        "first_seen_at": at(firsts["first"]), "last_seen_at": at(firsts["last"]),
        "resolved_at": [next(it) if r else None for r in resolved_list],
        "occurrences": firsts["count"].tolist(),
        "compliant_streak": np.where(resolved, resolve_after, firsts["mark"] - firsts["last"]).tolist(),
        "repeat_number": firsts["repeat"].tolist(),
        "first_observation_id": e_ids[firsts["first"]].tolist(), "last_observation_id": e_ids[firsts["last"]].tolist(),
        "mark_at": at(firsts["mark"]), "mark_id": e_ids[firsts["mark"]].tolist(),
        "status_reason": [reason if r else None for r in resolved_list], "breach_over": [False] * count,
    }
    columns.update({name: records[name] for name in _RECORD_FIELDS})
    return columns


def _episode_columns(pairs: list[tuple[Episode, dict[str, Any]]]) -> dict[str, list[Any]]:
    """New episodes with their records (the finding each ends on) as the columns :func:`_insert_new` takes."""
    columns: dict[str, list[Any]] = {name: [] for name in (*_EPISODE_FIELDS, *_RECORD_FIELDS)}
    for episode, record in pairs:
        for name in _EPISODE_ATTRS:
            columns[name].append(getattr(episode, name))
        mark = episode.watermark
        columns["mark_at"].append(None if mark is None else mark[0])
        columns["mark_id"].append(None if mark is None else mark[1])
        for name in _RECORD_FIELDS:
            columns[name].append(record.get(name) if name == "explanation" else record[name])
    return columns


def _first_episodes(key: np.ndarray, breach: np.ndarray, resolve_after: int) -> dict[str, np.ndarray]:
    """The episodes :func:`advance` opens for keys with no stored episode, from their events by column.

    ``key`` and ``breach`` are the events (sorted by key, then by (instant, id)), ``resolve_after`` at least
    1. From nothing, compliant events before a key's first breach change nothing; a breach opens an
    episode when it is the key's first or when at least ``resolve_after`` compliant events came since the
    key's previous breach (they resolved the episode); an episode goes on until the next one opens or the
    key's events end, and its watermark is the last event of that span (a resolved episode's watermark
    follows the compliant events). Returned per episode, as event indices: its first and last breach,
    its watermark and the event that resolved it (-1: still open); its key, breaches and repeat number.
    """
    n = len(key)
    b_idx = np.flatnonzero(breach)
    if not len(b_idx):
        return {c: np.zeros(0, dtype=np.int64) for c in ("key", "first", "last", "count", "mark", "resolve", "repeat")}
    key_start = np.r_[True, key[1:] != key[:-1]]
    b_key = key[b_idx]
    first_of_key = np.r_[True, b_key[1:] != b_key[:-1]]
    # Compliant events between a breach and the key's previous one.
    gap = np.r_[0, b_idx[1:] - b_idx[:-1] - 1]
    opens = first_of_key | (gap >= resolve_after)
    starts = np.flatnonzero(opens)
    last_b = np.r_[starts[1:], len(b_idx)] - 1  # each episode's last breach, among the breaches
    # A key's last event: where its span ends for its last episode.
    key_end = np.r_[np.flatnonzero(key_start)[1:], n] - 1
    key_last = key_end[np.cumsum(key_start) - 1]
    next_open = np.r_[b_idx[starts][1:], n]
    same_key = np.r_[b_key[starts][1:] == b_key[starts][:-1], False]
    mark = np.where(same_key, next_open - 1, key_last[b_idx[starts]])
    last = b_idx[last_b]
    resolve = np.where(mark - last >= resolve_after, last + resolve_after, -1)
    # The repeat number: the episode's place among its key's.
    order = np.arange(len(starts), dtype=np.int64)
    repeat = order - np.maximum.accumulate(np.where(first_of_key[starts], order, 0)) + 1
    return {"key": b_key[starts], "first": b_idx[starts], "last": last, "count": last_b - starts + 1,
            "mark": mark, "resolve": resolve, "repeat": repeat}


def _updated(row: Any, episode: Episode) -> dict[str, Any]:
    """The columns of a stored episode's row (a ``Violation`` or a row of :data:`_STORED`) that take its
    new lifecycle state (and latest evidence)."""
    values: dict[str, Any] = {
        "status": episode.status, "last_seen_at": episode.last_seen_at, "occurrences": episode.occurrences,
        "compliant_streak": episode.compliant_streak, "last_observation_id": episode.last_observation_id or None,
    }
    if episode.status == RESOLVED and row.status != RESOLVED:
        values["resolved_at"] = episode.resolved_at
        values["status_reason"] = episode.status_reason
    latest = episode.finding
    if latest.get("obs_id") == episode.last_observation_id and "observed_price" in latest:
        # Keep the latest evidence of a persisting breach; the first is in first_observation_id.
        for name in ("observed_price", "allowed_price", "gap", "gap_pct", "url", "raw_text", "html_sha256",
                     "screenshot_sha256", "rule_ref", "policy_version"):
            if name == "policy_version":
                values["policy_version"] = latest.get("version")
            elif name == "screenshot_sha256" and latest.get(name) is None:
                continue  # a later page crawled without a browser keeps the episode's picture
            else:
                values[name] = latest.get(name)
        # A breach that deepens raises the severity; it never drops while the episode lasts.
        deeper = severity(row.rule, row.kind, latest.get("gap_pct"), latest.get("tier"))
        if SEVERITIES.index(deeper) > SEVERITIES.index(row.severity):
            values["severity"] = deeper
    assert episode.watermark is not None
    values["details"] = {**(row.details or {}), "watermark": [episode.watermark[0].isoformat(), episode.watermark[1]],
                         "breach_over": episode.breach_over}
    return values


def _resolved_entry(row: Any, episode: Episode) -> dict[str, Any] | None:
    """The audit entry of a stored episode that this pass resolved (``None``: it did not)."""
    if episode.status == RESOLVED and row.status != RESOLVED:
        return {"action": "violation.auto_resolved", "entity_type": "violation", "entity_id": row.id,
                "before": {"status": row.status}, "after": {"status": episode.status},
                "reason": episode.status_reason}
    return None


def _updated_change(summary: DetectSummary, row: Any, episode: Episode, values: dict[str, Any]) -> None:
    if episode.change in ("extended", "resolved") and row.status != DISMISSED:
        party = (values["details"] or {}).get("subject", "||").split("|")[1]
        get = values.get
        summary.changes.append({"change": episode.change, "kind": row.kind, "rule": row.rule, "party": party,
                                "key": row.key, "status": get("status"), "severity": get("severity", row.severity),
                                "repeat_number": row.repeat_number, "escalation_step": row.escalation_step})


def update_episode(session: Session, row: Violation, episode: Episode, summary: DetectSummary) -> None:
    """Write a stored episode's new lifecycle state (and latest evidence) back to its row."""
    values = _updated(row, episode)
    entry = _resolved_entry(row, episode)
    change_row = SimpleNamespace(kind=row.kind, rule=row.rule, key=row.key, status=row.status,
                                 severity=row.severity, repeat_number=row.repeat_number,
                                 escalation_step=row.escalation_step)
    for name, value in values.items():
        setattr(row, name, value)
    if entry is not None:
        audit(session, actor="detection", **entry)
    _updated_change(summary, change_row, episode, values)


def update_episodes(session: Session, updates: list[tuple[Any, Episode]], summary: DetectSummary) -> None:
    """Write stored episodes' new states back: one executemany per set of changed columns (rows of
    :data:`_STORED`, read on the connection: no ORM object is loaded, dirtied or flushed)."""
    if not updates:
        return
    table = cast(Table, Violation.__table__)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    entries = []
    for row, episode in updates:
        values = _updated(row, episode)
        # Only what changed, as the ORM would write it: fewer indexes to update, and SQLite's text
        # search trigger fires only when a searched column is written.
        changed = {name: value for name, value in values.items() if getattr(row, name) != value}
        groups[tuple(changed)].append({"_id": row.id, **changed})
        entry = _resolved_entry(row, episode)
        if entry is not None:
            entries.append(entry)
        _updated_change(summary, row, episode, values)
    session.flush()
    connection = session.connection()
    statement = update(table).where(table.c.id == bindparam("_id"))
    for rows in groups.values():
        connection.execute(statement, rows)
    # Any of these rows already in the session (loaded by an earlier step) is read again when used.
    updated = {row.id for row, _ in updates}
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Violation) and instance.id in updated:
            session.expire(instance)
    audit_many(session, actor="detection", entries=entries)


# A key's hash and a severity once per distinct argument: a first run stores ~90,000 episodes of ~25,000 keys.
_key_of = functools.lru_cache(maxsize=1 << 16)(violation_key)
_severity_of = functools.lru_cache(maxsize=1 << 12)(severity)


def insert_episodes(
    session: Session, new_episodes: list[tuple[Episode, dict[str, Any]]], frames: RuleFrames | None,
    summary: DetectSummary, repeat_window_days: int,
) -> None:
    """Store new episodes (first breaches and repeats), each with its record (the finding it ends on), in one
    batch, with severity and escalation step (see :func:`_insert_new`)."""
    if not new_episodes:
        return
    columns = _episode_columns(new_episodes)
    columns["key"] = [None] * len(new_episodes)
    _insert_new(session, columns, frames, summary, repeat_window_days)


class _Json:
    """The JSON text (``json.dumps``) of the values of a batch's documents, each distinct value encoded once."""

    def __init__(self) -> None:
        self.done: dict[tuple[type, Any], str] = {}

    def __call__(self, value: Any) -> str:
        try:
            return self.done[(type(value), value)]
        except KeyError:
            return self.done.setdefault((type(value), value), json.dumps(value))
        except TypeError:  # unhashable (a dict, a list): each its own
            return json.dumps(value)


def _stored_order(columns: dict[str, list[Any]]) -> list[int] | None:
    """The rows' positions in (first seen, rule, first observation) order, ``None`` when already in it; a stable
    sort, as ``sorted`` by those three would make it, done by numpy on the instants' integers and the rules'
    codes (a Python key tuple per row otherwise: a first run stores ~96,000 rows)."""
    seen, rule, first_id = columns["first_seen_at"], columns["rule"], columns["first_observation_id"]
    count = len(seen)
    try:
        at = pd.DatetimeIndex(seen)
        exact = at.tz is not None and not at.hasnans
    except (TypeError, ValueError):  # naive and aware mixed, several zones: as Python compares them
        exact = False
    if exact and all(type(r) is str for r in rule) and all(i is None or type(i) is int for i in first_id):
        codes, _ = pd.factorize(np.asarray(rule, dtype=object), sort=True)
        ids = np.fromiter((i or 0 for i in first_id), dtype=np.int64, count=count)
        order = np.lexsort((ids, codes, at.asi8))
        if (order == np.arange(count)).all():
            return None
        return cast("list[int]", order.tolist())
    by_python = sorted(range(count), key=lambda i: (seen[i], rule[i], first_id[i] or 0))
    return None if by_python == list(range(count)) else by_python


def _insert_new(
    session: Session, columns: dict[str, list[Any]], frames: RuleFrames | None, summary: DetectSummary,
    repeat_window_days: int,
) -> None:
    """Store new episodes given by column (:data:`_EPISODE_FIELDS`, :data:`_RECORD_FIELDS` and ``key``, the
    violation key or ``None`` to work it out from the record) in one batch, with severity and escalation step.

    In (first seen, rule, first observation) order: a partner's offences in the ladder's window are
    its stored ones (not dismissed) and the new ones before it in that order. Built by column, no dict
    per row; the details' JSON is written here, by column, as ``json.dumps`` writes each row's document.
    """
    count = len(columns["rule"])
    if not count:
        return
    order = _stored_order(columns)
    if order is not None:
        # Each column reordered in C (itemgetter), not by a comprehension per row.
        take = operator.itemgetter(*order)
        columns = {name: list(take(values)) if count > 1 else list(values) for name, values in columns.items()}
    c = columns
    seen = c["first_seen_at"]
    keys = [key if key is not None else _key_of(r, s, p, listing) for key, r, s, p, listing in zip(
        c["key"], c["rule"], c["sku"], c["party"], c["listing_id"], strict=True)]
    modes = [m or "observe" for m in c["mode"]]
    severities = [_severity_of(r, k, g, t) for r, k, g, t in zip(c["rule"], c["kind"], c["gap_pct"], c["tier"],
                                                                   strict=True)]
    # Whether a new row counts as an offence on its partner's ladder.
    escalates = [k == "violation" and m in ("map", "maximum") and p is not None
                 for k, m, p in zip(c["kind"], modes, c["partner_id"], strict=True)]
    steps: list[str | None] = [None] * count
    offences: list[int | None] = [None] * count
    escalation: list[str | None] = [None] * count
    # A ladder's window, and the step (with what it allows) of each number of offences, once per ladder.
    window_of: dict[tuple[int, Any], timedelta | None] = {}
    step_of: dict[tuple[int, Any, int], tuple[str | None, dict[str, Any] | None]] = {}
    told_of: dict[tuple[tuple[int, Any, int], int], str] = {}
    windows: list[timedelta | None] = [None] * count
    if frames:
        for i in range(count):
            version = c["version"][i]
            if version is not None and escalates[i]:
                which = (version, c["scope"][i])
                if which not in window_of:
                    ladder = frames.ladder(*which)
                    window_of[which] = None if ladder is None else \
                        timedelta(days=int(ladder.get("window_days") or repeat_window_days))
                windows[i] = window_of[which]
    laddered = [i for i, w in enumerate(windows) if w is not None]
    if laddered:
        partners = sorted({c["partner_id"][i] for i in laddered})
        widest = max(w for w in windows if w is not None)
        earliest = min(seen[i] for i in laddered) - widest
        latest = max(seen[i] for i in laddered)
        stored: dict[int, list[datetime]] = defaultdict(list)
        for start in range(0, len(partners), 500):
            for partner_id, first_seen in session.execute(select(Violation.partner_id, Violation.first_seen_at).where(
                    Violation.partner_id.in_(partners[start:start + 500]), Violation.kind == "violation",
                    Violation.mode.in_(["map", "maximum"]), Violation.status != DISMISSED,
                    Violation.first_seen_at > earliest, Violation.first_seen_at <= latest)):
                if partner_id is not None:
                    stored[partner_id].append(first_seen)
        for seen_list in stored.values():
            seen_list.sort()
        fresh: dict[int, list[datetime]] = defaultdict(list)
        for i in range(count):
            window = windows[i]
            partner_id, first_seen = c["partner_id"][i], seen[i]
            if window is not None:
                old, new = stored.get(partner_id, []), fresh[partner_id]
                earlier = (bisect.bisect_right(old, first_seen) - bisect.bisect_right(old, first_seen - window)
                           + len(new) - bisect.bisect_right(new, first_seen - window))
                reached = (c["version"][i], c["scope"][i], earlier + 1)
                if reached not in step_of:
                    assert frames is not None
                    ladder = frames.ladder(c["version"][i], c["scope"][i])
                    assert ladder is not None
                    name = escalation_step(dict(ladder), earlier + 1)
                    step_of[reached] = name, next((st for st in ladder["steps"] if st["name"] == name), None)
                steps[i], step = step_of[reached]
                offences[i] = earlier + 1
                # What the step allows, for alerts: a notice to the partner, a penalty (its JSON text once per
                # step, offence count and window: a first run's ~55,000 rows share a few dozen).
                told = (reached, window.days)
                if told not in told_of:
                    told_of[told] = json.dumps({
                        "step": steps[i], "offences_in_window": earlier + 1, "window_days": window.days,
                        "notify_partner": bool(step and step.get("notify_partner")),
                        "penalty": bool(step and step.get("penalty"))})
                escalation[i] = told_of[told]
            if escalates[i]:
                fresh[partner_id].append(first_seen)
    # The details' JSON by column, key by key as json.dumps writes the row's dict (keys in this order).
    text = _Json()
    details = []
    for subject, scope, tier, mark_at, mark_id, over, explanation, offence, ladder_text in zip(
            c["subject"], c["scope"], c["tier"], c["mark_at"], c["mark_id"], c["breach_over"], c["explanation"],
            offences, escalation, strict=True):
        mark = "null" if mark_at is None else f'["{mark_at.isoformat()}", {int(mark_id)}]'
        details.append(f'{{"subject": {text(subject)}, "scope": {text(scope)}, "tier": {text(tier)}, '
                       f'"watermark": {mark}, "breach_over": {"true" if over else "false"}, '
                       f'"explanation": {text(explanation)}'
                       + ("}" if ladder_text is None else
                          f', "offences_in_window": {offence}, "escalation": {ladder_text}}}'))
    first_ids = [i or None for i in c["first_observation_id"]]
    last_ids = [i or None for i in c["last_observation_id"]]
    rows = {
        "key": keys, "kind": c["kind"], "rule": c["rule"], "mode": modes, "status": c["status"],
        "severity": severities, "product_id": c["product_id"], "partner_id": c["partner_id"],
        "listing_id": c["listing_id"], "seller_id": c["seller_id"], "seller_name": c["seller_name"],
        "region": c["region"], "observed_price": c["observed_price"], "allowed_price": c["allowed_price"],
        "currency": c["currency"], "gap": c["gap"], "gap_pct": c["gap_pct"], "policy_version": c["version"],
        "rule_ref": c["rule_ref"], "first_seen_at": seen, "last_seen_at": c["last_seen_at"],
        "resolved_at": c["resolved_at"], "occurrences": c["occurrences"], "compliant_streak": c["compliant_streak"],
        "escalation_step": steps,
        # Id 0 marks an event with no observation behind it (a stale listing).
        "repeat_number": c["repeat_number"], "first_observation_id": first_ids, "last_observation_id": last_ids,
        "url": c["url"], "raw_text": c["raw_text"], "html_sha256": c["html_sha256"],
        "screenshot_sha256": c["screenshot_sha256"], "status_reason": c["status_reason"], "details": details,
    }
    session.flush()
    # One executemany on the session's connection (no RETURNING: through insertmanyvalues it grows
    # quadratically with the batch); the ids the audit entries need are read back by (key, repeat
    # number), which names one episode.
    connection = session.connection()
    _insert_violations(connection, rows)
    resolved = [i for i, status in enumerate(c["status"]) if status == RESOLVED]
    ids: dict[tuple[str, int], int] = {}
    wanted = sorted({keys[i] for i in resolved})
    for start in range(0, len(wanted), 500):
        # All rows at once (iterating the result fetches them one by one: ~90,000 calls in a first run).
        for row_id, key, repeat in connection.execute(select(Violation.id, Violation.key, Violation.repeat_number)
                                                      .where(Violation.key.in_(wanted[start:start + 500]))).all():
            ids[(key, repeat)] = max(row_id, ids.get((key, repeat), 0))
    changes = summary.changes
    for kind, rule_name, party, key, status, level, repeat, step_name in zip(
            c["kind"], c["rule"], c["party"], keys, c["status"], severities, c["repeat_number"], steps, strict=True):
        change = {"change": "new", "kind": kind, "rule": rule_name, "party": party, "key": key, "status": status,
                  "severity": level, "repeat_number": repeat, "escalation_step": step_name}
        changes.append(change)
        if status == RESOLVED:  # opened and resolved within this one run
            changes.append({**change, "change": "resolved"})
    # One before and one after for the batch's entries (all alike): the insert serialises each object once.
    audit_batch(session, actor="detection", action="violation.auto_resolved", entity_type="violation",
                entity_ids=[ids[(keys[i], c["repeat_number"][i])] for i in resolved], before={"status": "open"},
                after={"status": RESOLVED}, reasons=[c["status_reason"][i] for i in resolved])


def _insert_violations(connection: Connection, rows: dict[str, list[Any]]) -> None:
    """Insert violation rows (by column, the details as JSON text) in one executemany; on SQLite a large batch
    fills the text search after the rows in one statement instead of through its trigger row by row (about ten
    times slower)."""
    table = cast(Table, Violation.__table__)
    count = len(rows["key"])
    trigger = f"{SEARCH_TABLE}_insert"
    created = next((ddl for ddl in SEARCH_DDL.get(connection.dialect.name, ())
                    if ddl.startswith(f"CREATE TRIGGER {trigger} ")), None)
    if connection.dialect.name == "postgresql" and count >= BULK_SEARCH and _locked_empty(connection, table):
        # The table's first batch (a first run's): COPY into the bare table, then each plain index built once
        # over the rows instead of updated row by row (the trigram index most of all). In the run's
        # transaction, under a lock that no one else's read or write passes until it commits.
        made_again = _dropped_pg_indexes(connection, table)
        insert_columns(connection, table, rows, bound=("details",))
        for ddl in made_again:
            connection.exec_driver_sql(ddl)
        return
    listed = sql_text("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :name")
    if created is None or count < BULK_SEARCH or connection.execute(listed, {"name": trigger}).first() is None:
        insert_columns(connection, table, rows, bound=("details",))
        return
    # In the run's transaction: the trigger is back before anyone else can write (or see it gone).
    connection.execute(sql_text(f"DROP TRIGGER {trigger}"))
    before = connection.execute(select(func.max(table.c.id))).scalar() or 0
    stored = connection.execute(select(func.count()).select_from(table)).scalar() or 0
    indexes = _dropped_indexes(connection, table.name) if count >= stored else []
    insert_columns(connection, table, rows, bound=("details",))
    for _name, ddl, _stat in indexes:
        connection.exec_driver_sql(ddl)
    restat = [(name, stat) for name, _ddl, stat in indexes if stat is not None]
    if restat:
        connection.execute(sql_text("INSERT INTO sqlite_stat1(tbl, idx, stat) VALUES (:table, :name, :stat)"),
                           [{"table": table.name, "name": name, "stat": stat} for name, stat in restat])
    columns = ", ".join(SEARCH_COLUMNS)
    connection.execute(sql_text(f"INSERT INTO {SEARCH_TABLE}(rowid, {columns}) SELECT id, {columns} FROM violations "
                            "WHERE id > :before ORDER BY id"), {"before": before})
    connection.execute(sql_text(created))


def _locked_empty(connection: Connection, table: Table) -> bool:
    """Whether ``table`` is empty, and if so locked against everyone else until this transaction ends
    (PostgreSQL: ``ACCESS EXCLUSIVE``, which dropping its indexes takes anyway); looked at again once locked,
    as another transaction may have written it meanwhile."""
    def empty() -> bool:
        return connection.execute(select(table.c.id).limit(1)).first() is None

    if not empty():
        return False
    name = connection.dialect.identifier_preparer.format_table(table)
    connection.exec_driver_sql(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE")
    return empty()


def _dropped_pg_indexes(connection: Connection, table: Table) -> list[str]:
    """Drop ``table``'s plain indexes on PostgreSQL (not the primary key, the unique ones, which check the rows
    as they come, or one a constraint owns) and return the DDL that makes each one again."""
    found = connection.execute(sql_text(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = CAST(:table AS regclass) AND NOT x.indisunique AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY i.relname"),
        {"table": connection.dialect.identifier_preparer.format_table(table)}).all()
    schema = connection.dialect.identifier_preparer.quote_schema(table.schema) + "." if table.schema else ""
    for name, _ in found:
        connection.exec_driver_sql(f"DROP INDEX {schema}{connection.dialect.identifier_preparer.quote(name)}")
    return [ddl for _, ddl in found]


def _dropped_indexes(connection: Connection, table: str) -> list[tuple[str, str, str | None]]:
    """Drop ``table``'s plain indexes on SQLite (not the unique ones, which check the rows as they come) and
    return each one's name, DDL and statistics row, to be made again after a batch at least as large as the
    table: building an index over the rows once costs less than updating it row by row in key order (a first
    run's ~90,000 violations into ten indexes, most of a first run's writing)."""
    found = connection.execute(sql_text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :table AND sql IS NOT NULL "
        "AND sql NOT LIKE 'CREATE UNIQUE %'"), {"table": table}).all()
    stats: dict[str, str] = {}
    if connection.execute(sql_text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is not None:
        # Statistics from an ANALYZE stay as they were (they are not refreshed by inserts either).
        stats = dict(connection.execute(sql_text("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = :table"),
                                        {"table": table}).tuples().all())
    for name, _ in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return [(name, ddl, stats.get(name)) for name, ddl in found]


def insert_episode(
    session: Session, episode: Episode, record: dict[str, Any], frames: RuleFrames | None,
    summary: DetectSummary, repeat_window_days: int,
) -> None:
    """Store one new episode (see :func:`insert_episodes`)."""
    insert_episodes(session, [(episode, record)], frames, summary, repeat_window_days)
