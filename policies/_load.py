"""Load and validate a price policy file: every problem names file, line and field; all are reported.

Nothing here touches the database. :func:`parse_policy` raises :class:`PolicyValidationError`
with one :class:`Problem` per problem found, in line order, or returns a typed :class:`Policy`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import Node

from policies._model import (
    ALLOWED_FIELDS,
    MODES,
    PRICE_FIELDS,
    REQUIRED_FIELD,
    TIERS,
    EscalationLadder,
    EscalationStep,
    Exemption,
    Mode,
    Policy,
    Prices,
    Promotion,
    Rule,
    Scope,
    TierOverride,
    Tolerance,
)
from policies._nodes import NodeReader, line_of
from pricewarden.errors import PolicyValidationError, Problem
from pricewarden.money import is_currency

ROOT_KEYS = ("policy", "effective_from", "timezone", "currency", "tolerance", "tolerance_pct",
             "scopes", "rules", "promotions", "exemptions")
SCOPE_KEYS = ("name", "regions", "mode", "currency", "tolerance", "tolerance_pct", "escalation", "partner_notices")
LADDER_KEYS = ("window_days", "steps")
STEP_KEYS = ("name", "after", "notify_partner", "penalty")
RULE_KEYS = ("sku", "category", "scope", *PRICE_FIELDS, "tolerance", "tolerance_pct", "tiers")
TIER_KEYS = (*PRICE_FIELDS, "tolerance", "tolerance_pct")
PROMOTION_KEYS = ("name", "scope", "skus", "categories", "price", "start", "end", "tiers")
EXEMPTION_KEYS = ("partner", "scope", "skus", "categories", "floor", "start", "end", "reason")

# Why a partner-facing lever is refused in a scope, by mode (shown to the person writing the file).
_WHY_NO_LEVERS = {
    "recommended": "a minimum resale price cannot be enforced (recommended prices are recorded and "
                   "reported to the brand, never turned into warnings, notices or penalties)",
    "observe": "an observe scope only watches prices and never acts on them",
}
_HUNDRED = Decimal(100)


def parse_policy(
    text: str,
    *,
    file: str = "<policy>",
    region_modes: Mapping[str, str] | None = None,
    scope_modes: Mapping[str, str] | None = None,
) -> Policy:
    """Validate policy ``text`` and return it typed, or raise :class:`PolicyValidationError`.

    ``region_modes`` gives the mode of a scope whose file says none (default: the settings'
    ``region_modes``). ``scope_modes`` (scope name -> mode), when given, wins over it: a stored
    version is re-read with the modes recorded when it was published, so a later settings change
    never changes an old version.
    """
    if region_modes is None:
        from pricewarden.settings import get_settings

        region_modes = get_settings().region_modes
    parser = _PolicyParser(file, region_modes, scope_modes or {})
    policy = parser.parse(text)
    if parser.problems or policy is None:
        problems = sorted(parser.problems, key=lambda p: (p.line or 0, p.field or ""))
        if not problems:
            problems = [Problem(file, None, None, "invalid policy")]
        raise PolicyValidationError(problems)
    return policy


def load_policy(
    path: str | Path,
    *,
    region_modes: Mapping[str, str] | None = None,
    scope_modes: Mapping[str, str] | None = None,
) -> Policy:
    """Read and validate the policy file at ``path`` (see :func:`parse_policy`)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")  # no newline translation: verbatim
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyValidationError([Problem(str(path), None, None, f"cannot read the file: {exc}")]) from exc
    return parse_policy(text, file=str(path), region_modes=region_modes, scope_modes=scope_modes)


