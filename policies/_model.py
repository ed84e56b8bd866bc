"""The typed price policy: what a validated policy file says, with the source line of every clause.

Money is ``Decimal`` (the currency is the scope's); instants are aware and in UTC (the file's local
times were converted with its IANA zone when it was loaded). Every object is frozen: a published
policy version never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

Mode = Literal["map", "recommended", "maximum", "observe"]
MODES: tuple[Mode, ...] = ("map", "recommended", "maximum", "observe")
TIERS = ("A", "B", "C")
PRICE_FIELDS = ("map", "msrp", "max_discount_pct", "recommended", "maximum")

# Which price fields a rule (or tier override) may carry in each mode, and which one it must carry.
# Why: a floor (`map`, `max_discount_pct`) in an EU `recommended` scope would be a minimum resale
# price, which the law there forbids; a cap in a `map` scope would be a second policy by accident.
ALLOWED_FIELDS: dict[Mode, frozenset[str]] = {
    "map": frozenset({"map", "msrp", "max_discount_pct"}),
    "recommended": frozenset({"recommended", "msrp"}),
    "maximum": frozenset({"maximum", "msrp"}),
    "observe": frozenset({"recommended", "msrp"}),
}
REQUIRED_FIELD: dict[Mode, str | None] = {
    "map": "map",
    "recommended": "recommended",
    "maximum": "maximum",
    "observe": None,
}


@dataclass(frozen=True, slots=True)
class Permits:
    """What a scope's mode allows PriceWarden to do with a price that breaks the rule."""

    flag_violations: bool  # a breach is a violation (map: below floor; maximum: above cap)
    record_deviations: bool  # a difference from the reference is recorded for the brand only
    partner_notices: bool  # a notice may be sent to the partner
    escalation: bool  # repeat offences may climb an escalation ladder (warnings, penalties)
    summary: str

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return {
            "flag_violations": self.flag_violations,
            "record_deviations": self.record_deviations,
            "partner_notices": self.partner_notices,
            "escalation": self.escalation,
            "summary": self.summary,
        }


MODE_PERMITS: dict[Mode, Permits] = {
    "map": Permits(True, False, True, True,
                   "advertised price below the floor is a violation; notices and escalation allowed"),
    "recommended": Permits(False, True, False, False,
                           "deviations from the recommended price are recorded for the brand only; "
                           "never a violation, notice or penalty"),
    "maximum": Permits(True, False, True, True,
                       "price above the cap is a violation; notices and escalation allowed"),
    "observe": Permits(False, False, False, False, "watch only: nothing is flagged"),
}


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far below a floor (or above a cap) a price may be before it counts: absolute or percent."""

    amount: Decimal | None = None
    pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Prices:
    """The price fields of a rule or tier override; ``None`` where the file does not set one."""

    map: Decimal | None = None
    msrp: Decimal | None = None
    max_discount_pct: Decimal | None = None
    recommended: Decimal | None = None
    maximum: Decimal | None = None

    def merged(self, override: Prices) -> Prices:
        """These prices with every field that ``override`` sets replaced."""
        return Prices(
            map=override.map if override.map is not None else self.map,
            msrp=override.msrp if override.msrp is not None else self.msrp,
            max_discount_pct=(override.max_discount_pct if override.max_discount_pct is not None
                              else self.max_discount_pct),
            recommended=override.recommended if override.recommended is not None else self.recommended,
            maximum=override.maximum if override.maximum is not None else self.maximum,
        )


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """One rung of an escalation ladder: reached at the ``after``-th offence within the window."""

    name: str
    after: int
    notify_partner: bool = False
    penalty: bool = False
    line: int = 0


@dataclass(frozen=True, slots=True)
class EscalationLadder:
    """Repeat offences within ``window_days`` climb these steps (only in map and maximum scopes)."""

    window_days: int
    steps: tuple[EscalationStep, ...]
    line: int = 0

    def step_for(self, offences: int) -> EscalationStep | None:
        """The highest step reached after ``offences`` offences within the window, if any."""
        reached = [s for s in self.steps if offences >= s.after]
        return reached[-1] if reached else None


@dataclass(frozen=True, slots=True)
class Scope:
    """A market with its legal mode: the regions it covers, its currency and escalation ladder."""

    name: str
    regions: tuple[str, ...]
    mode: Mode
    currency: str
    mode_from_settings: bool = False  # True: the file gave no mode; the region default applied
    partner_notices: bool = True
    escalation: EscalationLadder | None = None
    tolerance: Tolerance | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class TierOverride:
    """Prices (and tolerance) that replace the base rule's for partners of one tier."""

    tier: str
    prices: Prices
    tolerance: Tolerance | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Rule:
    """A base rule for one SKU or one category within one scope."""

    scope: str
    prices: Prices
    sku: str | None = None
    category: str | None = None
    tolerance: Tolerance | None = None
    tiers: tuple[TierOverride, ...] = ()
    line: int = 0

    @property
    def target(self) -> str:
        """``sku AC-100`` or ``category headphones``."""
        return f"sku {self.sku}" if self.sku is not None else f"category {self.category}"

    def tier(self, tier: str | None) -> TierOverride | None:
        """The override for ``tier``, if the rule has one."""
        return next((t for t in self.tiers if t.tier == tier), None)


