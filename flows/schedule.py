"""Deployments on cron schedules: ``pricewarden schedule`` serves them from this machine.

Each flow becomes a deployment with the cron of ``settings.schedule`` in the workspace time zone
(``settings.timezone``). ``serve_schedules`` blocks, running each scheduled run in this process
(Prefect's ``serve``); teams deploy the same flows to a process work pool with ``prefect.yaml``.
"""

from __future__ import annotations

from typing import Any

CRONS = {  # deployment name -> (flow attribute, settings.schedule field)
    "monitor": ("monitor", "monitor_cron"),
    "import-partner-reports": ("import_partner_reports", "import_cron"),
    "digest": ("digest", "digest_cron"),
    "weekly-report": ("weekly_report", "weekly_report_cron"),
}


def plan() -> list[dict[str, str]]:
    """The deployments, each with its cron and time zone (plain data; no Prefect import)."""
    from pricewarden.settings import get_settings

    settings = get_settings()
    return [{"deployment": name, "flow": attr, "cron": getattr(settings.schedule, field), "timezone": settings.timezone}
            for name, (attr, field) in CRONS.items()]


def deployments() -> list[Any]:
    """``RunnerDeployment`` objects for every scheduled flow."""
    from flows._prefect import Cron
    from flows.monitor import monitor
    from flows.ops import digest, import_partner_reports, weekly_report

    flows: dict[str, Any] = {"monitor": monitor, "import_partner_reports": import_partner_reports, "digest": digest,
             "weekly_report": weekly_report}
    return [flows[p["flow"]].to_deployment(name=p["deployment"], schedules=[Cron(p["cron"], timezone=p["timezone"])],
                                           tags=["pricewarden"])
            for p in plan()]


def serve_schedules() -> None:
    """Serve every deployment on its schedule until interrupted."""
    from flows._prefect import serve

    serve(*deployments())
