"""Reports (services/reports.py, cli/analytics.py) on small hand-computed fixtures, and the sandbox."""

from __future__ import annotations

import csv
import io
from datetime import timedelta, timezone

import pytest

from postcli.platforms.base import AccountContext, PublishRequest
from support.builders import MARCH, Store, at, heat_store, report_store, run, run_json

UTC = timezone.utc

# Every report test runs on SQLite and on PostgreSQL (support/backend.py).
pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
def store(home):
    """Bluesky and Mastodon posts in and before 2024-03-01..05 (UTC), plus a NULL-only Tumblr post.

    Engagement (likes + comments + shares) per snapshot is noted after each.
    """
    return report_store()


# --- timeline ---------------------------------------------------------------------


def test_timeline_deltas_across_days_and_targets(store):
    data = run_json("timeline", *MARCH)
    days = {d["date"]: d for d in data["days"]}
    assert list(days) == ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
    # 03-01: p1's first day counts in full (10); 03-02: p1 +3, the old post +4; 03-03: mastodon's
    # first snapshot (3); 03-04: p1 +5, mastodon +1.
    assert [d["engagement"] for d in data["days"]] == [10, 7, 3, 6]
    assert data["total_engagement"] == 26
    assert days["2024-03-04"]["likes"] == 5 + 2
    assert days["2024-03-04"]["shares"] == 0  # p1 reported no change; mastodon's NULL shares are skipped


def test_timeline_post_published_before_period_counts_when_it_engages(store):
    data = run_json(
        "timeline", "--since", "2024-03-02", "--until", "2024-03-03", "--tz", "UTC", "--account", "ana.bsky.social"
    )
    assert data["days"] == [{"date": "2024-03-02", "engagement": 7, "likes": 6, "comments": 1, "shares": 0}]


def test_timeline_days_before_any_data_are_empty_then_zero(store):
    data = run_json("timeline", *MARCH, "--platform", "mastodon")
    assert [d["engagement"] for d in data["days"]] == [None, None, 3, 1]
    text = run("timeline", *MARCH, "--platform", "mastodon")
    assert text.exit_code == 0
    assert "Fri 2024-03-01 —" in text.stdout


def test_timeline_zero_days_are_real_zeros(store):
    data = run_json(
        "timeline", "--since", "2024-03-05", "--until", "2024-03-07", "--tz", "UTC", "--platform", "bluesky"
    )
    assert [d["engagement"] for d in data["days"]] == [0, 0]


def test_null_only_metrics_stay_null(store):
    data = run_json("timeline", *MARCH, "--platform", "tumblr")
    assert [d["engagement"] for d in data["days"]] == [None, None, None, None]
    plat = run_json("platforms", *MARCH)
    tumblr = next(p for p in plat["platforms"] if p["platform"] == "tumblr")
    assert tumblr["posts"] == 1
    assert tumblr["engagement"] is None and tumblr["likes"] is None and tumblr["engagement_rate"] is None
    assert plat["platforms"][-1]["platform"] == "tumblr"  # unreported engagement sorts last
    text = run("platforms", *MARCH).stdout
    tumblr_line = next(line for line in text.splitlines() if line.strip().startswith("tumblr"))
    assert "—" in tumblr_line and " 0 " not in tumblr_line


def test_timeline_out_of_order_snapshot_recomputes_later_deltas(home):
    st = Store()
    acc = st.account("bluesky", "x.bsky.social")
    (t,) = st.post("x", "2024-03-01T00:00:00", acc)
    st.snap(t, "2024-03-01T10:00:00", likes=10)
    st.snap(t, "2024-03-03T10:00:00", likes=30)
    st.snap(t, "2024-03-02T10:00:00", likes=25)  # arrives late
    data = run_json("timeline", "--since", "2024-03-01", "--until", "2024-03-04", "--tz", "UTC")
    assert [d["likes"] for d in data["days"]] == [10, 15, 5]


def test_period_boundaries_inclusive_start_exclusive_end(home):
    st = Store()
    acc = st.account("bluesky", "b.bsky.social")
    (inside,) = st.post("at start", "2024-03-01T00:00:00", acc)
    (outside,) = st.post("at end", "2024-03-02T00:00:00", acc)
    st.snap(inside, "2024-03-01T00:00:00", likes=3)
    st.snap(outside, "2024-03-02T00:00:00", likes=50)
    args = ("--since", "2024-03-01", "--until", "2024-03-02", "--tz", "UTC")
    plat = run_json("platforms", *args)
    assert plat["platforms"][0]["posts"] == 1 and plat["platforms"][0]["engagement"] == 3
    assert [d["engagement"] for d in run_json("timeline", *args)["days"]] == [3]
    top = run_json("top", *args)
    assert [p["text"] for p in top["posts"]] == ["at start"]


