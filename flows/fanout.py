"""Fan a monitor run out over the workers of its work pool, and join the shards before detection.

A ``monitor`` run that a worker of a work pool picked up (the scheduled deployment) splits the active
listings into shards (``scale.shards``, or one per online worker of the pool): each site belongs to
one shard, placed so that the shards hold about as many listings each
(:func:`crawlers.targets.place_sites`), and a site holding more than a shard's share is
shared by listing between several (:func:`crawlers.targets.split_sites`), each taking its part of
the site's connection limit. Shard 0 is crawled by the monitor run itself (its worker is busy with
it anyway); every other shard is a run of the ``monitor-shard`` deployment (``scale.shard_deployment``,
crawl only), which any free worker of the pool takes. The monitor waits for them, submits a shard
again when its run failed or crashed (a killed worker) or took longer than ``scale.shard_timeout``,
up to ``scale.shard_retries`` times, and then detects, captures evidence and alerts once for all.

A shard crawled twice stores nothing twice: observations and failures carry natural keys from the
run slot, and a crawl run's key names its slot and shard.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows import steps

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0


def current_pool() -> str | None:
    """The work pool of the current flow run when a deployment's worker runs it, else ``None``."""
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    run = getattr(context, "flow_run", None)
    if run is None or run.deployment_id is None:
        return None
    pool: str | None = run.work_pool_name
    return pool


def online_workers(pool: str) -> int:
    """How many workers of ``pool`` are online (have sent a heartbeat lately)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import WorkerFilter, WorkerFilterStatus

    with get_client(sync_client=True) as client:
        workers = client.read_workers_for_work_pool(
            pool, worker_filter=WorkerFilter(status=WorkerFilterStatus(any_=["ONLINE"])))
    return len(workers)


def shards_for_run() -> int:
    """Shards this monitor run fans out to: 1 outside a work pool, else ``scale.shards`` or one per online worker."""
    from pricewarden.settings import get_settings

    pool = current_pool()
    if pool is None:
        return 1
    wanted = get_settings().scale.shards
    return max(1, wanted or online_workers(pool))


@dataclass
class _Shard:
    index: int
    run_id: Any = None
    submitted: float = 0.0
    attempts: int = 0
    outcome: str = "pending"  # pending | completed | given up
    states: list[str] = field(default_factory=list)


def _submit(shard: _Shard, parameters: dict[str, Any], at: datetime) -> None:
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    from pricewarden.errors import ConfigError
    from pricewarden.settings import get_settings

    shard.attempts += 1
    name = get_settings().scale.shard_deployment
    try:
        run: Any = run_deployment(
            name, parameters=parameters, timeout=0,
            # A monitor run retried after a crash submits the same attempts again, not new ones.
            idempotency_key=f"monitor-shard {at.isoformat()} {shard.index}/{parameters['shards']} #{shard.attempts}",
        )
    except ObjectNotFound:
        raise ConfigError(f"the monitor fans out to deployment {name!r}, which does not exist: deploy prefect.yaml "
                          "(`prefect deploy --all`) or set PRICEWARDEN_SCALE__SHARDS=1") from None
    shard.run_id = run.id
    shard.submitted = time.monotonic()
    log.info("shard %s/%s submitted as flow run %s (attempt %s)", shard.index, parameters["shards"], run.id,
             shard.attempts)


def _wait(shards: list[_Shard], parameters: dict[str, list[Any] | Any], at: datetime) -> None:
    """Wait for every shard run to finish; submit failed, crashed and overdue ones again (bounded)."""
    from prefect.client.orchestration import get_client

    from pricewarden.settings import get_settings

    scale = get_settings().scale
    with get_client(sync_client=True) as client:
        while any(s.outcome == "pending" for s in shards):
            for shard in shards:
                if shard.outcome != "pending":
                    continue
                state = client.read_flow_run(shard.run_id).state
                name = state.type.value if state is not None else "UNKNOWN"
                if state is not None and state.is_completed():
                    shard.outcome = "completed"
                    shard.states.append(name)
                    continue
                overdue = time.monotonic() - shard.submitted > scale.shard_timeout
                if not (state is not None and state.is_final()) and not overdue:
                    continue
                shard.states.append("TIMED OUT" if overdue and not (state and state.is_final()) else name)
                if shard.attempts > scale.shard_retries:
                    shard.outcome = "given up"
                    log.error("shard %s gave up after %s attempts (%s)", shard.index, shard.attempts, shard.states)
                    continue
                log.warning("shard %s run %s ended %s: submitting it again", shard.index, shard.run_id,
                            shard.states[-1])
                _submit(shard, {**parameters, "shard": shard.index}, at)
            if any(s.outcome == "pending" for s in shards):
                time.sleep(POLL_SECONDS)


def crawl_sharded(at: datetime, shards: int, processes: int | None = None) -> steps.CrawlSummary:
    """Crawl every active listing for slot ``at`` in ``shards`` shards over the pool's workers; joined counts."""
    from crawlers.targets import place_sites, split_sites
    from pricewarden.settings import get_settings

    targets = steps.select_targets()
    split = split_sites(targets, shards, get_settings().crawl.per_domain_concurrency)
    placement = place_sites(targets, shards, split)
    parameters: dict[str, Any] = {"at": at.isoformat(), "shards": shards, "split": split, "placement": placement,
                                  "crawl_only": True, "capture": False, "processes": processes}
    others = [_Shard(i) for i in range(1, shards)]
    for shard in others:
        _submit(shard, {**parameters, "shard": shard.index}, at)
    own = steps.crawl(at, shard=0, shards=shards, split=split, placement=placement, processes=processes)
    _wait(others, parameters, at)
    summary = steps.CrawlSummary(at=at.isoformat(), listings=len(targets), shards=shards,
                                 failed_shards=list(own.failed_shards))
    summary.failed_shards += [f"{s.index}of{shards}" for s in others if s.outcome != "completed"]
    steps.count_slot(summary, at, shards)
    summary.shard_runs = {str(s.index): {"flow_run": str(s.run_id), "attempts": s.attempts, "states": s.states}
                          for s in others}
    return summary
