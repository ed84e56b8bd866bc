"""Who receives an alert about a violation, and why.

A violation goes to the channel manager responsible for its partner; when there is none, to the
region's fallback managers; when there is none either (or the seller is no partner), to the brand
manager. Those are the three *levels* of a route: an alert left unacknowledged past the SLA of its
severity escalates to the next level. A partner reaching a *penalty* step of the policy's escalation
ladder brings in the brand manager at once. Deviations and anomalies in a scope whose mode does not
allow acting on a partner (recommended, observe) go to the brand manager only, as information:
a channel manager is the person who would intervene, and intervening is what those markets forbid.

The routing table lives in ``<workspace>/routing.yaml``::

    brand_manager: bob               # username, or a list of usernames
    regions:
      US: {fallback: [carol]}        # username or list; optional timezone: America/New_York
      EU: {fallback: dave, timezone: Europe/Berlin}
    sla_hours: {critical: 4, high: 24, medium: 48, low: 72}
    user_timezones: {wang: Asia/Shanghai}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from pricewarden.errors import ConfigError, Problem
from store.models import Partner, PolicyVersion, Role, User, Violation

SEVERITIES = ("low", "medium", "high", "critical")
ACTIONABLE_MODES = frozenset({"map", "maximum"})
LEVEL_NAMES = ("channel manager", "region fallback", "brand manager")


class RoutingError(ConfigError):
    """A routing table with problems; ``problems`` lists each with file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("invalid routing table: " + "; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class RegionRoute:
    """The fallback managers (and optional time zone) of one region."""

    fallback: tuple[str, ...] = ()
    timezone: str | None = None


@dataclass(frozen=True)
class RoutingTable:
    """The workspace's routing table (``routing.yaml``); every part is optional."""

    brand_managers: tuple[str, ...] = ()
    regions: dict[str, RegionRoute] = field(default_factory=dict)
    sla_hours: dict[str, float] = field(default_factory=dict)
    user_timezones: dict[str, str] = field(default_factory=dict)
    source: str = "(defaults)"

    def sla_for(self, severity: str, default_hours: float) -> float:
        """Hours an alert of ``severity`` may stay unacknowledged before it escalates."""
        return self.sla_hours.get(severity, default_hours)

    def zone_for(self, username: str | None, region: str | None, default: str) -> ZoneInfo:
        """The time zone in which a recipient reads instants: own, then region's, then workspace's."""
        name = (self.user_timezones.get(username or "")
                or (self.regions.get(region or "") or RegionRoute()).timezone or default)
        return ZoneInfo(name)


def _names(node: yaml.Node, where: str, problems: list[Problem], file: str) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode) and node.value:
        return (str(node.value),)
    if isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.ScalarNode) for n in node.value):
        return tuple(str(n.value) for n in node.value)
    problems.append(Problem(file, node.start_mark.line + 1, where, "expected a username or a list of usernames"))
    return ()


def _zone_ok(node: yaml.Node, where: str, problems: list[Problem], file: str) -> str | None:
    value = str(getattr(node, "value", ""))
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(file, node.start_mark.line + 1, where, f"unknown IANA time zone {value!r}"))
        return None
    return value


