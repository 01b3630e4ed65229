"""Engine, sessions and migrations for the store: SQLite by default, PostgreSQL in production.

The URL decides (``THEMER_DATABASE_URL``): ``sqlite:///path/themer.db`` or
``postgresql+psycopg://user@host/db``. SQLite runs in WAL mode with a busy timeout, so the API
and a batch job can share one file; foreign keys are switched on. The schema is created and
upgraded only by alembic migrations (``themer/store/migrations``), batch mode on SQLite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from themer.errors import Errors

__all__ = ["connect", "insert_ignoring_duplicates", "migrate"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_MS = 10_000


def connect(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and foreign keys."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Errors.THM501.error(url=url) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_MS / 1000})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise Errors.THM502.error(backend=parsed.get_backend_name())


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise Errors.THM503.error(url=engine.url.render_as_string(), reason=exc.orig) from None


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Raise StoreError unless the store answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise Errors.THM503.error(url=engine.url.render_as_string(), reason=exc.orig) from None


def insert_ignoring_duplicates(engine: Engine, model: type[Any], *unique: str) -> Any:
    """INSERT ... ON CONFLICT (unique) DO NOTHING in ``engine``'s dialect."""
    insert_for = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    return insert_for(model).on_conflict_do_nothing(index_elements=list(unique))