@dataclass(frozen=True, slots=True)
class Promotion:
    """A brand-approved price window: inside [start, end) the floor is lowered to ``price``."""

    name: str
    scope: str
    price: Decimal
    start: datetime
    end: datetime
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tiers: tuple[str, ...] | None = None  # None: every partner, tiered or not
    line: int = 0

    def covers(self, at: datetime) -> bool:
        """True when ``at`` is inside [start, end)."""
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Exemption:
    """A per-partner lower floor inside [start, end), with the reason it was granted."""

    partner: str
    floor: Decimal
    start: datetime
    end: datetime
    reason: str
    skus: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    scope: str | None = None  # None: whichever map scope applies to the partner
    line: int = 0

    def covers(self, at: datetime) -> bool:
        """True when ``at`` is inside [start, end)."""
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Policy:
    """One validated policy file."""

    name: str
    file: str
    effective_from: datetime  # UTC
    timezone: str
    currency: str
    tolerance: Tolerance
    scopes: tuple[Scope, ...]
    rules: tuple[Rule, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    exemptions: tuple[Exemption, ...] = ()
    source_sha256: str = ""
    effective_from_line: int = 0
    # (scope, "sku"|"category", key) -> rule, built on first lookup; a cache, not part of the value.
    _rule_index: dict[tuple[str, str, str], Rule] = field(
        default_factory=dict, compare=False, hash=False, repr=False)

    def rule_for(self, scope: str, kind: str, key: str) -> Rule | None:
        """The rule of ``scope`` for ``kind`` ("sku" or "category") ``key`` (validation keeps it unique)."""
        if not self._rule_index and self.rules:
            index = {}
            for rule in self.rules:
                rule_kind, rule_key = ("sku", rule.sku) if rule.sku is not None else ("category", rule.category)
                index[(rule.scope, rule_kind, str(rule_key))] = rule
            # One C-level update: another thread never sees a half-built index.
            self._rule_index.update(index)
        return self._rule_index.get((scope, kind, key))

    def scope(self, name: str) -> Scope | None:
        """The scope called ``name``."""
        return next((s for s in self.scopes if s.name == name), None)

    def scope_for_region(self, region: str) -> Scope | None:
        """The scope that covers ``region`` (validation guarantees at most one)."""
        return next((s for s in self.scopes if region in s.regions), None)

    def scope_modes(self) -> dict[str, str]:
        """Scope name -> mode in force (as stored with a published version)."""
        return {s.name: s.mode for s in self.scopes}


@dataclass(frozen=True, slots=True)
class PublishedPolicy:
    """A published, immutable policy version: its number and its policy (which holds effective_from)."""

    version: int
    policy: Policy
    published_at: datetime | None = None
    published_by: str = ""

    @property
    def effective_from(self) -> datetime:
        """The UTC instant from which this version applies."""
        return self.policy.effective_from
