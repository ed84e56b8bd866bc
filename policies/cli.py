"""The ``policy`` commands: check, publish, explain and list price policy versions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from pricewarden.console import console, emit_json, print_table, show
from store._types import utcnow

if TYPE_CHECKING:
    from policies._model import PublishedPolicy
    from policies._resolve import ResolvedRule

policy_app = typer.Typer(help="Check, publish and explain the price policy.", no_args_is_help=True)

JSON = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    """Add ``policy`` to the root app."""
    app.add_typer(policy_app, name="policy")


@policy_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="Policy YAML file to validate.")],
    as_json: JSON = False,
) -> None:
    """Validate a policy file: print ok, or one line per problem (file:line [field]: why) and exit 1."""
    from policies._load import load_policy
    from pricewarden.errors import PolicyValidationError

    try:
        policy = load_policy(file)
    except PolicyValidationError as exc:
        if as_json:
            emit_json({"ok": False, "file": str(file), "problems": [str(p) for p in exc.problems]})
            raise typer.Exit(1) from None
        for problem in exc.problems:
            typer.echo(str(problem))
        typer.echo(f"{len(exc.problems)} problem(s) in {file}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        emit_json({"ok": True, "file": str(file), "name": policy.name,
                   "scopes": [{"name": s.name, "mode": s.mode, "mode_from_settings": s.mode_from_settings}
                              for s in policy.scopes],
                   "rules": len(policy.rules), "promotions": len(policy.promotions),
                   "exemptions": len(policy.exemptions), "effective_from": policy.effective_from})
        return
    modes = ", ".join(f"{s.name}={s.mode}" + (" (default)" if s.mode_from_settings else "") for s in policy.scopes)
    typer.echo(f"ok: {file}: {policy.name!r}, {len(policy.scopes)} scopes ({modes}), {len(policy.rules)} rules, "
               f"{len(policy.promotions)} promotions, {len(policy.exemptions)} exemptions, "
               f"effective from {policy.effective_from.astimezone(ZoneInfo(policy.timezone)).isoformat()}")


@policy_app.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(help="Policy YAML file to publish as the next version.")],
    by: Annotated[str, typer.Option("--by", help="Who publishes (recorded in the version and audit log).")] = "system",
    as_json: JSON = False,
) -> None:
    """Validate and publish a policy file as a new immutable version; print what it changes."""
    from policies._store import publish_policy
    from store import require_schema, session_scope
    from web.portal.policy import distribute_policy

    require_schema()
    with session_scope() as session:
        result = publish_policy(session, file, published_by=by)
        # Partners whose prices change are sent the version (worded by mode; observe scopes never).
        sent = distribute_policy(session, result.version, actor=by)
    changes = [c.as_dict() for c in result.changes]
    if as_json:
        emit_json({"version": result.version, "name": result.policy.name,
                   "effective_from": result.policy.effective_from,
                   "replaces": result.previous.version if result.previous else None,
                   "changes": changes, "warnings": result.warnings, "distribution": sent.as_dict()})
        return
    against = f"against v{result.previous.version}" if result.previous else "(first version)"
    console.print(f"published policy v{result.version} {result.policy.name!r}, effective from "
                  f"{result.policy.effective_from.astimezone(ZoneInfo(result.policy.timezone)).isoformat()} "
                  f"{against}", highlight=False, markup=False)
    if changes:
        show(changes, ["kind", "scope", "target", "tier", "field", "old", "new", "delta", "line"], as_json=False,
             title="Changes")
    elif result.previous:
        console.print("no rule changes")
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="yellow", highlight=False, markup=False)
    if sent.receipts:
        console.print(f"sent to {len(sent.receipts)} partner(s) whose prices change ({sent.messages} message(s) "
                      "queued; `pricewarden alerts send` delivers them)", highlight=False, markup=False)
    for code in sent.no_address:
        console.print(f"warning: partner {code} has no notice URL: it sees the version in its portal only",
                      style="yellow", highlight=False, markup=False)


@policy_app.command("diff")
def diff(
    file: Annotated[Path, typer.Argument(help="Policy YAML file to compare (nothing is published).")],
    as_json: JSON = False,
) -> None:
    """Preview what publishing FILE would change against the version in force at its effective_from."""
    from policies._diff import diff_policies
    from policies._load import load_policy
    from policies._resolve import version_in_force
    from policies._store import load_versions
    from store import require_schema, session_scope

    policy = load_policy(file)
    require_schema()
    with session_scope() as session:
        previous = version_in_force(load_versions(session), policy.effective_from)
    changes = [c.as_dict() for c in diff_policies(previous.policy if previous else None, policy)]
    if as_json:
        emit_json({"against": previous.version if previous else None, "changes": changes})
        return
    console.print(f"{file} against v{previous.version}" if previous else f"{file}: no version in force at its "
                  "effective_from; everything is new", highlight=False, markup=False)
    show(changes, ["kind", "scope", "target", "tier", "field", "old", "new", "delta", "line"], as_json=False,
         title="Changes")


@policy_app.command("show")
def show_version(
    version: Annotated[int, typer.Argument(help="Version number.")],
) -> None:
    """Print a published version's file exactly as it was published (its SHA-256 on standard error)."""
    from sqlalchemy import select

    from pricewarden.errors import NotFoundError
    from store import PolicyVersion, require_schema, session_scope

    require_schema()
    with session_scope() as session:
        row = session.scalars(select(PolicyVersion).where(PolicyVersion.version == version)).first()
        if row is None:
            raise NotFoundError(f"no policy version {version}")
        text, sha = row.source_text, row.source_sha256
    typer.echo(f"policy v{version} sha256 {sha}", err=True)
    typer.echo(text, nl=False)


