"""The whole demo on one machine: sandbox storefronts → monitor over simulated days → alerts → report.

:func:`run_demo` starts the sandbox world (``demo.serve`` on free ports) and a local notification
receiver, writes a fresh workspace (catalog, both policy versions, site profiles), points every
manager's and partner's Apprise URL at the receiver, then for each simulated day: shows that day's
prices, runs the real ``monitor`` flow (crawl → detect → evidence → alerts), and runs the real
``import-partner-reports`` flow on the reports the partners dropped that day. It ends with the
daily digests, an HTML report with the evidence, and a summary.

Simulated time: day N is ``demo.catalog.DAY_ONE + (N - 1)`` (day 1 = 2026-03-01) from 10:00 in the
sandbox's time zone (America/New_York); the process clock is shifted to it (:mod:`flows.clock`), so
observations, findings, alerts and report rows carry instants on that day and are judged against the
policy version, promotion and exemption in force then.

Prefect: every day runs as real flow runs in one process. The first flow run of a process pays
Prefect's start (7-15 s: a fresh ``<workspace>/.prefect`` database); later ones cost ~1 s. The start is
overlapped with setting up the world and the workspace.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Days 4-6 of the sandbox calendar: a MAP drop (days 4-6), policy v2 (from day 5) and a partner that
# keeps its old price, misreported prices (3+), an EU deviation (3-9), a CN cap breach (6-7), hidden
# pricing and unauthorised marketplace sellers (every day). More days: --days / --first-day.
DEFAULT_FIRST_DAY = 4
DEFAULT_DAYS = 3


@dataclass
class DemoResult:
    """What the demo did, for the summary and for tests."""

    workspace: Path
    days: list[int]
    report_path: Path | None = None
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    # CPU seconds of each phase, this process and its children (crawls, Chromium, Prefect's server) together.
    cpu: dict[str, float] = field(default_factory=dict)
    monitor_runs: list[dict[str, Any]] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    findings_by_kind: dict[str, int] = field(default_factory=dict)
    by_partner: list[dict[str, Any]] = field(default_factory=list)
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    by_tier: dict[str, dict[str, int]] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    received: int = 0
    received_unique: int = 0
    received_attachments: int = 0
    health: list[dict[str, Any]] = field(default_factory=list)
    truth_violations: dict[str, int] = field(default_factory=dict)
    truth_rows: list[dict[str, Any]] = field(default_factory=list)
    # Per rule, the monitor against the truth in violation episodes (demo.compare.compare).
    comparison: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    prefect_template: bool = False
    # The partner loop (flows.demo_partners): policy sent, a report by API, a complaint, an acknowledgement.
    policy_sent: dict[str, Any] = field(default_factory=dict)
    api_report: dict[str, Any] = field(default_factory=dict)
    complaint: dict[str, Any] = field(default_factory=dict)
    acknowledgement: dict[str, Any] = field(default_factory=dict)


class _Env:
    """Set environment variables for the demo and put the old values back at the end."""

    def __init__(self) -> None:
        self.saved: dict[str, str | None] = {}

    def set(self, key: str, value: str | None) -> None:
        if key not in self.saved:
            self.saved[key] = os.environ.get(key)
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

    def restore(self) -> None:
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _point_at_receiver(receiver: Any, *, email: bool) -> int:
    """Every active manager's and partner's notification URLs → the local receiver; returns how many."""
    from sqlalchemy import select

    from store.db import session_scope
    from store.models import Partner, User

    count = 0
    with session_scope() as session:
        for user in session.scalars(select(User).where(User.role != "partner")):
            urls = [receiver.json_url(f"user/{user.username}")]
            if email and user.email:
                urls.append(receiver.mailto_url(user.email))
            user.notification_urls = urls
            count += 1
        for partner in session.scalars(select(Partner)):
            partner.notice_urls = [receiver.json_url(f"partner/{partner.code}")]
            count += 1
    return count


def _setup_workspace(ws: Path, world: Any, origins: dict[str, str]) -> dict[str, Any]:
    """Write the workspace for the world's origins, migrate, import the catalog, publish both policies."""
    from demo import write_workspace
    from policies import publish_policy
    from store import upgrade
    from store.catalog import import_catalog
    from store.db import get_engine, session_scope

    write_workspace(ws, world, origins)
    upgrade(get_engine())
    catalog = import_catalog(ws / "catalog", actor="demo")
    published = []
    with session_scope() as session:
        for path in sorted((ws / "policies").glob("*.yaml")):
            published.append(publish_policy(session, path, published_by="demo"))
    return {"catalog": catalog, "policies": len(published)}


