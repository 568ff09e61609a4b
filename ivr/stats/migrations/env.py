"""Alembic's entry point for the statistics tables. Store.migrate() runs it inside its own
transaction (with PostgreSQL's advisory lock, or SQLite's write lock, held), passing the
connection in `config.attributes`; a new migration is `alembic revision` with this folder as its
script_location and a `connection` given the same way."""
from __future__ import annotations

from alembic import context

from ivr.stats.store import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the statistics migrations with `ivr report migrate` (Store.migrate)")

# SQLite's DDL is transactional too once pysqlite leaves BEGIN to us (store._sqlite_transactions),
# so on both databases a migration that fails leaves nothing half done.
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  transactional_ddl=True, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
