"""``pricewarden token create|list|revoke``: API tokens, made and revoked by an admin from the shell."""

from __future__ import annotations

from typing import Annotated

import typer

token_app = typer.Typer(help="API tokens for partners and integrations (/api/v1).", no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="Who does it (recorded in the audit log).")]


def register(app: typer.Typer) -> None:
    """Add ``token`` to the root app."""
    app.add_typer(token_app, name="token")


@token_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What uses the token ('ERP sync', 'price feed').")],
    scope: Annotated[list[str], typer.Option(
        "--scope", help="A scope (repeat): reports:write, violations:read, policy:read (partner tokens); "
        "violations:read, violations:write (integrations).")],
    partner: Annotated[str | None, typer.Option("--partner", help="Partner code: a partner's own token.")] = None,
    user: Annotated[str | None, typer.Option(
        "--user", help="Manager the integration acts as (its scope; audited under its name).")] = None,
    by: By = "admin",
) -> None:
    """Make a token and print it ONCE: only its SHA-256 is stored."""
    from pricewarden.identifiers import check_actor
    from store import require_schema, session_scope
    from web.api.tokens import create_token

    require_schema()
    with session_scope() as session:
        row, token = create_token(session, name=name, scopes=scope, created_by=check_actor(by), partner=partner,
                                  user=user)
        ident, scopes = row.id, ", ".join(row.scopes)
    typer.echo(f"token {ident} ({scopes}) made; it is shown only now, keep it secret:")
    typer.echo(token)


@token_app.command("list")
def list_command(
    partner: Annotated[str | None, typer.Option("--partner", help="Only this partner's tokens.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every token: kind, owner, scopes, last use, revocation (never the token itself)."""
    from sqlalchemy import select

    from pricewarden.console import show
    from pricewarden.errors import NotFoundError
    from store import Partner, require_schema, session_scope
    from web.api.tokens import list_tokens, token_dict

    require_schema()
    with session_scope() as session:
        partner_id = None
        if partner is not None:
            partner_id = session.scalar(select(Partner.id).where(Partner.code == partner))
            if partner_id is None:
                raise NotFoundError(f"no partner with code {partner!r}")
        rows = [token_dict(t) for t in list_tokens(session, partner_id=partner_id)]
    for row in rows:
        row["scopes"] = " ".join(row["scopes"]) if not as_json else row["scopes"]
        row["owner"] = row["partner"] or row["user"]
    show(rows, ["id", "prefix", "name", "kind", "owner", "scopes", "created_at", "last_used_at", "revoked_at"],
         as_json=as_json, title="API tokens")


@token_app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (pricewarden token list).")], by: By = "admin",
) -> None:
    """Revoke a token at once (audited); requests with it answer 401."""
    from pricewarden.identifiers import check_actor
    from store import require_schema, session_scope
    from web.api.tokens import revoke_token

    require_schema()
    with session_scope() as session:
        row = revoke_token(session, token_id, by=check_actor(by))
        name = row.name
    typer.echo(f"token {token_id} ({name}) revoked")