def _drop_reports(world: Any, day: int, inbox: Path) -> dict[str, Any]:
    """Have the partners drop their day's report files in ``inbox/<partner>/``."""
    with tempfile.TemporaryDirectory(prefix="pw-reports-") as tmp:
        truth = world.partner_reports(day, tmp)
        for item in truth["files"]:
            folder = inbox / item["partner"]
            folder.mkdir(parents=True, exist_ok=True)
            shutil.move(str(Path(tmp) / item["file"]), folder / item["file"])
    return dict(truth)


def run_demo(days: int = DEFAULT_DAYS, seed: int = 7, *, products: int = 20, first_day: int = DEFAULT_FIRST_DAY,
             workspace: Path | None = None, email: bool = False, show: bool = True) -> DemoResult:
    """Run the full demo; returns what it did (and prints a summary unless ``show`` is false).

    ``workspace`` must be new or empty (default: a fresh temporary folder, kept afterwards).
    """
    from pricewarden.errors import ConfigError

    started = time.perf_counter()
    ws = Path(workspace) if workspace is not None else Path(tempfile.mkdtemp(prefix="pricewarden-demo-"))
    if ws.exists() and any(ws.iterdir()):
        raise ConfigError(f"the demo needs a new or empty workspace; {ws} is not empty")
    ws = ws.resolve()
    ws.mkdir(parents=True, exist_ok=True)
    env = _Env()
    try:
        return _run(ws, env, days=days, seed=seed, products=products, first_day=first_day, email=email,
                    show=show, started=started)
    finally:
        from flows import clock

        clock.uninstall()
        env.restore()
        from pricewarden.settings import get_settings

        get_settings.cache_clear()


