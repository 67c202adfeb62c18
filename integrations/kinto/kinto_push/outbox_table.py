"""The outbox table in Kinto's PostgreSQL database: its schema, its migration, and how to
reach the database from outside Kinto's connection pool.

One row per Kinto event to send (one ``ResourceChanged`` notification), written in the
transaction of the Kinto write that caused it, so that it commits and rolls back with it:

    id       BIGSERIAL   the order events are sent in (taken before the commit)
    txid     BIGINT      the writing transaction (txid_current()): the rows of one Kinto
                         request, batches included, share it and are sent in one POST
    created  TIMESTAMPTZ when the row was written (outbox_oldest_age)
    events   TEXT        the event as posted, one JSON object of the POST's "events" array
                         ({"payload": …, "impacted_objects": […]}, Kinto's key order)

The relay (relay.py) deletes the rows kinto-push took. The table is created by
``kinto migrate`` (``Migration``) and, when missing, when Kinto starts (``ensure_table``).
"""

import logging
import urllib.parse

logger = logging.getLogger("kinto_push")

TABLE = "kinto_push_outbox"
CHANNEL = "kinto_push_outbox"  # NOTIFY'd by the writer, LISTENed to by the relay
SCHEMA_NAME = "kinto_push"  # metadata: kinto_push_schema_version
SCHEMA_VERSION = 2  # Kinto's plugin migrations count "nothing installed" as version 1
# pg_advisory_xact_lock key serialising table creation between processes starting together
# ("kpushtbl" in ASCII).
CREATE_LOCK_KEY = 0x6B70757368746272

CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id BIGSERIAL PRIMARY KEY,
    txid BIGINT NOT NULL DEFAULT txid_current(),
    created TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    events TEXT NOT NULL
)"""

INSERT_EVENT = f"INSERT INTO {TABLE} (events) VALUES (:events)"
NOTIFY = f"NOTIFY {CHANNEL}"


def ensure_table(connection):
    """Creates the table if it is missing, through a psycopg2 ``connection`` (committed
    here). Two processes starting at once wait for each other on an advisory lock instead
    of racing on CREATE TABLE IF NOT EXISTS (which can fail with a unique violation)."""
    autocommit = connection.autocommit
    connection.autocommit = False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (CREATE_LOCK_KEY,))
            cursor.execute(CREATE_TABLE)
        connection.commit()
    except Exception:
        connection.rollback()
        raise
    finally:
        connection.autocommit = autocommit


def libpq_dsn(storage_url):
    """``kinto.storage_url`` (a SQLAlchemy URL: ``postgresql+psycopg2://user:pw@host/db``)
    as keyword arguments for ``psycopg2.connect``."""
    url = str(storage_url or "")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ValueError(f"kinto.storage_url = {url!r}: not a PostgreSQL URL")
    try:
        from sqlalchemy.engine import make_url
    except ImportError:  # pragma: no cover - Kinto's PostgreSQL backend needs SQLAlchemy
        return {"dsn": "postgresql://" + rest}
    parsed = make_url(url)
    args = parsed.translate_connect_args(username="user", database="dbname")
    args.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
    return args


def describe_dsn(args):
    """Where the relay connects, without the password (for log lines)."""
    if "dsn" in args:
        parts = urllib.parse.urlsplit(args["dsn"])
        return f"{parts.hostname or 'local socket'}:{parts.port or 5432}{parts.path}"
    host = args.get("host") or "local socket"
    return f"{host}:{args.get('port') or 5432}/{args.get('dbname', '')}"


def make_migration():
    """The ``kinto migrate`` step creating the table: an instance of a subclass of Kinto's
    PostgreSQLPluginMigration (defined here, imported only when Kinto is)."""
    from kinto.core.storage.postgresql import PostgreSQLPluginMigration
    from kinto.core.utils import sqlalchemy as sa

    class Migration(PostgreSQLPluginMigration):
        name = SCHEMA_NAME
        schema_version = SCHEMA_VERSION

        def migrate_schema(self, start_version, dry_run):
            if start_version >= self.schema_version:
                return
            logger.info(
                "kinto-push: %s the outbox table %s (schema version %d)",
                "would create" if dry_run else "creating",
                TABLE,
                self.schema_version,
            )
            if dry_run:
                return
            with self.client.connect(force_commit=True) as conn:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": CREATE_LOCK_KEY})
                conn.execute(sa.text(CREATE_TABLE))
                conn.execute(
                    sa.text("INSERT INTO metadata (name, value) VALUES (:name, :value)"),
                    {"name": f"{SCHEMA_NAME}_schema_version", "value": str(self.schema_version)},
                )

    return Migration()