def test_since_in_timezone_is_local_midnight(home):
    st = Store()
    acc = st.account("bluesky", "b.bsky.social")
    (t,) = st.post("late sunday", "2024-03-03T23:30:00", acc)  # Monday 00:30 in Berlin
    st.snap(t, "2024-03-03T23:45:00", likes=4)
    berlin = run_json("timeline", "--since", "2024-03-04", "--until", "2024-03-05", "--tz", "Europe/Berlin")
    assert berlin["period"]["start"] == "2024-03-03T23:00:00Z"
    assert berlin["days"] == [{"date": "2024-03-04", "engagement": 4, "likes": 4, "comments": None, "shares": None}]
    utc = run_json("timeline", "--since", "2024-03-04", "--until", "2024-03-05", "--tz", "UTC")
    assert utc["days"][0]["engagement"] == 0  # in UTC the likes arrived the day before


# --- overview / platforms -----------------------------------------------------------


def test_overview(store):
    data = run_json("overview", *MARCH)
    assert data["report"] == "overview"
    assert data["period"] == {"start": "2024-03-01T00:00:00Z", "end": "2024-03-05T00:00:00Z", "timezone": "UTC"}
    assert data["posts_published"] == 3  # p1, m1, t1; the old post was published before
    assert data["total_engagement"] == 18 + 4  # latest: p1 18, mastodon 4, tumblr NULL
    assert data["best_platform"] == "bluesky"
    assert data["followers"]["total"] == 205 + 50
    assert data["followers"]["by_platform"] == {"bluesky": 205, "mastodon": 50, "tumblr": None}
    assert data["engagement_rate_denominator"] == "followers_at_snapshot"
    bsky = data["platforms"][0]
    assert bsky == {
        "platform": "bluesky",
        "posts": 1,
        "targets": 1,
        "engagement": 18,
        "avg_engagement_per_post": 18.0,
        "engagement_rate": pytest.approx(18 / 200),
        "likes": 15,
        "comments": 2,
        "shares": 1,
        "impressions": None,
        "reach": None,
    }
    text = run("overview", *MARCH)
    assert text.exit_code == 0
    assert "best platform" in text.stdout and "bluesky" in text.stdout
    assert "followers" in text.stdout.lower()


def test_metrics_as_of_a_past_end(store):
    # Until 03-03 the latest snapshot of p1 is the 03-02 one (13), not today's 18.
    data = run_json("platforms", "--since", "2024-03-01", "--until", "2024-03-03", "--tz", "UTC", "-p", "bluesky")
    assert data["platforms"][0]["engagement"] == 13


def test_best_platform_ties_are_broken_by_name(home):
    st = Store()
    masto = st.account("mastodon", "m@x.example")
    bsky = st.account("bluesky", "b.bsky.social")
    (m,) = st.post("m", "2024-03-01T10:00:00", masto)
    (b,) = st.post("b", "2024-03-01T11:00:00", bsky)
    st.snap(m, "2024-03-01T12:00:00", likes=7, comments=3)
    st.snap(b, "2024-03-01T12:00:00", likes=10)
    args = ("--since", "2024-03-01", "--until", "2024-03-02", "--tz", "UTC")
    data = run_json("platforms", *args)
    assert [p["platform"] for p in data["platforms"]] == ["bluesky", "mastodon"]
    assert data["best_platform"] == "bluesky"
    assert run_json("overview", *args)["best_platform"] == "bluesky"


