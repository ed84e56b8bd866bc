"""The anomaly models in a forked child process (``detection.forked``) give what they give in process:
the same anomalies, judged rows and fitted model (byte for byte), and the same stored episodes; a child
that fails leaves the work to the parent."""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_detection_anomaly import PARAMS, SELLERS, T0, history

from detection import forked
from detection.anomaly import Scored, detect_anomalies, score_frame
from detection.run import DetectSummary
from pricewarden.keys import digest_key
from store import AnomalyModel, Observation, Partner, Product, Violation

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")


def _never() -> Scored | None:
    raise AssertionError("the child's result was expected")


def _same(a: Scored | None, b: Scored | None) -> None:
    assert a is not None and b is not None
    assert a.found is not None and b.found is not None
    pd.testing.assert_frame_equal(a.found, b.found)
    assert np.array_equal(a.judged, b.judged)
    assert (a.trained is None) == (b.trained is None)
    if a.trained is not None and b.trained is not None:
        assert a.trained.artifact == b.trained.artifact and a.trained.metrics == b.trained.metrics


@pytest.mark.parametrize("judge_from", [None, T0 + pd.Timedelta(days=20)])
def test_the_child_finds_what_the_parent_finds(judge_from: Any) -> None:
    frame = history(war=True)
    reports = frame[frame["party"] == "S1"].copy()
    reports["price_e4"] = reports["price_e4"] * 12 // 10
    here = score_frame(frame, PARAMS, reports, None, judge_from)
    assert here is not None and here.found is not None and len(here.found) and here.trained is not None
    child = forked.start(frame, PARAMS, reports, None, judge_from)
    _same(forked_result := child.result(_never), here)
    assert child.rusage is not None and child.rusage.ru_utime > 0  # the child's CPU, for benchmarks
    # Scored by the stored model (its artifact), nothing is fitted, in either process.
    assert forked_result is not None and forked_result.trained is not None
    stored = forked_result.trained.artifact
    _same(forked.start(frame, PARAMS, reports, stored, judge_from).result(_never),
          score_frame(frame, PARAMS, reports, stored, judge_from))


def test_a_failed_child_leaves_the_work_to_the_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("no")

    monkeypatch.setattr(forked, "score_frame", broken)
    frame = history(war=True, skus=3)
    done = score_frame(frame, PARAMS, None, None)
    assert forked.start(frame, PARAMS, None, None, None).result(lambda: done) is done
    pending = forked.start(frame, PARAMS, None, None, None)
    pending.cancel()
    assert not pending.path.exists()


def test_the_stored_episodes_are_the_same_forked_or_not(session: Session) -> None:
    frame = history(war=True, skus=6)
    products, partners = {}, {}
    for sku in sorted(set(frame["sku"])):
        products[sku] = Product(sku=sku, category="audio")
    for code in SELLERS:
        partners[code] = Partner(code=code, name=code, regions=["US"])
    session.add_all([*products.values(), *partners.values()])
    session.flush()
    for n, row in enumerate(frame.to_dict("records")):
        session.add(Observation(obs_key=digest_key(f"k{n}"), source="crawl", product_id=products[row["sku"]].id,
                                partner_id=partners[row["party"]].id, observed_at=row["observed_at"].to_pydatetime(),
                                price=Decimal(row["price_e4"]) / 10_000, currency="USD", visibility="visible"))
    session.flush()
    from detection.frames import observations_frame

    obs = observations_frame(session).reset_index(drop=True)

    def run(scored: Any) -> tuple[list[Any], Any, Any]:
        summary = DetectSummary()
        nested = session.begin_nested()
        detect_anomalies(session, obs, summary=summary, resolve_after=2, params=PARAMS, scored=scored)
        rows = [{c.name: getattr(r, c.name) for c in Violation.__table__.columns if c.name not in ("id", "created_at",
                                                                                                "updated_at")}
                for r in session.scalars(select(Violation).order_by(Violation.id))]
        model = session.scalars(select(AnomalyModel)).one()
        picked = (rows, (model.artifact_sha256, model.metrics), summary.as_dict())
        nested.rollback()
        return picked

    here = run(None)
    assert here[0]
    assert run(forked.start(obs, PARAMS, None, None, None)) == here