@policy_app.command("list")
def list_versions(as_json: JSON = False) -> None:
    """List published policy versions, marking the one in force now."""
    from sqlalchemy import select

    from policies._resolve import version_in_force
    from policies._store import load_versions
    from store import PolicyVersion, require_schema, session_scope

    require_schema()
    with session_scope() as session:
        rows = session.scalars(select(PolicyVersion).order_by(PolicyVersion.version)).all()
        current = version_in_force(load_versions(session), utcnow()) if rows else None
    records = [{
        "version": r.version, "name": r.name,
        "effective_from": r.effective_from.astimezone(ZoneInfo(r.timezone)).isoformat(),
        "timezone": r.timezone, "published_at": r.published_at, "published_by": r.published_by,
        "sha256": r.source_sha256, "file": r.source_file, "scope_modes": r.scope_modes,
        "in_force": current is not None and current.version == r.version,
    } for r in rows]
    if as_json:
        emit_json(records)
        return
    for rec in records:
        rec["sha256"] = str(rec["sha256"])[:12]
        rec["in_force"] = "now" if rec["in_force"] else ""
        rec["published_at"] = rec["published_at"].isoformat(timespec="seconds")  # type: ignore[attr-defined]
    show(records, ["version", "name", "effective_from", "published_at", "published_by", "sha256", "in_force"],
         as_json=False, title="Policy versions")


def parse_instant(text: str, versions: list[PublishedPolicy]) -> datetime:
    """An ISO 8601 instant; without an offset it is local time in the zone of the version then in force.

    The zone is found by trying each version, newest ``effective_from`` first: the first whose
    ``effective_from`` is not after the instant read in its own zone is the one in force.
    """
    from policies._resolve import version_in_force
    from pricewarden.errors import PolicyError

    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PolicyError(f"not an ISO 8601 instant: {text!r} (e.g. 2026-11-27T00:00-05:00 or "
                          "2026-11-27T00:00 in the policy's zone)") from None
    if parsed.tzinfo is not None:
        return parsed
    for candidate in sorted(versions, key=lambda v: (v.effective_from, v.version), reverse=True):
        at = parsed.replace(tzinfo=ZoneInfo(candidate.policy.timezone))
        if version_in_force(versions, at) is candidate:
            return at
    zone = versions[0].policy.timezone if versions else "UTC"
    return parsed.replace(tzinfo=ZoneInfo(zone))