def test_a_post_sent_to_two_accounts_of_one_platform_is_one_post_and_two_targets(home):
    st = Store()
    work = st.account("mastodon", "work@x.example")
    me = st.account("mastodon", "me@y.example")
    bsky = st.account("bluesky", "b.bsky.social")
    both = st.post("to both mastodon accounts and bluesky", "2024-03-01T10:00:00", work, me, bsky)
    (solo,) = st.post("only work", "2024-03-01T11:00:00", work)
    for target in (*both, solo):
        st.snap(target, "2024-03-01T12:00:00", likes=2)
    args = ("--since", "2024-03-01", "--until", "2024-03-02", "--tz", "UTC")

    overview = run_json("overview", *args)
    assert (overview["posts_published"], overview["targets_published"]) == (2, 4)
    rows = {r["platform"]: r for r in overview["platforms"]}
    # "posts" counts posts in both places; "targets" counts (post, account) pairs.
    assert (rows["mastodon"]["posts"], rows["mastodon"]["targets"]) == (2, 3)
    assert (rows["bluesky"]["posts"], rows["bluesky"]["targets"]) == (1, 1)
    assert run_json("platforms", *args)["platforms"] == overview["platforms"]
    assert _csv("platforms", *args)[0]["targets"] in ("3", "1")

    text = run("overview", *args)
    assert text.exit_code == 0, text.stderr
    assert "targets published" in text.stdout and "targets" in text.stdout


# --- top ----------------------------------------------------------------------------


def test_top_sorts_and_puts_nulls_last(store):
    data = run_json("top", *MARCH, "--limit", "5")
    assert [(p["platform"], p["engagement"]) for p in data["posts"]] == [
        ("bluesky", 18),
        ("mastodon", 4),
        ("tumblr", None),
    ]
    first = data["posts"][0]
    assert first["rank"] == 1 and first["text"] == "hello bluesky"
    assert first["url"] == "https://bluesky.example/p/2"
    assert first["published_at"] == "2024-03-01T10:00:00Z"
    assert first["engagement_rate"] == pytest.approx(0.09)
    by_shares = run_json("top", *MARCH, "--sort", "shares")
    assert [p["shares"] for p in by_shares["posts"]] == [1, None, None]
    assert by_shares["posts"][0]["platform"] == "bluesky"
    by_rate = run_json("top", *MARCH, "--sort", "engagement_rate", "--limit", "1")
    assert by_rate["posts"][0]["engagement_rate"] == pytest.approx(18 / 200)  # mastodon: 4/50 = 0.08
    text = run("top", *MARCH).stdout
    assert "hello bluesky" in text and "—" in text


def test_top_rejects_unknown_sort(store):
    result = run("top", *MARCH, "--sort", "karma")
    assert result.exit_code == 2
    assert "engagement_rate" in result.stderr


# --- growth -------------------------------------------------------------------------


def test_growth(store):
    data = run_json("growth", *MARCH)
    bsky = next(a for a in data["accounts"] if a["platform"] == "bluesky")
    assert [d["followers"] for d in bsky["days"]] == [190, None, 205, None]
    assert (bsky["start"], bsky["end"], bsky["change"]) == (190, 205, 15)
    masto = next(a for a in data["accounts"] if a["platform"] == "mastodon")
    assert masto["change"] == 0
    tumblr = next(a for a in data["accounts"] if a["platform"] == "tumblr")
    assert tumblr["change"] is None
    assert data["total_change"] == 15
    text = run("growth", *MARCH)
    assert "+15" in text.stdout


# --- heatmap ------------------------------------------------------------------------


@pytest.fixture
def heat(home):
    return heat_store()


def _cell(data, weekday, hour):
    return next(c for c in data["cells"] if c["weekday"] == weekday and c["hour"] == hour)


def test_heatmap_in_utc(heat):
    data = run_json("heatmap", *heat, "--tz", "UTC")
    assert len(data["cells"]) == 168
    assert _cell(data, 6, 23) == {"weekday": 6, "weekday_name": "Sun", "hour": 23, "posts": 1, "mean_engagement": 10.0}
    assert _cell(data, 0, 10)["mean_engagement"] == 5.0 and _cell(data, 0, 10)["posts"] == 2
    assert _cell(data, 0, 0)["posts"] == 0 and _cell(data, 0, 0)["mean_engagement"] is None


def test_heatmap_timezone_shifts_across_midnight(heat):
    data = run_json("heatmap", *heat, "--tz", "Europe/Berlin")
    assert _cell(data, 0, 0)["mean_engagement"] == 10.0  # Sunday 23:30 UTC is Monday 00:30
    assert _cell(data, 6, 23)["posts"] == 0
    assert _cell(data, 0, 11)["mean_engagement"] == 5.0
    assert [(s["weekday_name"], s["hour"]) for s in data["best_slots"]] == [("Mon", 0), ("Mon", 11)]
    # A half-hour zone: 23:30 UTC is 05:00 and 10:00/10:20 UTC are 15:30/15:50 in Kolkata.
    india = run_json("heatmap", *heat, "--tz", "Asia/Kolkata")
    assert _cell(india, 0, 5)["mean_engagement"] == 10.0
    assert _cell(india, 0, 15)["posts"] == 2
    text = run("heatmap", *heat, "--tz", "Europe/Berlin")
    assert "Best slots" in text.stdout and "Mon 00:00" in text.stdout


