"""The simulated networks' adapters: the sandbox's publishing and state, with each network's
own audience model (model.py), text counting and limits (the real adapter's), and exactly the
real platform's counters (the spec's `metrics`; every other counter stays null)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, ClassVar

from postcli.platforms.base import AccountContext, AccountMetrics, AdapterBase, Limits, PostMetrics
from postcli.platforms.registry import adapter_class
from postcli.platforms.sandbox import SandboxAdapter, _parse
from postcli.platforms.simulated import specs
from postcli.platforms.simulated.model import Profile, followers_at, post_counters
from postcli.platforms.spec import PlatformSpec

# The real platforms' names for these counters, kept in raw so the simulated answer reads like theirs.
_NATIVE = {
    "sim-bluesky": {"likes": "likeCount", "comments": "replyCount", "shares": "repostCount", "quotes": "quoteCount"},
    "sim-mastodon": {
        "likes": "favourites_count",
        "comments": "replies_count",
        "shares": "reblogs_count",
        "quotes": "quotes_count",
    },
    "sim-instagram": {
        "views": "views",
        "reach": "reach",
        "likes": "likes",
        "comments": "comments",
        "shares": "shares",
        "saves": "saved",
    },
    "sim-threads": {"views": "views", "likes": "likes", "comments": "replies", "shares": "reposts", "quotes": "quotes"},
}


class SimulatedAdapter(SandboxAdapter):
    profile: ClassVar[Profile]
    real: ClassVar[str]  # the real platform whose limits and text counting this one keeps
    handle_suffix: ClassVar[str]

    def _real(self) -> AdapterBase:
        cls = adapter_class(self.real)
        return cls(AccountContext(platform=self.real, api_base_url=cls.spec.default_base_url or ""))

    def limits(self) -> Limits:
        # The real limits, but nothing is fetched from a public URL here (no S3 store needed).
        return dataclasses.replace(self._real().limits(), needs_public_media_url=False)

    def text_length(self, text: str) -> int:
        return self._real().text_length(text)

    def _seed(self, state: dict[str, Any]) -> str:
        return f"{state.get('seed', 0)}:{self.platform}"

    def _audience(self, state: dict[str, Any], at: datetime) -> int:
        acct = state["accounts"].get(self.handle) or {}
        since = _parse(acct["created_at"]) if acct.get("created_at") else at
        return followers_at(self.profile, self._seed(state), self.handle, (at - since).total_seconds() / 86400)

    def simulate(self, state: dict[str, Any], post_id: str, post: dict[str, Any], now: datetime) -> PostMetrics:
        published = _parse(post["published_at"])
        counters = post_counters(
            self.profile, self._seed(state), post_id, published, now, self._audience(state, published)
        )
        reported = {k: v for k, v in counters.items() if k in self.spec.metrics}
        native = _NATIVE[self.platform]
        raw = {"simulated": True, **{native.get(k, k): v for k, v in reported.items()}}
        return PostMetrics(**reported, raw=raw)

    def account_counters(self, state: dict[str, Any], since: datetime, now: datetime, posts: int) -> AccountMetrics:
        followers = self._audience(state, now)
        values: dict[str, int] = {
            "followers": followers,
            "following": self.profile.following,
            "posts_count": posts,
            # Account-level reach and profile views, where the real platform reports them.
            "reach": int(followers * self.profile.reach_share * 1.8),
            "profile_views": int(followers * 0.012),
        }
        reported = {k: v for k, v in values.items() if k in self.spec.account_metrics}
        return AccountMetrics(**reported, raw={"simulated": True})


class SimBlueskyAdapter(SimulatedAdapter):
    spec: ClassVar[PlatformSpec] = specs.BLUESKY
    real = "bluesky"
    handle_suffix = ".bsky.sim"
    # Quick to flare and to fade; busiest in the European evening and the US afternoon.
    profile = Profile(
        followers=1800,
        growth_per_day=6,
        reach_share=0.3,
        peaks=(14, 17, 20),
        weekday=(1.0, 1.05, 1.05, 1.0, 0.95, 0.8, 0.85),
        tau_hours=(2, 6),
        rates={"likes": 0.08, "comments": 0.012, "shares": 0.015, "quotes": 0.003},
        following=420,
    )


class SimMastodonAdapter(SimulatedAdapter):
    spec: ClassVar[PlatformSpec] = specs.MASTODON
    real = "mastodon"
    handle_suffix = ".masto.sim"
    # A smaller, loyal audience; boosts carry posts for longer; weekends are busy.
    profile = Profile(
        followers=900,
        growth_per_day=2.5,
        reach_share=0.35,
        peaks=(8, 19),
        weekday=(0.95, 1.0, 1.0, 1.0, 0.95, 1.15, 1.2),
        tau_hours=(4, 14),
        rates={"likes": 0.07, "comments": 0.01, "shares": 0.03, "quotes": 0.002},
        following=310,
    )


class SimInstagramAdapter(SimulatedAdapter):
    spec: ClassVar[PlatformSpec] = specs.INSTAGRAM
    real = "instagram"
    handle_suffix = ".insta.sim"
    # The largest audience and the slowest burn; lunchtime and evenings, weekends best.
    profile = Profile(
        followers=6400,
        growth_per_day=14,
        reach_share=0.28,
        peaks=(11, 19),
        weekday=(0.9, 0.95, 1.0, 1.0, 1.05, 1.2, 1.25),
        tau_hours=(10, 30),
        rates={"views": 1.7, "reach": 1.0, "likes": 0.09, "comments": 0.006, "shares": 0.012, "saves": 0.02},
        following=260,
    )


class SimThreadsAdapter(SimulatedAdapter):
    spec: ClassVar[PlatformSpec] = specs.THREADS
    real = "threads"
    handle_suffix = ".threads.sim"
    # Wide reach through the feed, modest engagement; mornings and late evenings.
    profile = Profile(
        followers=3100,
        growth_per_day=9,
        reach_share=0.45,
        peaks=(7, 12, 21),
        weekday=(1.05, 1.05, 1.0, 1.0, 0.95, 0.9, 0.9),
        tau_hours=(3, 9),
        rates={"views": 1.0, "likes": 0.035, "comments": 0.006, "shares": 0.004, "quotes": 0.0015},
        following=150,
    )