def parse_routing(text: str, file: str = "routing.yaml") -> RoutingTable:
    """Parse and validate a routing table; every problem is reported with its file and line."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RoutingError([Problem(file, mark.line + 1 if mark else None, None, f"not valid YAML: {exc}")]) from None
    if root is None:
        return RoutingTable(source=file)
    if not isinstance(root, yaml.MappingNode):
        raise RoutingError([Problem(file, root.start_mark.line + 1, None, "expected a mapping at the top level")])
    problems: list[Problem] = []
    brand: tuple[str, ...] = ()
    regions: dict[str, RegionRoute] = {}
    sla: dict[str, float] = {}
    zones: dict[str, str] = {}
    for key_node, value in root.value:
        key, line = str(key_node.value), key_node.start_mark.line + 1
        if key == "brand_manager":
            brand = _names(value, key, problems, file)
        elif key == "regions":
            if not isinstance(value, yaml.MappingNode):
                problems.append(Problem(file, line, key, "expected a mapping of region → {fallback, timezone}"))
                continue
            for region_node, spec in value.value:
                region = str(region_node.value)
                where = f"regions.{region}"
                if isinstance(spec, yaml.ScalarNode | yaml.SequenceNode):  # shorthand: region: [users]
                    regions[region] = RegionRoute(_names(spec, where, problems, file))
                    continue
                fallback: tuple[str, ...] = ()
                zone = None
                for k_node, v in spec.value:
                    k = str(k_node.value)
                    if k == "fallback":
                        fallback = _names(v, f"{where}.fallback", problems, file)
                    elif k == "timezone":
                        zone = _zone_ok(v, f"{where}.timezone", problems, file)
                    else:
                        problems.append(Problem(file, k_node.start_mark.line + 1, f"{where}.{k}",
                                                "unknown field (expected fallback, timezone)"))
                regions[region] = RegionRoute(fallback, zone)
        elif key == "sla_hours":
            if not isinstance(value, yaml.MappingNode):
                problems.append(Problem(file, line, key, "expected a mapping of severity → hours"))
                continue
            for sev_node, hours in value.value:
                sev = str(sev_node.value)
                where, at = f"sla_hours.{sev}", sev_node.start_mark.line + 1
                if sev not in SEVERITIES:
                    expected = ", ".join(SEVERITIES)
                    problems.append(Problem(file, at, where, f"unknown severity (expected one of {expected})"))
                    continue
                try:
                    number = float(hours.value)
                except (TypeError, ValueError):
                    number = -1.0
                if number <= 0:
                    message = f"expected a positive number of hours, got {hours.value!r}"
                    problems.append(Problem(file, at, where, message))
                    continue
                sla[sev] = number
        elif key == "user_timezones":
            if not isinstance(value, yaml.MappingNode):
                problems.append(Problem(file, line, key, "expected a mapping of username → time zone"))
                continue
            for user_node, zone_node in value.value:
                zone = _zone_ok(zone_node, f"user_timezones.{user_node.value}", problems, file)
                if zone:
                    zones[str(user_node.value)] = zone
        else:
            problems.append(Problem(file, line, key,
                                    "unknown field (expected brand_manager, regions, sla_hours, user_timezones)"))
    if problems:
        raise RoutingError(problems)
    return RoutingTable(brand, regions, sla, zones, file)


def load_routing(path: Path | None = None) -> RoutingTable:
    """The routing table of the workspace (``alerts.routing_file`` or ``<workspace>/routing.yaml``)."""
    from pricewarden.settings import get_settings

    settings = get_settings()
    path = path or settings.alerts.routing_file or settings.workspace / "routing.yaml"
    if not path.is_file():
        return RoutingTable()
    return parse_routing(path.read_text(encoding="utf-8"), str(path))


@dataclass(frozen=True)
class LadderStep:
    """A step of the policy's escalation ladder, as it applies to one violation."""

    name: str
    notify_partner: bool = False
    penalty: bool = False
    found: bool = True


def ladder_step(session: Session, violation: Violation) -> LadderStep | None:
    """The escalation-ladder step of ``violation`` with its flags, read from its policy version.

    Detection may copy the step's flags into ``violation.details["escalation"]``; otherwise the
    step is looked up by name in the scope (named in ``details["scope"]`` or matching the region)
    of the policy version the violation was judged against.
    """
    if not violation.escalation_step:
        return None
    name = violation.escalation_step
    given = (violation.details or {}).get("escalation")
    if isinstance(given, dict) and given.get("name", name) == name:
        return LadderStep(name, bool(given.get("notify_partner")), bool(given.get("penalty")))
    if violation.policy_version is None:
        return LadderStep(name, found=False)
    text = session.scalar(select(PolicyVersion.source_text).where(PolicyVersion.version == violation.policy_version))
    try:
        data: Any = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        data = None
    scopes = data.get("scopes", []) if isinstance(data, dict) else []
    wanted = (violation.details or {}).get("scope")
    for scope in scopes if isinstance(scopes, list) else []:
        if not isinstance(scope, dict):
            continue
        if wanted and scope.get("name") != wanted:
            continue
        if not wanted and violation.region and violation.region not in (scope.get("regions") or []):
            continue
        for step in (scope.get("escalation") or {}).get("steps", []) or []:
            if isinstance(step, dict) and step.get("name") == name:
                return LadderStep(name, bool(step.get("notify_partner")), bool(step.get("penalty")))
    return LadderStep(name, found=False)


