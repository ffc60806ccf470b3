"""The sandbox, a SIMULATED network (platforms/sandbox.py), as the rest of postcli sees it."""

from __future__ import annotations

from postcli.platforms.spec import Option, PlatformSpec

SPEC = PlatformSpec(
    name="sandbox",
    display_name="Sandbox (simulated)",
    adapter="postcli.platforms.sandbox:SandboxAdapter",
    hosts={"api": "sandbox://local"},
    summary="a SIMULATED account (no network; used by `postcli demo`)",
    add_help="Connect a SIMULATED sandbox account (no network; used by `postcli demo`).",
    options=(Option("--handle", "HANDLE", "A name for the simulated account.", default="me.sandbox", login="no"),),
    api_base_option=False,
    credential=None,
    secrets=(),
    metrics=("impressions", "reach", "likes", "comments", "shares", "quotes"),
    account_metrics=("followers", "following", "posts_count"),
    metrics_note="Every number is made up.",
    # Threads (a reply chain) and first comments, kept in the sandbox's state as replies.
    publishes=("text", "images", "video", "thread", "first_comment"),
    simulated=True,
    hidden=True,
)