# --- CSV / JSON shapes -------------------------------------------------------------


def _csv(*args: str) -> list[dict[str, str]]:
    result = run(*args, "--csv")
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


CHANGE_COLUMNS = [
    f"{f}_{s}" for f in ("posts", "engagement", "engagement_rate") for s in ("previous", "change", "change_pct")
]


def test_csv_shapes(store):
    timeline = _csv("timeline", *MARCH, "--platform", "mastodon")
    assert list(timeline[0]) == ["date", "engagement", "likes", "comments", "shares"]
    assert timeline[0]["engagement"] == "" and timeline[2]["engagement"] == "3"
    plat = _csv("platforms", *MARCH)
    assert list(plat[0]) == [
        "platform",
        "posts",
        "targets",
        "engagement",
        "avg_engagement_per_post",
        "engagement_rate",
        "likes",
        "comments",
        "shares",
        "impressions",
        "reach",
        *CHANGE_COLUMNS,
    ]
    assert [r["platform"] for r in plat] == ["bluesky", "mastodon", "tumblr"]
    overview = _csv("overview", *MARCH)
    assert list(overview[0])[-13:] == [
        "followers",
        *CHANGE_COLUMNS,
        "followers_previous",
        "followers_change",
        "followers_change_pct",
    ]
    assert overview[0]["followers"] == "205"
    top = _csv("top", *MARCH)
    assert list(top[0])[:4] == ["rank", "post_id", "target_id", "platform"]
    growth = _csv("growth", *MARCH)
    assert list(growth[0]) == ["date", "account_id", "platform", "handle", "followers"]
    heat = _csv("heatmap", *MARCH)
    assert len(heat) == 168 and list(heat[0]) == ["weekday", "weekday_name", "hour", "posts", "mean_engagement"]


def test_json_envelope_is_the_same_for_every_report(store):
    for report in ("overview", "timeline", "growth", "top", "platforms", "heatmap"):
        data = run_json(report, *MARCH)
        assert data["report"] == report
        assert set(data) >= {"report", "period", "filters", "simulated", "reconnect"}
        assert data["filters"] == {"platform": None, "account": None}
        assert data["simulated"] is False


# --- errors and empty stores -------------------------------------------------------


def test_bad_since_exits_2_naming_the_forms(home):
    result = run("overview", "--since", "not-a-date")
    assert result.exit_code == 2
    assert "2024-03-01" in result.stderr and "not-a-date" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("--tz", "Mars/Olympus"),
        ("--period", "forever"),
        ("--period", "7d", "--since", "2024-01-01"),
        ("--since", "2024-03-02", "--until", "2024-03-01"),
        ("--platform", "myspace"),
        ("--json", "--csv"),
    ],
)
def test_bad_options_exit_2(home, args):
    result = run("timeline", *args)
    assert result.exit_code == 2, result.output
    assert "error" in result.stderr


def test_unknown_account_exits_3(store):
    result = run("overview", "--account", "nobody")
    assert result.exit_code == 3
    assert "accounts list" in result.stderr


def test_empty_store_says_so_in_one_line(home):
    result = run("overview")
    assert result.exit_code == 0
    assert result.stdout.strip().count("\n") == 0
    assert "No accounts yet" in result.stdout


def test_no_metrics_yet_points_at_collect(home):
    Store().account("bluesky", "new.bsky.social")
    for report in ("overview", "timeline", "top", "heatmap", "growth", "platforms"):
        result = run(report)
        assert result.exit_code == 0
        assert "postcli collect" in result.stdout, report
        assert result.stdout.strip().count("\n") == 0


def test_empty_period_says_so(store):
    result = run("top", "--since", "2023-01-01", "--until", "2023-02-01", "--tz", "UTC")
    assert result.exit_code == 0
    assert "No posts published between 2023-01-01 and 2023-02-01" in result.stdout
    data = run_json("top", "--since", "2023-01-01", "--until", "2023-02-01", "--tz", "UTC")
    assert data["posts"] == []


