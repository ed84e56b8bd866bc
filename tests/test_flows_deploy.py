"""The team set-up: `prefect deploy --all` reads prefect.yaml and creates every deployment on a work pool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).parent / "prefect")


def test_prefect_yaml_deploys_every_flow_with_its_schedule(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # Each command starts Prefect's temporary server on the same home, so what one creates the next sees.
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PRICEWARDEN_CODE_DIR=str(REPO), COLUMNS="250",
               # Prefect's own CLI gives its temporary server 20 s to start: too little on a busy machine
               # (docs/scale-out.md says the same to users).
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")

    def prefect(*args: str) -> str:
        done = subprocess.run([PREFECT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout

    prefect("work-pool", "create", "pricewarden", "--type", "process")
    prefect("--no-prompt", "deploy", "--all")
    listing = prefect("deployment", "ls")
    for name in ("monitor/monitor", "monitor/monitor-shard", "import-partner-reports/import-partner-reports",
                 "digest/digest", "weekly-report/weekly-report"):
        assert name in listing
    monitor = prefect("deployment", "inspect", "monitor/monitor")
    assert "0 */4 * * *" in monitor and "'pricewarden'" in monitor
    shard = prefect("deployment", "inspect", "monitor/monitor-shard")
    assert "'shards': 2" in shard