def _run(ws: Path, env: _Env, *, days: int, seed: int, products: int, first_day: int, email: bool, show: bool,
         started: float) -> DemoResult:
    from flows import clock
    from flows._cpu import adopt_orphans, tree_cpu_seconds
    from flows._env import prepare
    from pricewarden.settings import get_settings

    adopt_orphans()  # Chromium's renderers are charged to the phase that ran them

    # The demo's own database and evidence, whatever the caller's environment says.
    env.set("PRICEWARDEN_WORKSPACE", str(ws))
    env.set("PRICEWARDEN_DATABASE_URL", f"sqlite:///{ws / 'pricewarden.db'}")
    env.set("PRICEWARDEN_EVIDENCE_URL", str(ws / "evidence"))
    env.set("PRICEWARDEN_TIMEZONE", "America/New_York")
    # The sandbox runs on this machine: no need to adapt to its latency or to back off for long. Each
    # can still be set by the caller.
    for key, value in (("CRAWL__AUTOTHROTTLE", "false"), ("CRAWL__RETRIES", "1"), ("CRAWL__RETRY_BACKOFF", "0.1"),
                       ("CRAWL__PER_DOMAIN_CONCURRENCY", "8")):
        env.set(f"PRICEWARDEN_{key}", os.environ.get(f"PRICEWARDEN_{key}", value))
    get_settings.cache_clear()
    prepare(ws)

    from flows._prefect import warm_up

    # Prefect's database is migrated (or copied from the machine's template) with the workspace, and
    # its one server started, in a thread while the world and the workspace are set up.
    warm = warm_up(ws)
    result = DemoResult(workspace=ws, days=list(range(first_day, first_day + days)))
    marks: dict[str, float] = {}
    cpu: dict[str, float] = {}
    spent = [tree_cpu_seconds()]

    def mark(name: str, since: float) -> float:
        now = time.perf_counter()
        marks[name] = round(now - since, 2)
        used = tree_cpu_seconds()
        if used is not None and spent[0] is not None:
            cpu[name] = round(used - spent[0], 2)
        spent[0] = used
        return now

    from demo import World, serve
    from flows.receiver import Receiver

    t = time.perf_counter()
    world = World(seed=seed, products=products, day=first_day)
    with serve(world) as running, Receiver(smtp=email) as receiver:
        # The storefronts run on this machine: allowed one by one (with whatever the caller allows),
        # the network policy stays on.
        allowed = [*get_settings().network.allow, *sorted({urlsplit(o).netloc for o in running.origins.values()})]
        env.set("PRICEWARDEN_NETWORK__ALLOW", json.dumps(allowed))
        get_settings.cache_clear()
        _setup_workspace(ws, world, running.origins)
        _point_at_receiver(receiver, email=email)
        t = mark("setup", t)
        # While Prefect starts in its own process: the crawl fork server and detection's imports.
        from crawlers.run import warm_up_processes

        warm_up_processes()
        import detection.run  # noqa: F401  (pandas, scikit-learn: ~1.5 s, paid once)
        if warm is not None:
            warm.join()  # a server that did not start: one line (OrchestrationError), and no server left
            result.prefect_template = warm.prepared in ("template", "ready")
        t = mark("prefect_start_wait", t)

        from crawlers.shared_browser import shared_browser
        from flows import demo_partners
        from flows.monitor import monitor
        from flows.ops import digest, import_partner_reports

        # Both versions are sent to the partners whose prices they change, as `pricewarden policy publish` does,
        # on the first day (v2 comes into force on day 5): the messages go out with that day's alerts.
        clock.go_to_day(first_day)
        result.policy_sent = demo_partners.distribute([1, 2])
        truth: Counter[str] = Counter()
        # One Chromium for every day's evidence step (launched by the first that needs it).
        with shared_browser():
            for day in result.days:
                running.set_day(day)
                clock.go_to_day(day)
                day_truth = world.truth(day, running.origins)
                truth.update(v["rule"] for v in day_truth["violations"])
                result.truth_rows.extend(day_truth["violations"])
                run = monitor(at=clock.now())
                result.monitor_runs.append({"day": day, **run})
                t = mark(f"day {day} monitor", t)
                _drop_reports(world, day, get_settings().inbox_dir)
                result.imports.append({"day": day, **import_partner_reports(now=clock.now())})
                t = mark(f"day {day} import", t)
        _partner_loop(result, world, running.origins, result.days[-1])
        t = mark("partner loop", t)
        digest(now=clock.now())
        t = mark("digest", t)
        result.truth_violations = dict(sorted(truth.items()))
        _finish(result, receiver, first_day)
        mark("report", t)
    result.timings = marks
    result.cpu = cpu
    result.elapsed = round(time.perf_counter() - started, 2)
    if show:
        print_summary(result)
    return result


def _partner_loop(result: DemoResult, world: Any, origins: dict[str, str], day: int) -> None:
    """After the monitoring days: a report by API, a complaint run at once, a policy acknowledgement."""
    from flows import clock, demo_partners
    from store.db import get_engine

    with demo_partners.served_app() as base_url:
        rows = demo_partners.report_rows(world, origins, day, clock.now())
        result.api_report = demo_partners.api_report(base_url, rows)
    target = demo_partners.complaint_target(world, origins, day)
    if target is not None:
        result.complaint = {**demo_partners.complaint(
            get_engine(), target["url"], f"This seller advertises {target['sku']} below the minimum advertised "
            "price."), "sku": target["sku"]}
    result.acknowledgement = demo_partners.acknowledgement()


