"""published_counts: per account and UTC publish hour, what went live. Kept exact by triggers on
post_targets and posts (SQLite and PostgreSQL each), so every write path keeps it current
without Python code: publishing, thread parts, imports, id resolution, `post delete`, cascading
deletes of posts and accounts, the tests' ORM builders and raw SQL.

Which targets count (services/reports/sql.py's published_targets): those with a
platform_post_id and a publish time, COALESCE(t.completed_at, p.published_at). Per (hour,
account_id), from the counted targets published that hour on that account:
- `targets`: all of them;
- `posts`: those that are the first counted target of their post on their platform;
- `posts_all`: those that are the first counted target of their post overall;
"first" by publish time, then target id. So `posts_all` summed over hours counts the distinct
posts whose first target went live in those hours (`posts`, per platform, likewise).

How the triggers keep it: a change to a target can move its post's "first" from one target to
another, so each trigger computes its post's contribution (the rows its counted targets add)
both without and with the change, from the current rows, and adds the difference. When that
runs differs by backend, because so does what a row trigger sees:
- SQLite fires AFTER row triggers as each row is written (a multi-row UPDATE interleaves them),
  so they take the table as "with the change" and rebuild "without" by putting OLD back in
  place of NEW. After, not before: INSERT OR IGNORE fires no AFTER trigger for a row it skips,
  and a BEFORE INSERT trigger does not know the new row's id when the statement leaves it out.
- PostgreSQL queues AFTER row triggers to the end of the statement, where each sees all of the
  statement's rows changed (a multi-row UPDATE of one post's targets would be counted wrong),
  while a BEFORE row trigger sees the rows the statement changed before it. So BEFORE: the
  table is "without", NEW in place of OLD is "with". A BEFORE INSERT trigger also fires for a
  row that ON CONFLICT then skips or turns into an UPDATE (whose own trigger counts it): it
  does nothing when the row's id or (post_id, account_id) is already there, as the insert then
  either fails or goes the ON CONFLICT way.
Cascades: on both backends the parent row is already gone when a cascaded delete's triggers
on post_targets run. Their contributions join posts, so a deleted post's targets add nothing
there; the post's own BEFORE DELETE trigger takes its contribution out first, while the post
and its targets are all still there. A deleted account's targets go one by one through the
post_targets trigger, their posts still there. Not seen (postcli does neither; rebuild() after
them): PostgreSQL's TRUNCATE, and a row SQLite's REPLACE conflict resolution removes (no delete
trigger fires for it unless recursive_triggers is on).

A row whose counts reach 0 is deleted (a trigger on the table itself), so the table always
equals rebuild() row for row: `db copy` does not copy it, the target's triggers fill it as
post_targets arrive, and the copy checks it against differences().

Times on SQLite are text in store/driver.py's SQLITE_TIME_FORMAT (the hour: the first 13
characters, as rollup.py cuts hours); on PostgreSQL timestamps without zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

TABLE = "published_counts"
# The key column and how each backend cuts a time to it: by hour; by day only for migration
# 0013's downgrade, which puts back 0012's table.
KEY = "hour"
_CUTS = {
    "hour": {"sqlite": "substr(at, 1, 13) || ':00:00.000000'", "postgresql": "date_trunc('hour', at)"},
    "day": {"sqlite": "substr(at, 1, 10) || ' 00:00:00.000000'", "postgresql": "date_trunc('day', at)"},
}
COLUMNS = (KEY, "account_id", "targets", "posts", "posts_all")
TARGET_COLUMNS = ("id", "post_id", "account_id", "platform", "platform_post_id", "completed_at")


# Targets columns whose change can change a count (`UPDATE OF` lists).
_WATCHED = ", ".join(TARGET_COLUMNS)


def _changed(old: str, new: str, dialect: str) -> str:
    op = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"
    return " OR ".join(f"{old}.{c} {op} {new}.{c}" for c in TARGET_COLUMNS)


def _add(signed: str, key: str, dialect: str) -> str:
    """Add the contributions of `signed` (rows sg, id, post_id, account_id, platform, at: one
    signed set of a post's counted targets per sign, at NULL = not counted) to the table."""
    posts = "sum(CASE WHEN rp = 1 THEN sg ELSE 0 END)"
    posts_all = "sum(CASE WHEN ra = 1 THEN sg ELSE 0 END)"
    return (
        f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
        f"SELECT {key}, account_id, sum(sg), {posts}, {posts_all} FROM ("
        f"SELECT sg, account_id, {_CUTS[key][dialect]} AS {key}, "
        "row_number() OVER (PARTITION BY sg, post_id, platform ORDER BY at, id) AS rp, "
        "row_number() OVER (PARTITION BY sg, post_id ORDER BY at, id) AS ra "
        f"FROM ({signed}) s WHERE at IS NOT NULL) r "
        f"GROUP BY {key}, account_id HAVING sum(sg) <> 0 OR {posts} <> 0 OR {posts_all} <> 0 "
        f"ON CONFLICT ({key}, account_id) DO UPDATE SET "
        + ", ".join(f"{c} = {TABLE}.{c} + excluded.{c}" for c in ("targets", "posts", "posts_all"))
    )


def _current(sg: int, posts: str, where: str = "") -> str:
    """The counted targets of the posts `posts` (an SQL list) as they are now, signed."""
    return (
        f"SELECT {sg} AS sg, t.id, t.post_id, t.account_id, t.platform, "
        "COALESCE(t.completed_at, p.published_at) AS at "
        f"FROM post_targets t JOIN posts p ON p.id = t.post_id "
        f"WHERE t.post_id IN ({posts}) AND t.platform_post_id IS NOT NULL{where}"
    )


def _row(sg: int, row: str) -> str:
    """One target row as a signed counted row: `row` prefixes its columns ("OLD." in a SQLite
    trigger, "n_" for the plpgsql variables holding NEW's)."""
    return (
        f"SELECT {sg}, {row}id, {row}post_id, {row}account_id, {row}platform, "
        f"COALESCE({row}completed_at, p.published_at) "
        f"FROM posts p WHERE p.id = {row}post_id AND {row}platform_post_id IS NOT NULL"
    )


def _post(sg: int, post: str) -> str:
    """The counted targets of one post (OLD or NEW of posts), with that row's published_at."""
    return (
        f"SELECT {sg} AS sg, t.id, t.post_id, t.account_id, t.platform, "
        f"COALESCE(t.completed_at, {post}.published_at) AS at "
        f"FROM post_targets t WHERE t.post_id = {post}.id AND t.platform_post_id IS NOT NULL"
    )


# A row whose counts all reached 0 goes (posts and posts_all are never above targets).
_EMPTIED = "NEW.targets = 0 AND NEW.posts = 0 AND NEW.posts_all = 0"


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_trigger(key: str, name: str, when: str, event: str, table: str, condition: str, signed: str) -> str:
    return (
        f"CREATE TRIGGER {name} {when} {event} ON {table} "
        + (f"WHEN {condition} " if condition else "")
        + f"BEGIN {_add(signed, key, 'sqlite')}; END"
    )


def _sqlite_ddl(key: str) -> list[str]:
    both = "OLD.post_id, NEW.post_id"
    return [
        # "With" is the table; "without" is it less NEW (and plus OLD).
        _sqlite_trigger(
            key,
            "published_counts_target_insert",
            "AFTER",
            "INSERT",
            "post_targets",
            "NEW.platform_post_id IS NOT NULL",
            f"{_current(1, 'NEW.post_id')} UNION ALL {_current(-1, 'NEW.post_id', ' AND t.id <> NEW.id')}",
        ),
        _sqlite_trigger(
            key,
            "published_counts_target_update",
            "AFTER",
            f"UPDATE OF {_WATCHED}",
            "post_targets",
            f"(OLD.platform_post_id IS NOT NULL OR NEW.platform_post_id IS NOT NULL) "
            f"AND ({_changed('OLD', 'NEW', 'sqlite')})",
            f"{_current(1, both)} UNION ALL {_current(-1, both, ' AND t.id <> NEW.id')} UNION ALL {_row(-1, 'OLD.')}",
        ),
        _sqlite_trigger(
            key,
            "published_counts_target_delete",
            "AFTER",
            "DELETE",
            "post_targets",
            "OLD.platform_post_id IS NOT NULL",
            f"{_current(1, 'OLD.post_id')} UNION ALL {_current(-1, 'OLD.post_id')} UNION ALL {_row(-1, 'OLD.')}",
        ),
        _sqlite_trigger(
            key,
            "published_counts_post_update",
            "AFTER",
            "UPDATE OF published_at",
            "posts",
            "OLD.published_at IS NOT NEW.published_at",
            f"{_post(1, 'NEW')} UNION ALL {_post(-1, 'OLD')}",
        ),
        # BEFORE: its targets are still there (a cascade deletes them after the post).
        _sqlite_trigger(key, "published_counts_post_delete", "BEFORE", "DELETE", "posts", "", _post(-1, "OLD")),
        f"CREATE TRIGGER published_counts_emptied AFTER UPDATE ON {TABLE} WHEN {_EMPTIED} "
        f"BEGIN DELETE FROM {TABLE} WHERE {key} = NEW.{key} AND account_id = NEW.account_id; END",
    ]


SQLITE_TRIGGERS = (
    "published_counts_target_insert",
    "published_counts_target_update",
    "published_counts_target_delete",
    "published_counts_post_update",
    "published_counts_post_delete",
    "published_counts_emptied",
)


# --- PostgreSQL ----------------------------------------------------------------------------

# The plpgsql variables holding OLD's and NEW's target columns (NULL where there is none).
_PG_VARS = "\n".join(
    f"  o_{c} {t}; n_{c} {t};" for c, t in zip(TARGET_COLUMNS, ("integer",) * 3 + ("text",) * 2 + ("timestamp",))
)


def _pg_ddl(key: str) -> list[str]:
    both = "o_post_id, n_post_id"
    # "Without" is the table; "with" is it less OLD, plus NEW.
    signed = (
        f"{_current(-1, both)} UNION ALL {_current(1, both, ' AND t.id IS DISTINCT FROM o_id')} "
        f"UNION ALL {_row(1, 'n_')}"
    )
    target_fn = f"""CREATE OR REPLACE FUNCTION published_counts_on_target() RETURNS trigger LANGUAGE plpgsql AS $body$
DECLARE
{_PG_VARS}
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- An insert that will fail or become ON CONFLICT's update (counted by that trigger).
    IF EXISTS (SELECT 1 FROM post_targets WHERE id = NEW.id)
       OR EXISTS (SELECT 1 FROM post_targets WHERE post_id = NEW.post_id AND account_id = NEW.account_id) THEN
      RETURN NEW;
    END IF;
  ELSE
    {" ".join(f"o_{c} := OLD.{c};" for c in TARGET_COLUMNS)}
  END IF;
  IF TG_OP <> 'DELETE' THEN
    {" ".join(f"n_{c} := NEW.{c};" for c in TARGET_COLUMNS)}
  END IF;
  {_add(signed, key, "postgresql")};
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$body$"""
    post_fn = f"""CREATE OR REPLACE FUNCTION published_counts_on_post() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  IF TG_OP = 'DELETE' THEN
    {_add(_post(-1, "OLD"), key, "postgresql")};
    RETURN OLD;
  END IF;
  {_add(f"{_post(1, 'NEW')} UNION ALL {_post(-1, 'OLD')}", key, "postgresql")};
  RETURN NEW;
END
$body$"""
    emptied_fn = f"""CREATE OR REPLACE FUNCTION published_counts_emptied() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  DELETE FROM {TABLE} WHERE {key} = NEW.{key} AND account_id = NEW.account_id;
  RETURN NULL;
END
$body$"""
    return [
        target_fn,
        post_fn,
        emptied_fn,
        "CREATE TRIGGER published_counts_target_insert BEFORE INSERT ON post_targets FOR EACH ROW "
        "WHEN (NEW.platform_post_id IS NOT NULL) EXECUTE FUNCTION published_counts_on_target()",
        f"CREATE TRIGGER published_counts_target_update BEFORE UPDATE OF {_WATCHED} ON post_targets FOR EACH ROW "
        f"WHEN ((OLD.platform_post_id IS NOT NULL OR NEW.platform_post_id IS NOT NULL) "
        f"AND ({_changed('OLD', 'NEW', 'postgresql')})) EXECUTE FUNCTION published_counts_on_target()",
        "CREATE TRIGGER published_counts_target_delete BEFORE DELETE ON post_targets FOR EACH ROW "
        "WHEN (OLD.platform_post_id IS NOT NULL) EXECUTE FUNCTION published_counts_on_target()",
        "CREATE TRIGGER published_counts_post_update BEFORE UPDATE OF published_at ON posts FOR EACH ROW "
        "WHEN (OLD.published_at IS DISTINCT FROM NEW.published_at) EXECUTE FUNCTION published_counts_on_post()",
        "CREATE TRIGGER published_counts_post_delete BEFORE DELETE ON posts FOR EACH ROW "
        "EXECUTE FUNCTION published_counts_on_post()",
        f"CREATE TRIGGER published_counts_emptied AFTER UPDATE ON {TABLE} FOR EACH ROW "
        f"WHEN ({_EMPTIED}) EXECUTE FUNCTION published_counts_emptied()",
    ]


PG_TRIGGERS = (
    ("published_counts_target_insert", "post_targets"),
    ("published_counts_target_update", "post_targets"),
    ("published_counts_target_delete", "post_targets"),
    ("published_counts_post_update", "posts"),
    ("published_counts_post_delete", "posts"),
    ("published_counts_emptied", TABLE),
)
PG_FUNCTIONS = ("published_counts_on_target", "published_counts_on_post", "published_counts_emptied")


# --- installing, rebuilding, checking -------------------------------------------------------


def install(conn: Connection, key: str = KEY) -> None:
    """Create (or re-create) the triggers on `conn`'s database; the table must exist."""
    uninstall(conn)
    for sql in _pg_ddl(key) if conn.dialect.name == "postgresql" else _sqlite_ddl(key):
        conn.exec_driver_sql(sql)


def uninstall(conn: Connection) -> None:
    """Drop the triggers (and PostgreSQL's trigger functions), if there."""
    if conn.dialect.name == "postgresql":
        for name, table in PG_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for fn in PG_FUNCTIONS:
            conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {fn}()")
    else:
        for name in SQLITE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def _computed(dialect: str, key: str = KEY) -> str:
    """The table's rows computed from post_targets and posts (what the triggers keep)."""
    return (
        f"SELECT {key}, account_id, count(*) AS targets, "
        "sum(CASE WHEN rp = 1 THEN 1 ELSE 0 END) AS posts, sum(CASE WHEN ra = 1 THEN 1 ELSE 0 END) AS posts_all "
        f"FROM (SELECT account_id, {_CUTS[key][dialect]} AS {key}, "
        "row_number() OVER (PARTITION BY post_id, platform ORDER BY at, id) AS rp, "
        "row_number() OVER (PARTITION BY post_id ORDER BY at, id) AS ra "
        "FROM (SELECT t.id, t.post_id, t.account_id, t.platform, COALESCE(t.completed_at, p.published_at) AS at "
        "FROM post_targets t JOIN posts p ON p.id = t.post_id WHERE t.platform_post_id IS NOT NULL) s "
        f"WHERE at IS NOT NULL) r GROUP BY {key}, account_id"
    )


def rebuild(conn: Connection, key: str = KEY) -> int:
    """Recompute the table from post_targets and posts; the rows written."""
    conn.exec_driver_sql(f"DELETE FROM {TABLE}")
    cols = ", ".join((key, *COLUMNS[1:]))
    conn.exec_driver_sql(f"INSERT INTO {TABLE} ({cols}) {_computed(conn.dialect.name, key)}")
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {TABLE}").scalar_one())


def differences(conn: Connection) -> int:
    """How many rows the table and its rebuild do not share (0: they are equal). One pass: each
    side has one row per key, so a row found once is on one side only."""
    cols = ", ".join(COLUMNS)
    both = f"SELECT {cols} FROM {TABLE} UNION ALL SELECT {cols} FROM ({_computed(conn.dialect.name)}) c"
    sql = f"SELECT count(*) FROM (SELECT {cols} FROM ({both}) u GROUP BY {cols} HAVING count(*) = 1) d"
    return int(conn.exec_driver_sql(sql).scalar_one())
