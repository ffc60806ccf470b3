"""Report fixtures built with the ORM: accounts, posts and targets, snapshots through
record_post_snapshot. Each `*_store()` builds one hand-computed store in the current
POSTCLI_HOME / POSTCLI_DATABASE_URL (so on either backend) and returns the builder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from postcli.platforms.base import PostMetrics

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run(*args: str):
    from postcli.cli import app

    result = CliRunner().invoke(app, ["analytics", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


class Store:
    """Builds accounts/posts/targets with the ORM and snapshots through record_post_snapshot."""

    def __init__(self):
        from postcli.store.session import session_scope

        self.scope = session_scope
        self._n = 0

    def account(self, platform: str, handle: str, status: str = "active") -> int:
        from postcli.store.models import Account

        with self.scope() as s:
            a = Account(
                platform=platform,
                handle=handle,
                external_id=f"{platform}:{handle}",
                api_base_url=f"https://{platform}.example",
                status=status,
            )
            s.add(a)
            s.flush()
            return a.id

    def post(self, text: str, published: str, *account_ids: int) -> list[int]:
        """A completed post on each account; returns the target ids."""
        from postcli.store.models import Account, Post, PostTarget

        self._n += 1
        when = at(published)
        with self.scope() as s:
            p = Post(text=text, status="completed", published_at=when, correlation_id=f"c{self._n}")
            s.add(p)
            for acc_id in account_ids:
                acc = s.get(Account, acc_id)
                p.targets.append(
                    PostTarget(
                        account_id=acc_id,
                        platform=acc.platform,
                        status="completed",
                        idempotency_key=f"k{self._n}-{acc_id}",
                        platform_post_id=f"{acc.platform}-{self._n}",
                        platform_post_url=f"https://{acc.platform}.example/p/{self._n}",
                        completed_at=when,
                    )
                )
            s.flush()
            return [t.id for t in p.targets]

    def snap(self, target_id: int, when: str, follower_count: int | None = None, **counters) -> None:
        from postcli.services.snapshots import record_post_snapshot
        from postcli.store.models import PostTarget

        with self.scope() as s:
            record_post_snapshot(s, s.get(PostTarget, target_id), PostMetrics(**counters), at(when), follower_count)

    def followers(self, account_id: int, when: str, followers: int | None) -> None:
        from postcli.platforms.base import AccountMetrics
        from postcli.services.snapshots import record_account_snapshot

        with self.scope() as s:
            record_account_snapshot(s, account_id, AccountMetrics(followers=followers), at(when))


MARCH = ("--since", "2024-03-01", "--until", "2024-03-05", "--tz", "UTC")


def report_store() -> Store:
    """Bluesky and Mastodon posts in and before 2024-03-01..05 (UTC), plus a NULL-only Tumblr post.

    Engagement (likes + comments + shares) per snapshot is noted after each.
    """
    st = Store()
    st.bsky = st.account("bluesky", "ana.bsky.social")
    st.masto = st.account("mastodon", "ana@mastodon.example")
    st.tumblr = st.account("tumblr", "ana-tumblr")
    # Published before the period, still engaging inside it.
    (st.old,) = st.post("an old post", "2024-02-20T12:00:00", st.bsky)
    st.snap(st.old, "2024-02-21T09:00:00", likes=100, comments=0, shares=0)  # 100
    st.snap(st.old, "2024-03-02T10:00:00", likes=104, comments=0, shares=0)  # 104: +4 on 03-02
    # Published in the period on Bluesky.
    (st.p1,) = st.post("hello bluesky", "2024-03-01T10:00:00", st.bsky)
    st.snap(st.p1, "2024-03-01T12:00:00", 200, likes=5, comments=1, shares=0)  # 6
    st.snap(st.p1, "2024-03-01T20:00:00", 200, likes=8, comments=1, shares=1)  # 10: 03-01 = 10 in full
    st.snap(st.p1, "2024-03-02T09:00:00", 200, likes=10, comments=2, shares=1)  # 13: +3 on 03-02
    st.snap(st.p1, "2024-03-04T09:00:00", 200, likes=15, comments=2, shares=1)  # 18: +5 on 03-04
    # Mastodon: data starts on 03-03; shares are not reported once (NULL, not 0).
    (st.m1,) = st.post("hello mastodon", "2024-03-03T08:00:00", st.masto)
    st.snap(st.m1, "2024-03-03T09:00:00", 50, likes=2, comments=None, shares=1)  # 3
    st.snap(st.m1, "2024-03-04T09:00:00", 50, likes=4, comments=None, shares=None)  # 4: +1 on 03-04
    # Tumblr reports no likes/comments/shares at all: engagement is NULL everywhere.
    (st.t1,) = st.post("hello tumblr", "2024-03-02T15:00:00", st.tumblr)
    st.snap(st.t1, "2024-03-02T16:00:00", views=40)
    st.followers(st.bsky, "2024-03-01T00:00:00", 190)
    st.followers(st.bsky, "2024-03-03T12:00:00", 200)
    st.followers(st.bsky, "2024-03-03T18:00:00", 205)
    st.followers(st.masto, "2024-03-04T06:00:00", 50)
    st.followers(st.tumblr, "2024-03-04T06:00:00", None)
    return st


HEAT_PERIOD = ("--since", "2024-03-01", "--until", "2024-03-08")


def heat_store() -> tuple[str, ...]:
    st = Store()
    acc = st.account("bluesky", "h.bsky.social")
    for text, when, likes in (
        ("sunday late", "2024-03-03T23:30:00", 10),  # Monday 00:30 in Berlin, 05:00 in Kolkata
        ("monday a", "2024-03-04T10:00:00", 4),  # 11:00 Berlin
        ("monday b", "2024-03-04T10:20:00", 6),  # 11:20 Berlin
    ):
        (t,) = st.post(text, when, acc)
        st.snap(t, "2024-03-05T00:00:00", likes=likes)
    return HEAT_PERIOD


SLOTS_PERIOD = ("--since", "2024-03-01", "--until", "2024-03-29")


def slots_store() -> Store:
    s = Store()
    b = s.account("bluesky", "b.bsky.social")
    m = s.account("mastodon", "m@masto.example")

    def post(when: str, acc: int, **counters) -> None:
        (t,) = s.post(f"post at {when}", when, acc)
        s.snap(t, "2024-03-28T00:00:00", **counters)

    # Monday 2024-03-04, 10:xx UTC: 3, 6, 9 -> mean 6 (UTC). In Kolkata (+05:30) these are
    # 15:30, 15:40 and 16:10: two slots, both too thin.
    post("2024-03-04T10:00:00", b, likes=3)
    post("2024-03-04T10:10:00", b, likes=6)
    post("2024-03-04T10:40:00", b, likes=9)
    # Tuesday 14:00 UTC: 10, 10, a real 0, and one whose engagement is not reported.
    post("2024-03-05T14:00:00", b, likes=10)
    post("2024-03-05T14:05:00", b, likes=10)
    post("2024-03-05T14:10:00", b, likes=0, comments=0, shares=0)
    post("2024-03-05T14:15:00", b, views=99)
    # Wednesday 09:00 UTC: the best mean, but two posts only.
    post("2024-03-06T09:00:00", b, likes=100)
    post("2024-03-06T09:30:00", b, likes=100)
    # Thursday 08:00 UTC: one post, engagement never reported.
    post("2024-03-07T08:00:00", b, views=5)
    # Friday 09:00 in New York on both sides of the DST change (2024-03-10): 14:00 UTC (EST),
    # then 13:00 UTC (EDT) twice. One slot in New York; in UTC two, both thin.
    post("2024-03-08T14:00:00", b, likes=7)
    post("2024-03-15T13:00:00", b, likes=7)
    post("2024-03-22T13:00:00", b, likes=7)
    # Mastodon, Saturday 12:00 UTC: 50 each.
    for day in ("09", "16", "23"):
        post(f"2024-03-{day}T12:00:00", m, likes=50)
    return s


# The period is 03-01..03-05; the previous one, of the same length, 02-26..03-01.
CHANGE_PERIOD = ("--since", "2024-03-01", "--until", "2024-03-05", "--tz", "UTC")


def two_periods_store() -> Store:
    s = Store()
    bsky = s.account("bluesky", "b.bsky.social")
    masto = s.account("mastodon", "m@masto.example")
    tumblr = s.account("tumblr", "t-tumblr")
    threads = s.account("threads", "th")
    fb = s.account("facebook", "fb-page")
    # Bluesky: 10 before, 15 now: +5, +50 %.
    (t,) = s.post("b before", "2024-02-27T10:00:00", bsky)
    s.snap(t, "2024-02-28T10:00:00", 100, likes=10, comments=0, shares=0)
    (t,) = s.post("b now", "2024-03-02T10:00:00", bsky)
    s.snap(t, "2024-03-03T10:00:00", 100, likes=12, comments=2, shares=1)
    # Mastodon: a real 0 before, 4 now: "new", change +4, no percentage.
    (t,) = s.post("m before", "2024-02-27T10:00:00", masto)
    s.snap(t, "2024-02-28T10:00:00", 50, likes=0, comments=0, shares=0)
    (t,) = s.post("m now", "2024-03-02T10:00:00", masto)
    s.snap(t, "2024-03-03T10:00:00", 50, likes=4, comments=0, shares=0)
    # Tumblr: engagement not reported in either period: no change at all, not "new", not 0 %.
    (t,) = s.post("t before", "2024-02-27T10:00:00", tumblr)
    s.snap(t, "2024-02-28T10:00:00", views=5)
    (t,) = s.post("t now", "2024-03-02T10:00:00", tumblr)
    s.snap(t, "2024-03-03T10:00:00", views=9)
    # Threads: nothing before (NULL), 7 now: "new", change unknown.
    (t,) = s.post("th now", "2024-03-02T10:00:00", threads)
    s.snap(t, "2024-03-03T10:00:00", likes=7, comments=0, shares=0)
    # Facebook: 5 before, 0 now: -5, -100 %.
    (t,) = s.post("fb before", "2024-02-27T10:00:00", fb)
    s.snap(t, "2024-02-28T10:00:00", likes=5, comments=0, shares=0)
    (t,) = s.post("fb now", "2024-03-02T10:00:00", fb)
    s.snap(t, "2024-03-03T10:00:00", likes=0, comments=0, shares=0)
    # Followers: bluesky 100 -> 120; mastodon had no snapshot before.
    s.followers(bsky, "2024-02-28T00:00:00", 100)
    s.followers(bsky, "2024-03-04T00:00:00", 120)
    s.followers(masto, "2024-03-04T00:00:00", 50)
    return s


PAIRED_LIVE = datetime(2024, 2, 29, 20, tzinfo=timezone.utc)


def paired_targets(n: int) -> tuple[list[int], list[int]]:
    """Two accounts with n published targets each: one set recorded one by one, one in batches."""
    from postcli.store.models import Account, Post, PostTarget
    from postcli.store.session import session_scope

    out: list[list[int]] = []
    with session_scope() as s:
        for side in ("one", "batch"):
            acc = Account(
                platform="bluesky", handle=side, external_id=side, api_base_url="https://b.example", status="active"
            )
            s.add(acc)
            s.flush()
            ids = []
            for i in range(n):
                p = Post(text=f"{side} {i}", status="completed", correlation_id=f"{side}{i}")
                t = PostTarget(
                    account_id=acc.id,
                    platform="bluesky",
                    status="completed",
                    idempotency_key=f"{side}-{i}",
                    platform_post_id=f"{side}-{i}",
                    # live on two UTC days: the sums by publish day (published_sums) see both
                    completed_at=PAIRED_LIVE + timedelta(hours=3 * i),
                )
                p.targets.append(t)
                s.add(p)
                s.flush()
                ids.append(t.id)
            out.append(ids)
    return out[0], out[1]
