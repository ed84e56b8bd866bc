"""Regenerate the baseline migration from the models (pre-release only: one baseline, no history yet).

Run ``make migration`` after changing store/models.py; a test fails while models and migrations differ.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from store.db import MIGRATIONS, _alembic_config, make_engine

BASELINE = MIGRATIONS / "versions" / "0001_initial.py"


def main() -> None:
    BASELINE.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        command.revision(_alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
    generated = next((MIGRATIONS / "versions").glob("0001_*.py"))
    generated.rename(BASELINE)
    _add_cycle_foreign_key(BASELINE)
    _add_expression_indexes(BASELINE)
    _add_search(BASELINE)
    _add_cascades(BASELINE)
    print(f"wrote {BASELINE}")


# partners.channel_manager_id -> users and users.partner_id -> partners form a cycle: create_table
# cannot hold both, so the partners -> users key is added after both tables exist (use_alter).
_CYCLE_FK = "fk_partners_channel_manager_id_users"
_ADD = (
    "    with op.batch_alter_table('partners', schema=None) as batch_op:\n"
    f"        batch_op.create_foreign_key(op.f('{_CYCLE_FK}'), 'users', ['channel_manager_id'], ['id'], "
    "ondelete='SET NULL')\n"
)
_DROP = (
    "    with op.batch_alter_table('partners', schema=None) as batch_op:\n"
    f"        batch_op.drop_constraint(op.f('{_CYCLE_FK}'), type_='foreignkey')\n\n"
)


def _add_cycle_foreign_key(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    lines = [line for line in lines if _CYCLE_FK not in line]
    text = "".join(lines)
    up_end = text.index("    # ### end Alembic commands ###", text.index("def upgrade"))
    text = text[:up_end] + _ADD + text[up_end:]
    down_start = text.index("    # ### commands auto generated", text.index("def downgrade"))
    down_body = text.index("\n", down_start) + 1
    text = text[:down_body] + _DROP + text[down_body:]
    path.write_text(text)


def _add_expression_indexes(path: Path) -> None:
    """Autogenerate leaves out indexes over expressions (it cannot compare them on SQLite): write them in."""
    from sqlalchemy import Column

    from store.models import Base

    lines = []
    for table in Base.metadata.sorted_tables:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if all(isinstance(e, Column) for e in index.expressions):
                continue
            parts = [repr(e.name) if isinstance(e, Column) else f"sa.text({str(e)!r})" for e in index.expressions]
            # A partial index keeps its condition on each database.
            where = "".join(f", {dialect}_where=sa.text({str(index.dialect_options[dialect]['where'])!r})"
                            for dialect in ("sqlite", "postgresql") if index.dialect_options[dialect].get("where")
                            is not None)
            lines.append(f"    op.create_index({index.name!r}, {table.name!r}, [{', '.join(parts)}], "
                         f"unique={bool(index.unique)}{where})\n")
    text = path.read_text()
    up_end = text.index("    # ### end Alembic commands ###", text.index("def upgrade"))
    path.write_text(text[:up_end] + "".join(lines) + text[up_end:])


def _add_search(path: Path) -> None:
    """The text search's index, per database (store.models.SEARCH_DDL), written out as it is today."""
    from store.models import SEARCH_DDL, SEARCH_DROP

    _add_per_dialect(path, SEARCH_DDL, SEARCH_DROP)


def _add_cascades(path: Path) -> None:
    """The triggers that delete a product's or a batch's observations (store.models.OBSERVATION_CASCADES)."""
    from store.models import OBSERVATION_CASCADES, OBSERVATION_CASCADES_DROP

    _add_per_dialect(path, OBSERVATION_CASCADES, OBSERVATION_CASCADES_DROP)


def _add_per_dialect(path: Path, up: dict[str, tuple[str, ...]], down: dict[str, tuple[str, ...]]) -> None:
    """Statements per database written at the end of upgrade() and at the start of downgrade()."""

    def block(statements: dict[str, tuple[str, ...]]) -> str:
        lines = ["    dialect = op.get_bind().dialect.name\n"]
        for dialect, ddl in statements.items():
            if ddl:
                lines.append(f"    if dialect == {dialect!r}:\n")
                lines.extend(f"        op.execute({statement!r})\n" for statement in ddl)
        return "".join(lines)

    text = path.read_text()
    up_end = text.index("    # ### end Alembic commands ###", text.index("def upgrade"))
    text = text[:up_end] + block(up) + text[up_end:]
    down_start = text.index("    # ### commands auto generated", text.index("def downgrade"))
    down_body = text.index("\n", down_start) + 1
    path.write_text(text[:down_body] + block(down) + text[down_body:])


if __name__ == "__main__":
    main()