@policy_app.command("explain")
def explain(
    sku: Annotated[str, typer.Argument(help="SKU to explain.")],
    partner: Annotated[str, typer.Option(
        "--partner", help="Partner code (its tier and regions come from the catalog).")],
    at: Annotated[str | None, typer.Option(
        "--at", help="Instant, ISO 8601 with offset, or local time in the policy's zone; default now.")] = None,
    region: Annotated[str | None, typer.Option(
        "--region", help="Only this region (default: each of the partner's).")] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help="Category when the SKU is not in the catalog.")] = None,
    as_json: JSON = False,
) -> None:
    """Which rule applied to SKU for a partner at an instant: version, mode, what it permits, and why."""
    from sqlalchemy import select

    from policies._resolve import resolve
    from policies._store import load_versions
    from pricewarden.errors import NoRuleError, NotFoundError, PolicyError
    from store import Partner, Product, require_schema, session_scope

    require_schema()
    with session_scope() as session:
        found = session.scalars(select(Partner).where(Partner.code == partner)).first()
        if found is None:
            raise NotFoundError(f"no partner with code {partner!r} in the catalog")
        product = session.scalars(select(Product).where(Product.sku == sku)).first()
        tier, regions = found.tier, [str(r) for r in (found.regions or [])]
        versions = load_versions(session)
    if not versions:
        raise PolicyError("no policy version is published: run `pricewarden policy publish FILE`")
    category = category or (product.category if product else None)
    instant = parse_instant(at, versions) if at else utcnow()
    targets = [region] if region else regions
    if not targets:
        raise PolicyError(f"partner {partner} has no regions: give --region")
    results: list[ResolvedRule | NoRuleError] = []
    for r in targets:
        try:
            results.append(resolve(versions, sku=sku, category=category, partner_code=partner, tier=tier,
                                   region=r, at=instant))
        except NoRuleError as exc:
            results.append(exc)
    errors = [r for r in results if isinstance(r, NoRuleError)]
    if len(errors) == len(results):
        raise errors[0]  # nothing applies in any region: one error line, exit 1
    if as_json:
        emit_json([{"sku": sku, "partner": partner, "at": instant.astimezone(UTC), **r.as_dict()}
                   if not isinstance(r, NoRuleError) else
                   {"sku": sku, "partner": partner, "at": instant.astimezone(UTC), "region": region_, "error": str(r)}
                   for r, region_ in zip(results, targets, strict=True)])
        return
    for result, region_ in zip(results, targets, strict=True):
        if isinstance(result, NoRuleError):
            console.print(f"{sku} / {partner} in {region_}: {result}", style="yellow", highlight=False, markup=False)
        else:
            _print_resolved(sku, partner, instant, result)


def _print_resolved(sku: str, partner: str, instant: datetime, r: ResolvedRule) -> None:
    zone = ZoneInfo(r.timezone)
    console.print(f"{sku} / {partner} (tier {r.tier or '-'}) in {r.region} at {instant.astimezone(zone).isoformat()}"
                  f" ({instant.astimezone(UTC).isoformat()}): policy v{r.version}, scope {r.scope}, mode {r.mode}",
                  highlight=False, markup=False)
    console.print(f"rule: {r.rule_ref}", highlight=False, markup=False)
    console.print(f"mode permits: {r.permits.summary}", highlight=False, markup=False)
    prices = [("floor", r.floor), ("base floor", r.base_floor), ("map", r.base_map), ("msrp", r.msrp),
              ("max discount %", r.max_discount_pct), ("recommended", r.recommended), ("maximum", r.maximum),
              ("tolerance", r.tolerance), ("tolerance %", r.tolerance_pct)]
    rows = [(name, f"{value} {r.currency}" if "%" not in name else str(value))
            for name, value in prices if value is not None]
    if r.escalation is not None:
        ladder = ", ".join(f"{s.name}@{s.after}" + ("+notice" if s.notify_partner else "")
                           + ("+penalty" if s.penalty else "") for s in r.escalation.steps)
        rows.append(("escalation", f"{ladder} within {r.escalation.window_days} days"))
    print_table(None, ["field", "value"], rows)
    print_table("Why", ["step", "explanation", "line"],
                        [(s.kind, s.text, s.line) for s in r.explanation])
