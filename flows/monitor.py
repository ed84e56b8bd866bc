"""The monitor flow: crawl → detect → portal jobs → capture evidence → queue alerts → deliver, for one run slot.

Thin: each task calls one stage of :mod:`flows.steps`. I/O stages (crawl, evidence, delivery) are
retried; detection and queueing run in one database transaction each and are retried once, for a
lost connection. The portal's queued jobs (re-crawls after a partner's response, complaint crawls) are
drained in a bounded stage of their own; a failed job is retried by the next drain, not by the task. The
same flow, given ``shard``/``shards``, is the unit of scale-out: one deployment run per shard, on workers on
different machines, all writing to one PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flows import steps
from flows._cpu import tree_cpu_seconds
from flows._prefect import NO_CACHE, create_markdown_artifact, create_table_artifact, flow, in_flow_run, task


@task(name="crawl", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def crawl_task(at: datetime, shard: int | None = None, shards: int | None = None,
               processes: int | None = None, split: dict[str, int] | None = None,
               placement: dict[str, int] | None = None) -> steps.CrawlSummary:
    """Crawl the active listings of the shard for slot ``at``."""
    summary = steps.crawl(at, shard=shard, shards=shards, processes=processes, split=split, placement=placement)
    steps.crash_point("crawl")
    return summary


@task(name="crawl-shards", cache_policy=NO_CACHE)
def crawl_shards_task(at: datetime, shards: int, processes: int | None = None) -> steps.CrawlSummary:
    """Crawl every active listing in ``shards`` shards over the pool's workers (shard runs retry themselves)."""
    from flows.fanout import crawl_sharded

    return crawl_sharded(at, shards, processes)


