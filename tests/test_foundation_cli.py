"""Settings, `config show`, `init`, error handling and the generated README references."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pricewarden import docs
from pricewarden.cli import app
from pricewarden.errors import ConfigError
from pricewarden.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]


def _all_fields(model: type, prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            names += _all_fields(annotation, f"{prefix}{name.upper()}__")
        else:
            assert info.description, f"setting {prefix}{name} has no description"
            names.append(f"PRICEWARDEN_{prefix}{name.upper()}")
    return names


def test_every_setting_is_described_and_documented_in_the_settings_reference() -> None:
    reference = (ROOT / "docs" / "reference" / "settings.md").read_text(encoding="utf-8")
    for env in _all_fields(Settings):
        assert f"`{env}`" in reference, f"{env} is not in docs/reference/settings.md"


def test_generated_reference_pages_are_current() -> None:
    assert docs.main([]) == 0, "docs/reference is stale: run `make docs`"


def test_the_cli_reference_names_every_option_form_and_its_default() -> None:
    reference = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    assert "`--force`" in reference
    # Boolean pairs appear with both forms, and options with a default say it.
    assert " / `--no-" in reference
    assert "(default: `" in reference


def test_environment_and_nested_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PRICEWARDEN_CRAWL__CONCURRENCY", "3")
    monkeypatch.setenv("PRICEWARDEN_TIMEZONE", "Asia/Shanghai")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.crawl.concurrency == 3
    assert settings.zone.key == "Asia/Shanghai"
    assert settings.database.startswith("sqlite:///") and settings.database.endswith("workspace/pricewarden.db")


def test_workspace_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    workspace = Path(get_settings().workspace)
    workspace.mkdir(parents=True)
    (workspace / "pricewarden.toml").write_text('timezone = "Europe/Berlin"\n[alerts]\ndigest_hour = 6\n')
    get_settings.cache_clear()
    assert get_settings().timezone == "Europe/Berlin"
    assert get_settings().alerts.digest_hour == 6
    monkeypatch.setenv("PRICEWARDEN_TIMEZONE", "UTC")
    get_settings.cache_clear()
    assert get_settings().timezone == "UTC"


def test_bad_setting_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEWARDEN_TIMEZONE", "Mars/Olympus")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        get_settings()


def test_browser_is_the_configured_one_else_the_headless_shell_else_the_full_browser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import pricewarden.settings as settings_module

    shell, full, mine = tmp_path / "chromium-headless-shell", tmp_path / "chromium", tmp_path / "my-chrome"
    for path in (shell, full, mine):
        path.write_text("#!/bin/sh\n")
    monkeypatch.setattr(settings_module, "SYSTEM_BROWSERS", (str(shell), str(full)))
    get_settings.cache_clear()
    assert get_settings().chromium() == str(shell)
    shell.unlink()
    assert get_settings().chromium() == str(full)
    monkeypatch.setenv("PRICEWARDEN_BROWSER_PATH", str(mine))
    get_settings.cache_clear()
    assert get_settings().chromium() == str(mine)
    mine.unlink()
    with pytest.raises(ConfigError, match="my-chrome"):
        get_settings().chromium()


def test_config_show_redacts_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICEWARDEN_DATABASE_URL", "postgresql+psycopg://bob:hunter2@db.example:5432/pw")
    monkeypatch.setenv("PRICEWARDEN_CRAWL__PROXY", "http://user:pr0xypass@proxy.example:3128")
    get_settings.cache_clear()
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "hunter2" not in result.output and "pr0xypass" not in result.output
        assert "*****" in result.output
    as_json = CliRunner().invoke(app, ["config", "show", "--json"]).output
    assert "postgresql+psycopg://bob:**********@db.example:5432/pw" in as_json


def test_errors_print_one_line_and_exit_1_traceback_only_with_debug(db: Engine, tmp_path: Path) -> None:
    env_cmd = [sys.executable, "-m", "pricewarden.cli"]
    missing = str(tmp_path / "missing")
    plain = subprocess.run([*env_cmd, "catalog", "import", missing], capture_output=True, text=True, check=False)
    assert plain.returncode == 1
    assert plain.stderr.strip().startswith("error:") and "no catalog files" in plain.stderr
    assert "Traceback" not in plain.stderr
    debug = subprocess.run([*env_cmd, "--debug", "catalog", "import", missing], capture_output=True, text=True,
                           check=False)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_init_creates_a_working_workspace(db: Engine, tmp_path: Path) -> None:
    workspace = tmp_path / "fresh"
    result = CliRunner().invoke(app, ["init", str(workspace)])
    assert result.exit_code == 0, result.output
    for folder in ("policies", "profiles", "inbox", "reports", "catalog"):
        assert (workspace / folder).is_dir()
    assert "products: 5 created" in result.output
    listing = CliRunner().invoke(app, ["catalog", "list", "partners", "--json"])
    assert '"code": "P004"' in listing.output