@dataclass(frozen=True)
class Recipient:
    """One person an alert goes to, at which level, and why."""

    user_id: int
    username: str
    locale: str
    level: int
    why: str
    targets: int

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON views (no notification URLs: they are secrets)."""
        return {"username": self.username, "level": self.level, "level_name": LEVEL_NAMES[self.level],
                "locale": self.locale, "targets": self.targets, "why": self.why}


@dataclass
class Route:
    """Everyone who may receive alerts about one violation: the escalation levels, in order."""

    violation_id: int
    kind: str  # "alert" (actionable violation) or "info" (deviation / non-actionable finding)
    levels: list[list[Recipient]]
    brought_in: list[Recipient]  # the brand manager, brought in by a penalty step
    step: LadderStep | None
    notes: list[str]

    def recipients(self, level: int = 0) -> list[Recipient]:
        """Recipients up to ``level`` (0 = first responders) plus those a penalty step brought in."""
        seen: set[int] = set()
        result: list[Recipient] = []
        for group in [*self.levels[: level + 1], self.brought_in]:
            for recipient in group:
                if recipient.user_id not in seen:
                    seen.add(recipient.user_id)
                    result.append(recipient)
        return result

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``alerts route --json``."""
        return {
            "violation_id": self.violation_id, "kind": self.kind,
            "levels": [[r.as_dict() for r in group] for group in self.levels],
            "brought_in": [r.as_dict() for r in self.brought_in],
            "escalation_step": None if self.step is None else {
                "name": self.step.name, "notify_partner": self.step.notify_partner, "penalty": self.step.penalty,
                "found_in_policy": self.step.found},
            "notes": self.notes,
        }


def _users(session: Session, names: tuple[str, ...], notes: list[str], what: str) -> list[User]:
    found: list[User] = []
    for name in names:
        user = session.scalar(select(User).where(User.username == name))
        if user is None or not user.active:
            notes.append(f"{what} {name!r} is {'inactive' if user else 'not a user'}; skipped")
        else:
            found.append(user)
    return found


def brand_managers(session: Session, table: RoutingTable, notes: list[str]) -> list[User]:
    """The brand managers: named in the routing table, else every active brand manager, else admins."""
    if table.brand_managers:
        users = _users(session, table.brand_managers, notes, "brand manager")
        if users:
            return users
    for role in (Role.BRAND_MANAGER, Role.ADMIN):
        users = list(session.scalars(
            select(User).where(User.role == role.value, User.active.is_(True)).order_by(User.id)))
        if users:
            if role is Role.ADMIN:
                notes.append("no brand manager user: admins stand in")
            return users
    notes.append("no brand manager or admin user exists: nobody to escalate to")
    return []


def _recipient(user: User, level: int, why: str) -> Recipient:
    return Recipient(user.id, user.username, user.locale or "en", level, why, len(user.notification_urls or []))


def route(session: Session, violation: Violation, table: RoutingTable | None = None) -> Route:
    """Who gets alerts about ``violation``, at each escalation level, and why."""
    table = table if table is not None else load_routing()
    notes: list[str] = []
    partner = session.get(Partner, violation.partner_id) if violation.partner_id else None
    step = ladder_step(session, violation)
    if step is not None and not step.found:
        notes.append(f"escalation step {step.name!r} not found in policy version {violation.policy_version}; "
                     "treated as having no notice and no penalty")
    actionable = violation.kind == "violation" and violation.mode in ACTIONABLE_MODES
    bm_users = brand_managers(session, table, notes)
    if not actionable:
        why = (f"{violation.kind} in a '{violation.mode}' scope: reported to the brand as information only; "
               "channel managers are not alerted because no action towards the partner is permitted")
        return Route(violation.id, "info", [[_recipient(u, 0, why) for u in bm_users]], [], step, notes)

    levels: list[list[Recipient]] = []
    if partner is None:
        seller = violation.seller_name or violation.seller_id or "?"
        notes.append(f"seller {seller} is no partner")
        who = f"seller {seller} is no partner: the brand manager handles it"
        levels.append([_recipient(u, 2, who) for u in bm_users])
    else:
        manager = session.get(User, partner.channel_manager_id) if partner.channel_manager_id else None
        if manager is not None and manager.active:
            levels.append([_recipient(manager, 0, f"channel manager of partner {partner.code} ({partner.name})")])
        else:
            notes.append(f"partner {partner.code} has no active channel manager")
        region = violation.region or next(iter(partner.regions or []), None)
        spec = table.regions.get(region or "")
        fallback = _users(session, spec.fallback, notes, "fallback") if spec else []
        if fallback:
            levels.append([_recipient(u, 1, f"fallback for region {region} in {table.source}") for u in fallback])
        elif spec is None:
            notes.append(f"no fallback for region {region or '(none)'} in {table.source}")
        levels.append([_recipient(u, 2, f"brand manager (final escalation level) for partner {partner.code}")
                       for u in bm_users])
    levels = [group for group in levels if group]
    brought_in: list[Recipient] = []
    if step is not None and step.penalty:
        brought_in = [_recipient(u, 2, f"partner reached penalty step {step.name!r} of the escalation ladder")
                      for u in bm_users]
    return Route(violation.id, "alert", levels, brought_in, step, notes)


def severity_rank(severity: str) -> int:
    """Position of ``severity`` in low < medium < high < critical (unknown counts as medium)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else 1