def _finish(result: DemoResult, receiver: Any, first_day: int) -> None:
    """Count what happened and write the HTML report."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from demo.compare import compare
    from flows import clock
    from flows.ops import build_report
    from flows.report import gather
    from store.db import session_scope
    from store.models import AlertDelivery

    since = clock.day_instant(first_day) - timedelta(hours=12)
    until = clock.now() + timedelta(minutes=1)
    with session_scope() as session:
        data = gather(session, since, until, title="PriceWarden demo: violations and evidence")
        result.outbox = dict(session.execute(select(AlertDelivery.status, func.count())
                                             .group_by(AlertDelivery.status)).tuples().all())
        result.comparison = compare(result.truth_rows, _findings_by_day(session, since, until))
    result.findings_by_kind = dict(Counter(f["kind"] for f in data.findings))
    result.by_partner, result.by_rule, result.by_tier = data.by_partner, data.by_rule, data.by_tier
    result.health = data.health
    result.report_path = build_report(since, until, "demo-report", title="PriceWarden demo: violations and evidence")
    result.received = len(receiver.messages)
    unique = receiver.unique()
    result.received_unique = len(unique)
    result.received_attachments = sum(len(m.attachments) for m in unique)
    result.missing = [f"day {r['day']}: {k}" for r in result.monitor_runs for k, v in r.get("evidence", {}).items()
                      if k == "missing" and v]


def _findings_by_day(session: Any, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The violations and deviations seen in the window, with the simulated days they were seen on."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from demo.catalog import TIMEZONE, day_date
    from store.models import Partner, Product, Violation

    zone = ZoneInfo(TIMEZONE)

    def day(at: datetime) -> int:
        return (at.astimezone(zone).date() - day_date(1)).days + 1

    rows = session.execute(
        select(Violation, Product.sku, Partner.code)
        .outerjoin(Product, Violation.product_id == Product.id)
        .outerjoin(Partner, Violation.partner_id == Partner.id)
        .where(Violation.kind.in_(("violation", "deviation")), Violation.last_seen_at >= since,
               Violation.first_seen_at < until)).all()
    return [{"rule": v.rule, "sku": sku, "partner": code, "seller_id": v.seller_id, "url": v.url,
             "first_day": day(v.first_seen_at), "last_day": day(v.last_seen_at)} for v, sku, code in rows]


def _stamp(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"


def _print_partner_loop(result: DemoResult) -> None:
    """The partner loop's three lines (and the policy sent before the first day)."""
    from zoneinfo import ZoneInfo

    from demo.catalog import TIMEZONE
    from pricewarden.console import console

    sent = result.policy_sent
    if sent:
        console.print(f"Policy sent: versions {', '.join(map(str, sent['versions']))} to the partners whose prices "
                      f"they change ({sent['receipts']} receipts, {sent['messages']} messages; {sent['asked']} "
                      "partners in map scopes asked to acknowledge receipt).", highlight=False, soft_wrap=True)
    api = result.api_report
    if api:
        reasons = "; ".join(f"row {r['row']} {r['column']}: {r['reason']}" for r in api["rejections"][:3])
        console.print(f"API report: partner {api['partner']} POST {api['url']} -> {api['status']}, receipt "
                      f"{api['id']}: {api['accepted']} accepted, {api['rejected']} rejected"
                      + (f" ({reasons})" if reasons else "") + ".", highlight=False, soft_wrap=True)
    found = result.complaint
    if found:
        console.print(f"Complaint: partner {found['by']} about {found['url']} ({found['sku']}, "
                      f"shown {found['public_price'] or '-'}): {_OUTCOMES.get(found['outcome'], found['outcome'])}, "
                      f"violation {found['violation_id'] or '-'}.", highlight=False, soft_wrap=True)
    ack = result.acknowledgement
    if ack:
        at = ack["at"].astimezone(ZoneInfo(TIMEZONE))
        console.print(f"Policy acknowledgement: {ack['by']} (partner {ack['partner']}) acknowledged receipt of "
                      f"policy v{ack['version']} at {at:%Y-%m-%d %H:%M:%S %Z}, SHA-256 {ack['sha256']}.",
                      highlight=False, soft_wrap=True)


_OUTCOMES = {"violation": "violation found", "compliant": "compliant", "not_our_product": "not our product",
             "unreadable": "could not be read"}