@task(name="detect", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def detect_task(at: datetime) -> steps.DetectSummary:
    """Judge new observations against the policy in force when each was observed."""
    summary = steps.detect(at)
    steps.crash_point("detect")
    return summary


@task(name="portal-jobs", cache_policy=NO_CACHE)
def portal_jobs_task() -> dict[str, Any]:
    """Run the portal's queued re-crawls and complaint crawls (bounded; each job records its own failure)."""
    return steps.portal_jobs()


@task(name="capture-evidence", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def evidence_task() -> dict[str, Any]:
    """Re-capture screenshots for open violations without one; read again in Chromium the prices to confirm.

    The second readings go first: a page that is both read again and wanted as evidence is photographed in the
    render of its reading, and not rendered a second time for its screenshot.
    """
    pictures: dict[str, bytes] = {}
    confirmation = steps.confirm_prices(photograph=steps.evidence_pages(), pictures=pictures)
    result = steps.capture_evidence(taken=pictures)
    result["confirmation"] = confirmation
    steps.crash_point("evidence")
    return result


@task(name="queue-alerts", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5)
def enqueue_task(now: datetime | None = None) -> steps.AlertSummary:
    """Queue the alerts open findings call for."""
    summary = steps.enqueue(now)
    steps.crash_point("enqueue")
    return summary


@task(name="deliver-alerts", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=30)
def deliver_task(summary: steps.AlertSummary, now: datetime | None = None) -> steps.AlertSummary:
    """Send what is due in the outbox."""
    return steps.deliver(now, summary)


Call = Callable[..., Any]


def _prefect_call(task_obj: Any, *args: Any, **kwargs: Any) -> Any:
    return task_obj(*args, **kwargs)


def _direct_call(task_obj: Any, *args: Any, **kwargs: Any) -> Any:
    return task_obj.fn(*args, **kwargs)


def run_monitor(at: datetime | None = None, *, shard: int | None = None, shards: int | None = None,
                processes: int | None = None, capture: bool = True, call: Call = _direct_call,
                fan_out: int = 1, crawl_only: bool = False, split: dict[str, int] | None = None,
                placement: dict[str, int] | None = None) -> dict[str, Any]:
    """The monitor's wiring, shared by the flow (``call`` runs Prefect tasks) and direct runs (task functions).

    ``fan_out`` > 1 crawls through that many shard runs on the pool's workers (:mod:`flows.fanout`);
    ``crawl_only`` is one such shard: it crawls its part and stops (detection runs once, in the monitor).
    """
    slot = steps.slot(at)
    seconds: dict[str, float] = {}
    cpu_seconds: dict[str, float] = {}
    clock = time.perf_counter()
    spent = tree_cpu_seconds()

    def timed(stage: str, *args: Any) -> Any:
        nonlocal clock, spent
        value = call(*args)
        now, used = time.perf_counter(), tree_cpu_seconds()
        seconds[stage] = round(now - clock, 2)
        if used is not None and spent is not None:
            cpu_seconds[stage] = round(used - spent, 2)
        clock, spent = now, used
        return value

    if capture:
        from crawlers.shared_browser import current

        enclosing = current()
        if enclosing is not None:
            # A browser shared beyond this run (the demo's days): launched now, beside the crawl (which leaves
            # part of a core idle), rather than when the evidence step first asks for it.
            enclosing.start_soon()
    if fan_out > 1:
        crawled = timed("crawl", crawl_shards_task, slot, fan_out, processes)
    else:
        crawled = timed("crawl", crawl_task, slot, shard, shards, processes, split, placement)
    part = f"{shard}/{shards}" if shard is not None else (f"fan-out {fan_out}" if fan_out > 1 else None)
    if crawl_only:
        return {"slot": slot.isoformat(), "shard": part, "crawl": crawled.as_dict(), "seconds": seconds,
                "cpu_seconds": cpu_seconds}
    found = timed("detect", detect_task, slot)
    # After the slot's detection, before evidence and alerts: what a re-crawl or complaint finds is alerted on now.
    jobs = timed("portal_jobs", portal_jobs_task)
    if capture:
        from crawlers.shared_browser import shared_browser

        with shared_browser():  # one Chromium for the screenshots and the second readings
            captured = timed("evidence", evidence_task)
    else:
        captured = {"skipped": True}
    queued = timed("enqueue", enqueue_task)
    delivered = timed("deliver", deliver_task, queued)
    return {"slot": slot.isoformat(), "shard": part,
            "crawl": crawled.as_dict(), "detect": found.as_dict(), "portal_jobs": jobs, "evidence": captured,
            "alerts": delivered.as_dict(), "seconds": seconds, "cpu_seconds": cpu_seconds}


def summary_markdown(result: dict[str, Any]) -> str:
    """The run's summary for people (the flow run's markdown artifact)."""
    c, d, a = result["crawl"], result["detect"], result["alerts"]
    lines = [
        f"# Monitor run {result['slot']}" + (f" (shard {result['shard']})" if result["shard"] else ""),
        "",
        "| what | count |", "|---|---|",
        f"| listings crawled | {c['listings']} |",
        f"| observations stored | {c['observations']} |",
        f"| crawl failures | {c['failures']} |",
        f"| failed crawl processes | {len(c['failed_shards'])} |",
        f"| new violations | {len(d['new_violations'])} |",
        f"| new deviations (recorded only) | {len(d['new_deviations'])} |",
        f"| new anomalies | {len(d['new_anomalies'])} |",
        f"| open findings | {d['open_total']} |",
        f"| alerts queued | {a['queued']} |",
        f"| alerts sent | {a['sent']} |",
        f"| alerts retrying / failed | {a['retrying']} / {a['failed']} |",
        f"| partner messages refused by mode | {len(a['refused'])} |",
    ]
    jobs = result.get("portal_jobs")
    if jobs:
        ran = jobs["ran"]
        lines[-1:-1] = [f"| portal jobs run (done / retrying / failed) | {ran.get('done', 0)} / "
                        f"{ran.get('queued', 0)} / {ran.get('failed', 0)} |",
                        f"| portal jobs still waiting | {jobs['waiting']} |"]
        if jobs["error"]:
            lines += ["", f"Portal jobs could not run: {jobs['error']}"]
    if result.get("seconds"):
        lines += ["", "Seconds per stage: " + ", ".join(f"{k} {v}" for k, v in result["seconds"].items())]
    if c["failures_by_kind"]:
        lines += ["", "Crawl failures by kind: " + ", ".join(f"{k} {v}" for k, v in c["failures_by_kind"].items())]
    if a["errors"]:
        lines += ["", "Delivery errors:"] + [f"- outbox {k}: {v}" for k, v in a["errors"].items()]
    return "\n".join(lines) + "\n"


def new_violation_rows(ids: list[int]) -> list[dict[str, Any]]:
    """Rows for the new-violations table artifact."""
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import Partner, Product, Violation

    if not ids:
        return []
    with session_scope() as session:
        rows = session.execute(
            select(Violation, Product.sku, Partner.code).outerjoin(Product, Violation.product_id == Product.id)
            .outerjoin(Partner, Violation.partner_id == Partner.id).where(Violation.id.in_(ids))
            .order_by(Violation.id)).all()
        return [{"id": v.id, "rule": v.rule, "sku": sku, "partner": code or v.seller_name or v.seller_id,
                 "price": f"{v.observed_price} {v.currency or ''}".strip(), "allowed": str(v.allowed_price),
                 "severity": v.severity, "url": v.url} for v, sku, code in rows]


def publish_artifacts(result: dict[str, Any]) -> None:
    """Attach the run's summary (markdown) and its new violations (table) to the current flow run."""
    if not in_flow_run():
        return
    create_markdown_artifact(markdown=summary_markdown(result), key="monitor-summary",
                             description="Monitor run: counts, failures, new violations")
    rows = new_violation_rows(result["detect"]["new_violations"])
    if rows:
        create_table_artifact(table=rows, key="monitor-new-violations", description="Violations opened by this run")


@flow(name="monitor", log_prints=False)
def monitor(at: datetime | None = None, shard: int | None = None, shards: int | None = None,
            processes: int | None = None, capture: bool = True, crawl_only: bool = False,
            split: dict[str, int] | None = None, placement: dict[str, int] | None = None) -> dict[str, Any]:
    """Crawl, detect, capture evidence, queue and deliver alerts for one run slot (optionally one shard).

    Run by a work pool's worker with no ``shard``, it fans the crawl out over the pool's workers
    (:mod:`flows.fanout`); ``crawl_only`` (the ``monitor-shard`` deployment) crawls one shard and stops.
    """
    from flows.fanout import shards_for_run

    fan_out = shards_for_run() if shard is None and not crawl_only else 1
    result = run_monitor(at, shard=shard, shards=shards, processes=processes, capture=capture, call=_prefect_call,
                         fan_out=fan_out, crawl_only=crawl_only, split=split, placement=placement)
    if crawl_only:
        return result
    publish_artifacts(result)
    return result


def main(argv: list[str] | None = None) -> None:
    """``python -m flows.monitor --at ISO [--direct]``: one run (the crash-safety test runs this)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--at", help="run slot (ISO 8601 with offset); default now")
    parser.add_argument("--shard", type=int)
    parser.add_argument("--shards", type=int)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--no-capture", action="store_true")
    parser.add_argument("--direct", action="store_true", help="run the task functions without Prefect")
    args = parser.parse_args(argv)
    at = datetime.fromisoformat(args.at) if args.at else None
    kwargs = {"shard": args.shard, "shards": args.shards, "processes": args.processes,
              "capture": not args.no_capture}
    result = run_monitor(at, **kwargs) if args.direct else monitor(at, **kwargs)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
