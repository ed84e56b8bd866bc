"""The pure lifecycle decisions: a table of event sequences and the episodes they leave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import pytest

from detection.lifecycle import Episode, Event, advance, escalation_step, severity

T0 = datetime(2026, 5, 1, tzinfo=UTC)
B, C = "breach", "compliant"


def events(pattern: str, start: int = 1) -> list[Event]:
    """``"BBCC"`` -> breach, breach, compliant, compliant at days start, start+1, ..."""
    return [Event(start + i, T0 + timedelta(days=start + i), {"rule": "below_map"} if ch == "B" else None)
            for i, ch in enumerate(pattern)]


@pytest.mark.parametrize(
    ("pattern", "resolve_after", "expected"),
    [
        ("C", 2, []),
        ("B", 2, [("open", 1, 1)]),
        ("BBB", 2, [("open", 3, 1)]),
        ("BC", 2, [("open", 1, 1)]),
        ("BCC", 2, [("resolved", 1, 1)]),
        ("BCBCC", 2, [("resolved", 2, 1)]),  # a compliant observation between breaches resets the streak
        ("BCCB", 2, [("resolved", 1, 1), ("open", 1, 2)]),
        ("BCCBCCB", 2, [("resolved", 1, 1), ("resolved", 1, 2), ("open", 1, 3)]),
        ("BC", 1, [("resolved", 1, 1)]),
    ],
)
def test_sequences(pattern: str, resolve_after: int, expected: list[tuple[str, int, int]]) -> None:
    touched = advance(None, events(pattern), resolve_after)
    assert [(e.status, e.occurrences, e.repeat_number) for e in touched] == expected


def test_events_at_or_before_the_watermark_are_skipped_whatever_their_order() -> None:
    first = advance(None, events("BB"), 2)
    (episode,) = first
    assert episode.watermark == (T0 + timedelta(days=2), 2)
    again = advance(episode, list(reversed(events("BB"))), 2)
    assert [(e.occurrences, e.change) for e in again] == [(2, "new")]
    more = advance(episode, events("BCC"), 2)  # days 1-3: only day 3 (compliant) is new
    assert [(e.status, e.compliant_streak) for e in more] == [("open", 1)]


def test_acknowledged_episodes_extend_and_resolve_by_themselves() -> None:
    (episode,) = advance(None, events("B"), 2)
    episode.status = "acknowledged"
    (same,) = advance(episode, events("BCC", start=2), 2)
    assert (same.status, same.occurrences, same.resolved_at) == ("resolved", 2, T0 + timedelta(days=4))


def test_a_dismissed_breach_is_absorbed_until_it_stops() -> None:
    (episode,) = advance(None, events("B"), 2)
    episode.status = "dismissed"
    touched = advance(episode, events("BBCCB", start=2), 2)
    assert [(e.status, e.occurrences, e.breach_over, e.repeat_number) for e in touched] == [
        ("dismissed", 3, True, 1), ("open", 1, False, 2)]


@pytest.mark.parametrize(
    ("rule", "kind", "gap_pct", "tier", "expected"),
    [
        ("below_map", "violation", Decimal("0.5"), "C", "low"),
        ("below_map", "violation", Decimal("5"), "C", "medium"),
        ("below_map", "violation", Decimal("15"), "B", "high"),
        ("below_map", "violation", Decimal("30"), None, "critical"),
        ("below_map", "violation", Decimal("16"), "A", "critical"),
        ("below_map", "violation", Decimal("40"), "A", "critical"),
        ("hidden_price", "violation", None, "C", "medium"),
        ("unauthorised_seller", "violation", None, None, "high"),
        ("below_recommended", "deviation", Decimal("50"), "A", "low"),
        ("price_war", "anomaly", None, "A", "medium"),
    ],
)
def test_severity(rule: str, kind: str, gap_pct: Decimal | None, tier: str | None, expected: str) -> None:
    assert severity(rule, kind, gap_pct, tier) == expected


LADDER = {"window_days": 90, "steps": [
    {"name": "warning", "after": 1}, {"name": "formal_notice", "after": 2},
    {"name": "rebate_cancelled", "after": 3}, {"name": "supply_suspended", "after": 5}]}


@pytest.mark.parametrize(("count", "step"), [(0, None), (1, "warning"), (2, "formal_notice"),
                                             (4, "rebate_cancelled"), (5, "supply_suspended"), (9, "supply_suspended")])
def test_escalation_step(count: int, step: str | None) -> None:
    assert escalation_step(LADDER, count) == step


def test_episode_defaults() -> None:
    episode = Episode(status="open", first_seen_at=T0, last_seen_at=T0)
    assert (episode.occurrences, episode.repeat_number, episode.change) == (1, 1, "unchanged")


def test_first_episodes_by_column_are_what_advance_makes_from_nothing() -> None:
    """The columns a first run works episodes out with (``episodes._first_episodes``) against ``advance``
    from no stored episode, over random keys and event patterns (compliant runs before, between and after
    the breaches) and several ``resolve_after``."""
    import random

    import numpy as np

    from detection.episodes import _first_episodes

    rng = random.Random(7)
    for _ in range(500):
        resolve_after = rng.randint(1, 4)
        patterns = ["".join("B" if rng.random() < p else "C" for _ in range(rng.randint(0, 20)))
                    for p in (rng.random() for _ in range(rng.randint(1, 5)))]
        flat = [(k, e) for k, pattern in enumerate(patterns) for e in events(pattern)] if patterns else []
        f = _first_episodes(np.array([k for k, _ in flat], dtype=np.int64),
                            np.array([e.finding is not None for _, e in flat], dtype=bool), resolve_after)
        got: dict[int, list[tuple[object, ...]]] = {}
        for key, first, last, count, mark, resolve, repeat in zip(
                *(f[c].tolist() for c in ("key", "first", "last", "count", "mark", "resolve", "repeat")), strict=True):
            got.setdefault(key, []).append((
                "resolved" if resolve >= 0 else "open", flat[first][1].at, flat[last][1].at, count,
                resolve_after if resolve >= 0 else mark - last, repeat,
                flat[resolve][1].at if resolve >= 0 else None, flat[first][1].obs_id, flat[last][1].obs_id,
                flat[mark][1].order))
        for key, pattern in enumerate(patterns):
            expected = [(e.status, e.first_seen_at, e.last_seen_at, e.occurrences, e.compliant_streak,
                         e.repeat_number, e.resolved_at, e.first_observation_id, e.last_observation_id, e.watermark)
                        for e in advance(None, events(pattern), resolve_after)]
            assert got.get(key, []) == expected, (pattern, resolve_after)


def test_new_rows_are_stored_in_first_seen_rule_and_first_observation_order() -> None:
    """``episodes._stored_order`` (numpy's stable sort on the instants' integers) is the order ``sorted`` gives by
    (first seen, rule, first observation id or 0), over random batches with ties, missing ids and other zones."""
    import random

    from detection.episodes import _stored_order

    rng = random.Random(11)
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]
    for case in range(300):
        count = rng.randint(0, 30)
        mixed = case % 3 == 0  # several zones in one batch: compared as Python compares them
        seen = [(T0 + timedelta(hours=rng.randint(0, 5), microseconds=rng.choice([0, 1, 7])))
                .astimezone(rng.choice(zones) if mixed else UTC) for _ in range(count)]
        columns = {"first_seen_at": seen, "rule": [rng.choice(["below_map", "above_msrp", "hidden_price"])
                                                   for _ in range(count)],
                   "first_observation_id": [rng.choice([None, 0, 1, 2, 3]) for _ in range(count)]}
        expected = sorted(range(count), key=lambda i: (seen[i], columns["rule"][i],
                                                       columns["first_observation_id"][i] or 0))
        order = _stored_order(columns)
        assert (list(range(count)) if order is None else order) == expected, case


@pytest.mark.parametrize(("values", "ids", "expected"), [
    (np.array([1, None, "a", np.int64(3), np.nan], dtype=object), False, [1, None, "a", 3, None]),
    (np.array(["a", None, Decimal("1.5")], dtype=object), False, ["a", None, Decimal("1.5")]),
    (np.array([1.0, np.nan, 3.0], dtype=object), True, [1, None, 3]),
    (np.array([np.int32(2), 5], dtype=object), False, [2, 5]),
    (np.array([], dtype=object), False, []),
])
def test_plain_cells(values: np.ndarray, ids: bool, expected: list[object]) -> None:
    """A frame's cells as plain Python values: missing ones ``None``, numpy integers ``int``, the rest as they are."""
    from detection.episodes import _plain_cells

    got = _plain_cells(values, ids=ids)
    assert got == expected
    assert [type(v) for v in got] == [type(v) for v in expected]
