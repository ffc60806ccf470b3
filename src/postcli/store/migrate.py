"""Alembic, driven from code: the migration scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def script_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def run_upgrade(engine: Engine, target: str = "head", progress: Callable[[int, int], None] | None = None) -> None:
    with engine.begin() as conn:
        upgrade_connection(conn, target, progress)


def upgrade_connection(
    conn: Connection, target: str = "head", progress: Callable[[int, int], None] | None = None
) -> None:
    """Migrate inside the caller's transaction (Alembic joins it rather than committing):
    `db copy` creates the schema and the rows in one transaction, all or nothing."""
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    # A migration that rebuilds a large table reports (done, total) through this (`db upgrade`'s bar).
    cfg.attributes["progress"] = progress
    command.upgrade(cfg, target)