def print_summary(result: DemoResult) -> None:
    """The demo's summary: findings by partner, rule and tier; alerts; crawl health; where the report is.

    Tables switch to one block per row on a terminal too narrow for them (``print_table``): no number is cut.
    """
    from pricewarden.console import console, print_table

    console.rule("PriceWarden demo")
    imports = {i["day"]: i for i in result.imports}
    days = []
    for run in result.monitor_runs:
        imp = imports.get(run["day"], {})
        accepted = sum(int(x.get("rows_accepted", 0)) for x in imp.get("imported", []))
        rejected = sum(int(x.get("rows_rejected", 0)) for x in imp.get("imported", []))
        days.append([run["day"], run["slot"][:16].replace("T", " "), run["crawl"]["listings"],
                     run["crawl"]["observations"], run["crawl"]["failures"], len(run["detect"]["new_violations"]),
                     len(run["detect"]["new_deviations"]), run["alerts"]["sent"], accepted, rejected])
    print_table("Monitor runs (one per simulated day)",
                ["day", "slot (UTC)", "listings", "observations", "crawl failures", "new violations",
                 "new deviations", "alerts sent", "report rows accepted", "report rows rejected"], days)
    print_table("Findings by partner", ["partner", "name", "tier", "violations", "deviations", "anomalies"],
                [[p["partner"], p["name"], p["tier"], p["violation"], p["deviation"], p["anomaly"]]
                 for p in result.by_partner])
    for title, counts in (("Findings by rule", result.by_rule), ("Findings by tier", result.by_tier)):
        print_table(title, [title.split()[-1], "violations", "deviations", "anomalies"],
                    [[key, c.get("violation", 0), c.get("deviation", 0), c.get("anomaly", 0)]
                     for key, c in counts.items()])
    print_table("Crawl health", ["site", "pages", "ok", "failed", "failure rate", "warnings"],
                [[h["site"], h["pages"], h["ok"], h["failed"], f"{h['failure_rate']:.0%}", "; ".join(h["warnings"])]
                 for h in result.health])
    console.print(f"Alerts: outbox {dict(sorted(result.outbox.items()))}; the local receiver got "
                  f"{result.received} messages ({result.received_unique} distinct by idempotency key, "
                  f"{result.received_attachments} evidence attachments).", highlight=False)
    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    print_table("The monitor against the sandbox's truth, in violation episodes (a breach on consecutive days "
                "is one episode; the monitor keeps it as one violation)",
                ["rule", "truth episodes", "monitor found", "matched", "precision", "recall"],
                [[c["rule"], "-" if c["truth_episodes"] is None else c["truth_episodes"], c["findings"],
                  "-" if c["matched"] is None else c["matched"], share(c["precision"]), share(c["recall"])]
                 for c in result.comparison])
    if any(c["truth_episodes"] is None for c in result.comparison):
        console.print("(-: the storefronts' truth does not hold this rule; misreports come from partner reports)",
                      highlight=False)
    _print_partner_loop(result)
    for note in result.missing:
        console.print(f"[yellow]missing:[/] {note}")
    console.print(f"Workspace: {result.workspace}", highlight=False, soft_wrap=True)
    if result.report_path is not None:
        console.print(f"Violation report with evidence: {result.report_path}", highlight=False, soft_wrap=True)
        console.print(f"Open it: xdg-open {result.report_path}   (or review, filter and act in the browser: "
                      f"pricewarden web, with PRICEWARDEN_WORKSPACE={result.workspace})", highlight=False,
                      soft_wrap=True)
    console.print(f"Timings (s): {result.timings}", highlight=False)
    if result.cpu:
        console.print(f"CPU (s, with child processes): {result.cpu}", highlight=False)
    console.print(f"Elapsed: {result.elapsed:.1f} s", style="bold", highlight=False)
    if not result.prefect_template:
        console.print("Prefect's database was migrated from scratch for this run (~7 s); `python -m flows._env "
                      "--template` (part of `make demo`) prepares a template once per machine.", highlight=False)
