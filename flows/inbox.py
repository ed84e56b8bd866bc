"""The partner-report inbox: files dropped in ``<workspace>/inbox/<partner code>/`` and configured feeds.

Each file is imported as one batch for the partner its folder names (``crawlers.reports.import_file``,
which refuses a file it has already imported for that partner); an imported file is then moved to
``inbox/done/<partner code>/``. A file that cannot be read at all is moved to
``inbox/failed/<partner code>/`` with a ``.error.txt`` beside it, so one bad upload never blocks the
rest. Feeds are listed in ``<workspace>/feeds.yaml``: ``- {partner: P001, url: https://...}``.

A crash between the import and the move is harmless: the next run imports the file again, the
importer recognises its SHA-256 and changes nothing, and the file is moved then.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SKIP_DIRS = frozenset({"done", "failed"})
SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".json"})


@dataclass
class InboxSummary:
    """What one inbox pass did."""

    imported: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    feeds: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)

    @property
    def rows_accepted(self) -> int:
        """Rows accepted over every file and feed."""
        return sum(int(i.get("rows_accepted", 0)) for i in self.imported + self.feeds)

    @property
    def rows_rejected(self) -> int:
        """Rows rejected over every file and feed."""
        return sum(int(i.get("rows_rejected", 0)) for i in self.imported + self.feeds)


def _outside(path: Path, root: Path) -> bool:
    """Whether ``path`` is a link (or under one) that leads out of ``root``."""
    try:
        return not path.resolve(strict=False).is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop
        return True


def _entries(inbox: Path) -> list[tuple[Path, list[Path]]]:
    """(partner folder, its report files) for every folder of the inbox, links included, in a stable order."""
    if not inbox.is_dir():
        return []
    found = []
    for folder in sorted(p for p in inbox.iterdir() if p.is_dir() and p.name not in SKIP_DIRS):
        files = [] if _outside(folder, inbox) else sorted(
            f for f in folder.iterdir()
            if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith("."))
        found.append((folder, files))
    return found


def pending_files(inbox: Path) -> list[tuple[str, Path]]:
    """(partner code, file) for every report waiting in ``inbox``, in a stable order.

    A link (file or partner folder) that leads out of the inbox is never read: see :func:`refused_links`.
    """
    return [(folder.name, file) for folder, files in _entries(inbox) for file in files
            if not _outside(file, inbox)]


def refused_links(inbox: Path) -> dict[str, str]:
    """Links out of the inbox, each with its one-line refusal (``P001/x.csv`` -> why it is not read).

    Whoever can write in the inbox must not make the import read (and move, and show in a receipt)
    a file elsewhere on the machine. A link that stays inside the inbox is harmless and followed.
    """
    refused: dict[str, str] = {}
    for folder, files in _entries(inbox):
        if _outside(folder, inbox):
            refused[folder.name] = f"inbox/{folder.name}: a link to outside the inbox; not read"
            continue
        for file in files:
            if _outside(file, inbox):
                key = f"{folder.name}/{file.name}"
                refused[key] = f"inbox/{key}: a link to outside the inbox; not read"
    return refused


def _move(file: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / file.name
    if dest.exists():  # the same name uploaded again: keep both
        dest = dest_dir / f"{file.stem}.{int(file.stat().st_mtime_ns)}{file.suffix}"
    shutil.move(str(file), dest)
    return dest


def import_one(partner: str, file: Path, inbox: Path, now: datetime | None = None) -> dict[str, Any]:
    """Import one file for ``partner`` and move it to ``done/`` (or ``failed/``); returns what happened."""
    from crawlers.reports import import_file
    from pricewarden.errors import PriceWardenError

    try:
        result = import_file(file, partner, submitted_by="inbox", now=now)
    except PriceWardenError as exc:
        moved = _move(file, inbox / "failed" / partner)
        moved.with_name(moved.name + ".error.txt").write_text(f"{exc}\n", encoding="utf-8")
        return {"file": file.name, "partner": partner, "error": str(exc)}
    _move(file, inbox / "done" / partner)
    data = result.to_dict()
    data.pop("rejections", None)
    return data


def read_feeds(path: Path) -> list[dict[str, str]]:
    """Feeds configured in ``feeds.yaml`` (a list of ``{partner, url}``); none when the file is absent."""
    import yaml

    from pricewarden.errors import ConfigError

    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list) or not all(isinstance(d, dict) and {"partner", "url"} <= d.keys() for d in data):
        raise ConfigError(f"{path}: expected a list of {{partner, url}} entries")
    return [{"partner": str(d["partner"]), "url": str(d["url"])} for d in data]


def import_feed(partner: str, url: str) -> dict[str, Any]:
    """Pull one feed (``crawlers.reports.import_feed``)."""
    from crawlers import reports

    data = reports.import_feed(url, partner).to_dict()
    data.pop("rejections", None)
    return data
