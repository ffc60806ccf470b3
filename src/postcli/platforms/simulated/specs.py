"""The simulated networks' specs: each is its real counterpart's spec, renamed and labelled
simulated, without sign-in, import patterns or reconnect hints (there is nothing to reach).

The counters (`metrics`, `account_metrics`) stay the real ones: the demo shows the same "—"
where the real platform reports nothing (tests/test_simulated_networks.py holds them equal).
"""

from __future__ import annotations

from dataclasses import replace

from postcli.platforms.bluesky.spec import SPEC as _BLUESKY
from postcli.platforms.instagram.spec import SPEC as _INSTAGRAM
from postcli.platforms.mastodon.spec import SPEC as _MASTODON
from postcli.platforms.spec import Option, PlatformSpec
from postcli.platforms.threads.spec import SPEC as _THREADS


def _simulated(real: PlatformSpec, cls: str) -> PlatformSpec:
    name = f"sim-{real.name}"
    return replace(
        real,
        name=name,
        display_name=f"{real.display_name} (simulated)",
        adapter=f"postcli.platforms.simulated.adapter:{cls}",
        hosts={"api": f"sandbox://{name}"},
        summary=f"a SIMULATED {real.display_name} account (no network; used by `postcli demo`)",
        add_help=f"Connect a SIMULATED {real.display_name} account (no network; used by `postcli demo`).",
        options=(Option("--handle", "HANDLE", "A name for the simulated account.", default="me", login="no"),),
        api_base_option=False,
        credential=None,
        env_secrets=(),
        secrets=(),
        signin=None,
        rate_limit=None,
        import_hosts=(),
        import_schemes=(),
        import_bare_ids=False,
        import_example="",
        reconnect_add="",
        reconnect_login="",
        simulated=True,
        hidden=True,
    )


BLUESKY = _simulated(_BLUESKY, "SimBlueskyAdapter")
MASTODON = _simulated(_MASTODON, "SimMastodonAdapter")
INSTAGRAM = _simulated(_INSTAGRAM, "SimInstagramAdapter")
THREADS = _simulated(_THREADS, "SimThreadsAdapter")
