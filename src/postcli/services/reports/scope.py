"""What every report starts from: the query, the accounts and platform it covers, its Meta,
the one-line reasons when there is nothing to show, and the period in the user's days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from postcli.errors import InvalidInput, NotFound
from postcli.store.dbapi import Reader, in_list, reader

COLLECT_HINT = "run `postcli collect` to snapshot your published posts and accounts"


@dataclass(frozen=True)
class ReportQuery:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    tz: str = "UTC"
    platform: str | None = None
    account: str | None = None  # id or handle, as the user typed it

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass
class AccountRef:
    account_id: int
    platform: str
    handle: str

    def as_json(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "platform": self.platform, "handle": self.handle}


@dataclass
class Meta:
    """What every report carries besides its numbers."""

    report: str
    start: datetime
    end: datetime
    tz: str
    platform: str | None
    account: AccountRef | None
    simulated: bool = False  # a sandbox account is in scope
    reconnect: list[AccountRef] = field(default_factory=list)  # accounts whose token expired
    empty: str | None = None  # one helpful line when there is nothing to show

    def as_json(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "period": {"start": self.start, "end": self.end, "timezone": self.tz},
            "filters": {
                "platform": self.platform,
                "account": None if self.account is None else self.account.as_json(),
            },
            "simulated": self.simulated,
            "reconnect": [a.as_json() for a in self.reconnect],
        }


@dataclass
class Report:
    """A report: its Meta, then its own figures (`body`) in JSON; `columns` and `csv_rows` in CSV."""

    meta: Meta
    columns: ClassVar[tuple[str, ...]] = ()

    def body(self) -> dict[str, Any]:
        raise NotImplementedError

    def csv_rows(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def as_json(self) -> dict[str, Any]:
        return {**self.meta.as_json(), **self.body()}

    def csv(self) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        return self.columns, self.csv_rows()


@dataclass
class Scope:
    q: ReportQuery
    platform: str | None
    account: AccountRef | None
    dialect: str = "sqlite"  # the store's (store/dbapi.py Reader.dialect): a few plans differ

    def targets(self, alias: str = "t") -> tuple[str, dict[str, Any]]:
        """` AND ...` restricting post_targets `alias` to the scope, and its parameters."""
        sql, params = "", dict[str, Any]()
        if self.platform:
            sql += f" AND {alias}.platform = :platform"
            params["platform"] = self.platform
        if self.account is not None:
            sql += f" AND {alias}.account_id = :account_id"
            params["account_id"] = self.account.account_id
        return sql, params

    def hourly(self, db: Reader) -> tuple[str, dict[str, Any]]:
        """Filter account_post_hourly `h` by its account_id."""
        if self.account is not None:
            return " AND h.account_id = :account_id", {"account_id": self.account.account_id}
        if self.platform:
            marks, params = in_list("acc", sorted(self.account_platforms(db)))
            return f" AND h.account_id IN {marks}", params
        return "", {}

    def account_platforms(self, db: Reader) -> dict[int, str]:
        """{account id: platform} of the accounts in scope, removed ones too (what they published
        stays in the history)."""
        if self.account is not None:
            rows = db.rows("SELECT id, platform FROM accounts WHERE id = :id", id=self.account.account_id)
        elif self.platform:
            rows = db.rows("SELECT id, platform FROM accounts WHERE platform = :p", p=self.platform)
        else:
            rows = db.rows("SELECT id, platform FROM accounts")
        return {int(i): str(p) for i, p in rows}

    def accounts(self, alias: str = "a") -> tuple[str, dict[str, Any]]:
        """`WHERE ...` restricting accounts `alias` to the scope (removed ones only when named)."""
        where, params = list[str](), dict[str, Any]()
        if self.platform:
            where.append(f"{alias}.platform = :platform")
            params["platform"] = self.platform
        if self.account is not None:
            where.append(f"{alias}.id = :account_id")
            params["account_id"] = self.account.account_id
        else:
            where.append(f"{alias}.removed_at IS NULL")
        return " WHERE " + " AND ".join(where), params

    def words(self) -> str:
        """ " on mastodon for @me", or "" for everything."""
        parts = []
        if self.platform:
            parts.append(f"on {self.platform}")
        if self.account is not None:
            parts.append(f"for {self.account.handle}")
        return (" " + " ".join(parts)) if parts else ""

    def period_words(self) -> str:
        zone = self.q.zone
        return f"between {_local(self.q.start, zone)} and {_local(self.q.end, zone)} ({self.q.tz})"

    def nothing_recorded(self, what: str, hint: str) -> str:
        """The one line for a period with nothing of `what` in it."""
        return f"No {what} {self.period_words()}{self.words()}. {hint}"

    def nothing_published(self) -> str:
        return self.nothing_recorded(
            "posts published", f"Try a longer --period (e.g. 90d) or --since; to update metrics, {COLLECT_HINT}."
        )

    def local_days(self) -> list[date]:
        zone = self.q.zone
        first = self.q.start.astimezone(zone).date()
        last = (self.q.end - timedelta(microseconds=1)).astimezone(zone).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _local(moment: datetime, zone: ZoneInfo) -> str:
    loc = moment.astimezone(zone)
    return loc.strftime("%Y-%m-%d") if loc.time() == time() else loc.strftime("%Y-%m-%d %H:%M")


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    lo = datetime.combine(day, time(), tzinfo=zone).astimezone(timezone.utc)
    hi = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(timezone.utc)
    return lo, hi


def utc_now(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def resolve_account(session: Any, ref: str, platform: str | None = None) -> AccountRef:
    """An account by id or handle (a leading @ is ignored); NotFound / InvalidInput when unclear."""
    db = reader(session)
    ref = ref.strip()
    if ref.isdigit():
        row = db.one("SELECT id, platform, handle FROM accounts WHERE id = :id", id=int(ref))
        if row is None:
            raise NotFound(f"no account with id {ref}.", hint="List them with `postcli accounts list`.")
        return AccountRef(*row)
    handle = ref.lstrip("@")
    sql = "SELECT id, platform, handle FROM accounts WHERE lower(handle) = lower(:handle)"
    if platform:
        sql += " AND platform = :platform"
    found = db.rows(sql + " ORDER BY id", handle=handle, platform=platform)
    if not found:
        raise NotFound(f"no account {ref!r}.", hint="List them with `postcli accounts list`.")
    if len(found) > 1:
        ids = ", ".join(f"{r[0]} ({r[1]})" for r in found)
        raise InvalidInput(f"{ref!r} matches several accounts: {ids}.", hint="Pass the account id, or add --platform.")
    return AccountRef(*found[0])


def begin(session: Any, q: ReportQuery, report: str) -> tuple[Reader, Scope, Meta]:
    """Start a report: its reader, scope and Meta, with meta.empty set when the store has
    nothing at all to report in the scope (the report then returns at once)."""
    db = reader(session)
    if q.start >= q.end:
        raise InvalidInput("the period is empty: its start is not before its end.")
    account = resolve_account(db, q.account, q.platform) if q.account else None
    sc = Scope(q=q, platform=q.platform, account=account, dialect=db.dialect)
    where, params = sc.accounts()
    rows = db.rows(f"SELECT a.id, a.platform, a.handle, a.status FROM accounts a{where} ORDER BY a.id", **params)
    meta = Meta(
        report=report,
        start=q.start.astimezone(timezone.utc),
        end=q.end.astimezone(timezone.utc),
        tz=q.tz,
        platform=q.platform,
        account=account,
        simulated=any(_simulated(r[1]) for r in rows),
        reconnect=[AccountRef(r[0], r[1], r[2]) for r in rows if r[3] == "token_expired"],
    )
    meta.empty = _store_empty_reason(db, sc)
    return db, sc, meta


def _store_empty_reason(db: Reader, sc: Scope) -> str | None:
    """Why there is nothing at all to report (before looking at the period), or None."""
    if db.one("SELECT id FROM accounts LIMIT 1") is None:
        return (
            "No accounts yet: connect one with `postcli accounts add bluesky --handle YOU.bsky.social` "
            "(or try `postcli demo`), publish, then run `postcli collect`."
        )
    t_where, t_params = sc.targets()
    has_metrics = db.one(
        f"SELECT l.target_id FROM post_metric_latest l JOIN post_targets t ON t.id = l.target_id "
        f"WHERE 1 = 1{t_where} LIMIT 1",
        **t_params,
    )
    if has_metrics is not None:
        return None
    a_where, a_params = sc.accounts()
    has_accounts = db.one(
        f"SELECT s.account_id FROM account_metric_snapshots s JOIN accounts a ON a.id = s.account_id{a_where} LIMIT 1",
        **a_params,
    )
    if has_accounts is None:
        return f"No metrics collected yet{sc.words()}: {COLLECT_HINT}."
    return None


def _simulated(platform: str) -> bool:
    from postcli.platforms import registry

    return registry.is_simulated(platform)