def test_reconnect_warning_and_sandbox_note(home):
    st = Store()
    expired = st.account("mastodon", "old@m.example", status="token_expired")
    sandbox = st.account("sandbox", "demo.sandbox")
    t, _ = st.post("hi", "2024-03-01T10:00:00", sandbox, expired)
    st.snap(t, "2024-03-01T11:00:00", likes=1)
    result = run("overview", "--since", "2024-03-01", "--until", "2024-03-02")
    assert result.exit_code == 0
    assert "old@m.example" in result.stderr and "postcli accounts add mastodon" in result.stderr
    assert "(simulated data)" in result.stdout
    data = run_json("overview", "--since", "2024-03-01", "--until", "2024-03-02")
    assert data["simulated"] is True
    assert data["reconnect"] == [{"account_id": expired, "platform": "mastodon", "handle": "old@m.example"}]
    only_bsky = run("overview", "--since", "2024-03-01", "--until", "2024-03-02", "--platform", "bluesky")
    assert "reconnect" not in only_bsky.stderr and "simulated" not in only_bsky.stdout


def test_period_option_parsing():
    from postcli.cli._options import parse_period

    now = at("2024-03-10T15:00:00")
    p = parse_period(None, None, None, "UTC", now=now)
    assert (p.start, p.end, p.label) == (now - timedelta(days=30), now, "30d")
    p = parse_period("7d", None, None, "UTC", now=now)
    assert p.start == at("2024-03-03T15:00:00")
    p = parse_period(None, "2024-03-01", None, "America/New_York", now=now)
    assert p.start == at("2024-03-01T05:00:00") and p.end == now
    p = parse_period(None, "2024-03-01T12:00:00+02:00", "yesterday", "UTC", now=now)
    assert (p.start, p.end) == (at("2024-03-01T10:00:00"), at("2024-03-09T00:00:00"))


# --- sandbox adapter ----------------------------------------------------------------


def _sandbox(handle="demo"):
    from postcli.platforms.sandbox import SandboxAdapter

    ad = SandboxAdapter(AccountContext(platform="sandbox", api_base_url="sandbox://local"))
    ad.connect(handle, "anything")
    return ad


def test_sandbox_is_deterministic_and_grows(home):
    from postcli.platforms import sandbox
    from postcli.platforms.base import Adapter

    sandbox.set_sandbox_clock(at("2024-03-01T18:00:00"))
    ad = _sandbox()
    assert isinstance(ad, Adapter)
    assert ad.ctx.handle == "demo.sandbox"
    res = ad.publish(PublishRequest(text="hi", idempotency_key="k1"))
    assert res.url.startswith("sandbox://demo.sandbox/post/")
    assert res.published_at == at("2024-03-01T18:00:00")
    assert ad.publish(PublishRequest(text="hi", idempotency_key="k1")).platform_post_id == res.platform_post_id
    pid = res.platform_post_id
    assert ad.fetch_post_metrics([pid])[pid].likes == 0
    followers0 = ad.fetch_account_metrics().followers

    sandbox.advance_sandbox_clock(timedelta(hours=6))
    first = ad.fetch_post_metrics([pid])[pid]
    again = _sandbox().fetch_post_metrics([pid])[pid]  # another adapter, same state file
    assert first.as_dict() == again.as_dict()
    assert first.saves is None  # not reported by the sandbox, never a fake 0

    sandbox.advance_sandbox_clock(timedelta(days=3))
    later = ad.fetch_post_metrics([pid])[pid]
    assert later.likes >= first.likes and later.likes > 0
    assert all(later.as_dict()[k] >= v for k, v in first.as_dict().items() if v is not None)
    assert ad.fetch_account_metrics().followers > followers0
    assert sandbox.sandbox_now() == at("2024-03-04T18:00:00") + timedelta(hours=6)


def test_sandbox_deleted_post_has_no_metrics(home):
    from postcli.errors import RemoteNotFound
    from postcli.platforms import sandbox

    sandbox.set_sandbox_clock(at("2024-03-01T10:00:00"))
    ad = _sandbox()
    pid = ad.publish(PublishRequest(text="bye", idempotency_key="k2")).platform_post_id
    ad.delete(pid)
    ad.delete(pid)  # deleting twice is fine
    assert ad.fetch_post_metrics([pid, "sb999999"]) == {pid: None, "sb999999": None}
    assert ad.find_published(PublishRequest(text="bye", idempotency_key="k2")) is None
    with pytest.raises(RemoteNotFound):
        ad.resolve_post(f"sandbox://demo.sandbox/post/{pid}")