def check_policy(text: str, *, file: str = "<policy>", region_modes: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem in policy ``text`` (empty when it is valid)."""
    try:
        parse_policy(text, file=file, region_modes=region_modes)
    except PolicyValidationError as exc:
        return exc.problems
    return []


@dataclass
class _Window:
    """A parsed window with what it targets, for the overlap checks."""

    index: int
    line: int
    start: datetime
    end: datetime
    targets: frozenset[str]
    group: tuple[str | None, ...]
    lanes: frozenset[str]  # promotions: tiers ("" = untiered sellers); exemptions: scopes ("*" = any)


class _PolicyParser(NodeReader):
    def __init__(self, file: str, region_modes: Mapping[str, str], scope_modes: Mapping[str, str]) -> None:
        super().__init__(file)
        self.region_modes = {k.upper(): v for k, v in region_modes.items()}
        self.scope_modes = scope_modes
        self.zone: ZoneInfo | None = None
        self.currency = "USD"
        self.scopes: dict[str, Scope] = {}
        self.bad_scopes: set[str] = set()  # named but invalid: already reported, not reported again

    def parse(self, text: str) -> Policy | None:
        root = self.compose(text)
        if root is None:
            if not self.problems:
                self.problem(None, None, "the file is empty", line=1)
            return None
        keys = self.mapping(root, "", ROOT_KEYS, ("policy", "effective_from", "timezone", "currency", "scopes"))
        if keys is None:
            return None
        name = self.text(keys["policy"], "policy") if "policy" in keys else None
        zone_name = self.text(keys["timezone"], "timezone") if "timezone" in keys else None
        if zone_name is not None:
            try:
                self.zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                self.problem(keys["timezone"], "timezone",
                             f"unknown time zone {zone_name!r} (use an IANA name such as America/New_York)")
        if "currency" in keys:
            self.currency = self._currency(keys["currency"], "currency") or self.currency
        effective_from = (self.instant(keys["effective_from"], "effective_from", self.zone)
                          if "effective_from" in keys else None)
        tolerance = self._tolerance(keys, "") or Tolerance(amount=Decimal("0"))
        scopes = self._scopes(keys["scopes"]) if "scopes" in keys else []
        rules = self._rules(keys["rules"]) if "rules" in keys else []
        promotions = self._promotions(keys["promotions"]) if "promotions" in keys else []
        exemptions = self._exemptions(keys["exemptions"]) if "exemptions" in keys else []
        if self.problems or name is None or effective_from is None or self.zone is None:
            return None
        return Policy(
            name=name, file=self.file, effective_from=effective_from, timezone=str(zone_name),
            currency=self.currency, tolerance=tolerance, scopes=tuple(scopes), rules=tuple(rules),
            promotions=tuple(promotions), exemptions=tuple(exemptions),
            source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            effective_from_line=line_of(keys["effective_from"]) or 0,
        )

    # Small values -------------------------------------------------------------------------------

    def _currency(self, node: Node, field: str) -> str | None:
        code = self.text(node, field)
        if code is not None and not is_currency(code):
            self.problem(node, field, f"{code!r} is not an ISO 4217 currency code (such as USD, EUR, CNY)")
            return None
        return code

    def _tolerance(self, keys: dict[str, Node], field: str) -> Tolerance | None:
        prefix = f"{field}." if field else ""
        if "tolerance" in keys and "tolerance_pct" in keys:
            self.problem(keys["tolerance_pct"], prefix + "tolerance_pct",
                         "give either tolerance (an amount) or tolerance_pct (a percent), not both")
            return None
        if "tolerance" in keys:
            amount = self.decimal(keys["tolerance"], prefix + "tolerance")
            return None if amount is None else Tolerance(amount=amount)
        if "tolerance_pct" in keys:
            pct = self.decimal(keys["tolerance_pct"], prefix + "tolerance_pct", maximum=_HUNDRED)
            return None if pct is None else Tolerance(pct=pct)
        return None

    def _tiers(self, node: Node, field: str) -> tuple[str, ...] | None:
        values = self.texts(node, field)
        if values is None:
            return None
        bad = [v for v in values if v not in TIERS]
        if bad:
            self.problem(node, field, f"unknown tier {', '.join(map(repr, bad))} (tiers are A, B, C)")
            return None
        return values

    def _prices(
        self, keys: dict[str, Node], field: str, scope: Scope | None, *, base: Prices | None, line: int | None
    ) -> Prices:
        values: dict[str, Decimal | None] = {}
        for name in PRICE_FIELDS:
            if name in keys:
                maximum = _HUNDRED if name == "max_discount_pct" else None
                values[name] = self.decimal(keys[name], f"{field}.{name}", maximum=maximum)
        prices = Prices(**values)
        if scope is None:
            return prices
        allowed = ALLOWED_FIELDS[scope.mode]
        for name in PRICE_FIELDS:
            if name in keys and name not in allowed:
                self.problem(keys[name], f"{field}.{name}",
                             f"`{name}` is not allowed in scope `{scope.name}` (mode `{scope.mode}`): "
                             f"a {scope.mode} rule takes {', '.join(sorted(allowed))}")
        required = REQUIRED_FIELD[scope.mode]
        merged = prices if base is None else base.merged(prices)
        if base is None and required is not None and required not in keys:
            self.problem(None, f"{field}.{required}",
                         f"scope `{scope.name}` is `{scope.mode}`: its rules need `{required}`", line=line)
        if "max_discount_pct" in keys and merged.msrp is None:
            self.problem(keys["max_discount_pct"], f"{field}.max_discount_pct",
                         "max_discount_pct needs an msrp to take the discount from")
        return prices

    # Scopes -------------------------------------------------------------------------------------

    def _scopes(self, node: Node) -> list[Scope]:
        items = self.sequence(node, "scopes")
        if items is None:
            return []
        if not items:
            self.problem(node, "scopes", "at least one scope is needed")
        region_owner: dict[str, str] = {}
        for i, item in enumerate(items):
            field = f"scopes[{i}]"
            keys = self.mapping(item, field, SCOPE_KEYS, ("name", "regions"))
            if keys is None or "name" not in keys:
                continue
            name = self.text(keys["name"], f"{field}.name")
            if name is None:
                continue
            field = f"scopes[{name}]"
            if name in self.scopes:
                self.problem(keys["name"], f"{field}.name",
                             f"scope `{name}` is defined twice (first at line {self.scopes[name].line})")
                continue
            regions = self.texts(keys["regions"], f"{field}.regions") if "regions" in keys else None
            regions = tuple(r.upper() for r in regions) if regions else ()
            for region in regions:
                if region in region_owner:
                    self.problem(keys["regions"], f"{field}.regions",
                                 f"region {region} is already covered by scope `{region_owner[region]}`: "
                                 "a region belongs to one scope")
                region_owner.setdefault(region, name)
            mode, from_settings = self._scope_mode(keys, field, name, regions, line_of(item))
            currency = self._currency(keys["currency"], f"{field}.currency") if "currency" in keys else None
            ladder = self._ladder(keys["escalation"], f"{field}.escalation") if "escalation" in keys else None
            notices = self.boolean(keys["partner_notices"], f"{field}.partner_notices") \
                if "partner_notices" in keys else None
            if mode in _WHY_NO_LEVERS:
                where = f"{'/'.join(regions) or name} `{mode}` scope `{name}`"
                if "escalation" in keys:
                    self.problem(keys["escalation"], f"{field}.escalation",
                                 f"{where}: {_WHY_NO_LEVERS[mode]}; escalation ladders, penalty steps and "
                                 "partner notifications are only allowed in map or maximum scopes")
                if notices:
                    self.problem(keys["partner_notices"], f"{field}.partner_notices",
                                 f"{where}: {_WHY_NO_LEVERS[mode]}; partner notices are only allowed in "
                                 "map or maximum scopes")
            if mode is None:
                self.bad_scopes.add(name)
                continue
            self.scopes[name] = Scope(
                name=name, regions=regions, mode=mode, currency=currency or self.currency,
                mode_from_settings=from_settings,
                partner_notices=bool(notices) if notices is not None else mode in ("map", "maximum"),
                escalation=ladder if mode in ("map", "maximum") else None,
                tolerance=self._tolerance(keys, field), line=line_of(item) or 0,
            )
        return list(self.scopes.values())

    def _scope_mode(
        self, keys: dict[str, Node], field: str, name: str, regions: tuple[str, ...], line: int | None
    ) -> tuple[Mode | None, bool]:
        if "mode" in keys:
            mode = self.text(keys["mode"], f"{field}.mode")
            if mode is not None and mode not in MODES:
                self.problem(keys["mode"], f"{field}.mode",
                             f"unknown mode {mode!r}; a scope's mode is one of: {', '.join(MODES)}")
                return None, False
            return mode, False
        if name in self.scope_modes:
            return cast(Mode, self.scope_modes[name]), True
        defaults = {r: self.region_modes.get(r) for r in regions}
        missing = [r for r, m in defaults.items() if m is None]
        if missing:
            self.problem(None, f"{field}.mode",
                         f"scope `{name}` has no mode and settings.region_modes has no default for "
                         f"{', '.join(missing)}: set `mode` (map, recommended, maximum or observe)", line=line)
            return None, False
        distinct = sorted({m for m in defaults.values() if m is not None})
        if len(distinct) > 1:
            pairs = ", ".join(f"{r}={m}" for r, m in defaults.items())
            self.problem(None, f"{field}.mode",
                         f"scope `{name}` has no mode and its regions default to different modes ({pairs}): "
                         "set `mode` or split the scope", line=line)
            return None, False
        if not distinct:
            return None, False
        return cast(Mode, distinct[0]), True

    def _ladder(self, node: Node, field: str) -> EscalationLadder | None:
        keys = self.mapping(node, field, LADDER_KEYS, LADDER_KEYS)
        if keys is None or "steps" not in keys or "window_days" not in keys:
            return None
        window = self.integer(keys["window_days"], f"{field}.window_days", minimum=1)
        items = self.sequence(keys["steps"], f"{field}.steps") or []
        steps: list[EscalationStep] = []
        for i, item in enumerate(items):
            sfield = f"{field}.steps[{i}]"
            skeys = self.mapping(item, sfield, STEP_KEYS, ("name", "after"))
            if skeys is None or "name" not in skeys or "after" not in skeys:
                continue
            name = self.text(skeys["name"], f"{sfield}.name")
            after = self.integer(skeys["after"], f"{sfield}.after", minimum=1)
            notify = self.boolean(skeys["notify_partner"], f"{sfield}.notify_partner") \
                if "notify_partner" in skeys else False
            penalty = self.boolean(skeys["penalty"], f"{sfield}.penalty") if "penalty" in skeys else False
            if name is None or after is None:
                continue
            if any(s.name == name for s in steps):
                self.problem(skeys["name"], f"{sfield}.name", f"step {name!r} appears twice in the ladder")
            if steps and after <= steps[-1].after:
                self.problem(skeys["after"], f"{sfield}.after",
                             f"steps must climb: after={after} is not above the previous step's {steps[-1].after}")
            steps.append(EscalationStep(name, after, bool(notify), bool(penalty), line_of(item) or 0))
        if not items:
            self.problem(keys["steps"], f"{field}.steps", "an escalation ladder needs at least one step")
        if window is None:
            return None
        return EscalationLadder(window, tuple(steps), line_of(node) or 0)

    # Rules --------------------------------------------------------------------------------------

    def _scope_ref(self, keys: dict[str, Node], field: str) -> tuple[str | None, Scope | None]:
        if "scope" not in keys:
            return None, None
        name = self.text(keys["scope"], f"{field}.scope")
        if name is None:
            return None, None
        scope = self.scopes.get(name)
        if scope is None and name not in self.bad_scopes:
            known = ", ".join(sorted(self.scopes)) or "none"
            self.problem(keys["scope"], f"{field}.scope", f"unknown scope {name!r} (scopes: {known})")
        return name, scope

    def _target(self, keys: dict[str, Node], node: Node, field: str, one: str, many: str) -> bool:
        if (one in keys) == (many in keys):
            self.problem(node, field, f"give exactly one of `{one}` or `{many}`")
            return False
        return True

    def _rules(self, node: Node) -> list[Rule]:
        items = self.sequence(node, "rules") or []
        rules: list[Rule] = []
        seen: dict[tuple[str, str, str], int] = {}
        for i, item in enumerate(items):
            field = f"rules[{i}]"
            keys = self.mapping(item, field, RULE_KEYS, ("scope",))
            if keys is None or not self._target(keys, item, field, "sku", "category"):
                continue
            kind = "sku" if "sku" in keys else "category"
            target = self.text(keys[kind], f"{field}.{kind}")
            scope_name, scope = self._scope_ref(keys, field)
            prices = self._prices(keys, field, scope, base=None, line=line_of(item))
            tolerance = self._tolerance(keys, field)
            tiers = self._tier_overrides(keys["tiers"], f"{field}.tiers", scope, prices) if "tiers" in keys else ()
            if target is None or scope_name is None:
                continue
            key = (kind, target, scope_name)
            line = line_of(item) or 0
            if key in seen:
                self.problem(keys[kind], f"{field}.{kind}",
                             f"{kind} {target} has two rules in scope `{scope_name}` "
                             f"(lines {seen[key]} and {line}): keep one")
                continue
            seen[key] = line
            rules.append(Rule(scope=scope_name, prices=prices, sku=target if kind == "sku" else None,
                              category=target if kind == "category" else None, tolerance=tolerance,
                              tiers=tiers, line=line))
        return rules

    def _tier_overrides(self, node: Node, field: str, scope: Scope | None, base: Prices) -> tuple[TierOverride, ...]:
        keys = self.mapping(node, field, TIERS, unknown="unknown tier {key!r} (tiers are A, B, C)")
        if keys is None:
            return ()
        overrides: list[TierOverride] = []
        for tier, tnode in keys.items():
            tkeys = self.mapping(tnode, f"{field}.{tier}", TIER_KEYS)
            if tkeys is None:
                continue
            prices = self._prices(tkeys, f"{field}.{tier}", scope, base=base, line=line_of(tnode))
            overrides.append(TierOverride(tier, prices, self._tolerance(tkeys, f"{field}.{tier}"),
                                          line_of(tnode) or 0))
        return tuple(overrides)

    # Windows ------------------------------------------------------------------------------------

    def _window(self, keys: dict[str, Node], field: str) -> tuple[datetime, datetime] | None:
        start = self.instant(keys["start"], f"{field}.start", self.zone) if "start" in keys else None
        end = self.instant(keys["end"], f"{field}.end", self.zone) if "end" in keys else None
        if start is None or end is None:
            return None
        if end <= start:
            self.problem(keys["end"], f"{field}.end",
                         f"end ({keys['end'].value}) must be after start ({keys['start'].value})")
            return None
        return start, end

    def _overlaps(self, windows: list[_Window], what: str, field: str) -> None:
        for i, a in enumerate(windows):
            for b in windows[i + 1:]:
                common = a.targets & b.targets
                lanes = a.lanes & b.lanes
                if a.group != b.group or not common or not lanes or not (a.start < b.end and b.start < a.end):
                    continue
                tiers = sorted(t for t in lanes if t in TIERS)
                restricted = what == "promotion" and len(tiers) < len(TIERS)
                self.problem(None, f"{field}[{b.index}]",
                             f"{what} overlaps the one at line {a.line} for {', '.join(sorted(common))}"
                             + (f" (tiers {', '.join(tiers)})" if restricted else "")
                             + ": windows for the same target must not overlap", line=b.line)

    def _promotions(self, node: Node) -> list[Promotion]:
        items = self.sequence(node, "promotions") or []
        result: list[Promotion] = []
        windows: list[_Window] = []
        for i, item in enumerate(items):
            field = f"promotions[{i}]"
            keys = self.mapping(item, field, PROMOTION_KEYS, ("name", "scope", "price", "start", "end"))
            if keys is None:
                continue
            has_target = self._target(keys, item, field, "skus", "categories")
            name = self.text(keys["name"], f"{field}.name") if "name" in keys else None
            scope_name, scope = self._scope_ref(keys, field)
            if scope is not None and scope.mode not in ("map", "recommended"):
                self.problem(keys["scope"], f"{field}.scope",
                             f"scope `{scope.name}` is `{scope.mode}`: a promotion lowers a floor or a "
                             "recommended price, which a " + scope.mode + " scope does not have")
            price = self.decimal(keys["price"], f"{field}.price") if "price" in keys else None
            skus = self.texts(keys["skus"], f"{field}.skus") if "skus" in keys else ()
            cats = self.texts(keys["categories"], f"{field}.categories") if "categories" in keys else ()
            tiers = self._tiers(keys["tiers"], f"{field}.tiers") if "tiers" in keys else None
            window = self._window(keys, field)
            if (not has_target or name is None or scope_name is None or price is None or window is None
                    or skus is None or cats is None or ("tiers" in keys and tiers is None)):
                continue
            line = line_of(item) or 0
            result.append(Promotion(name, scope_name, price, window[0], window[1], skus, cats, tiers, line))
            targets = frozenset([f"sku {s}" for s in skus] + [f"category {c}" for c in cats])
            tier_set = frozenset(tiers) if tiers is not None else frozenset((*TIERS, ""))
            windows.append(_Window(i, line, window[0], window[1], targets, (scope_name,), tier_set))
        self._overlaps(windows, "promotion", "promotions")
        return result

    def _exemptions(self, node: Node) -> list[Exemption]:
        items = self.sequence(node, "exemptions") or []
        result: list[Exemption] = []
        windows: list[_Window] = []
        for i, item in enumerate(items):
            field = f"exemptions[{i}]"
            keys = self.mapping(item, field, EXEMPTION_KEYS, ("partner", "floor", "start", "end", "reason"))
            if keys is None:
                continue
            has_target = self._target(keys, item, field, "skus", "categories")
            partner = self.text(keys["partner"], f"{field}.partner") if "partner" in keys else None
            scope_name, scope = self._scope_ref(keys, field)
            if scope is not None and scope.mode != "map":
                self.problem(keys["scope"], f"{field}.scope",
                             f"scope `{scope.name}` is `{scope.mode}`: an exemption lowers a floor, which only "
                             "a map scope has")
            floor = self.decimal(keys["floor"], f"{field}.floor") if "floor" in keys else None
            reason = self.text(keys["reason"], f"{field}.reason") if "reason" in keys else None
            skus = self.texts(keys["skus"], f"{field}.skus") if "skus" in keys else ()
            cats = self.texts(keys["categories"], f"{field}.categories") if "categories" in keys else ()
            window = self._window(keys, field)
            if (not has_target or partner is None or floor is None or reason is None or window is None
                    or skus is None or cats is None or ("scope" in keys and scope is None)):
                continue
            line = line_of(item) or 0
            result.append(Exemption(partner, floor, window[0], window[1], reason, skus, cats, scope_name, line))
            targets = frozenset([f"sku {s}" for s in skus] + [f"category {c}" for c in cats])
            # An exemption without a scope applies in every map scope, so it overlaps scoped ones too.
            # An exemption without a scope applies in every map scope, so it overlaps scoped ones too.
            lanes = frozenset({scope_name}) if scope_name else frozenset({"*", *self.scopes})
            windows.append(_Window(i, line, window[0], window[1], targets, (partner,), lanes))
        self._overlaps(windows, "exemption", "exemptions")
        return result
