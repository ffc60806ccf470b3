"""Simulated networks for `postcli demo`: a Bluesky, a Mastodon, an Instagram and a Threads
that report exactly the counters their real counterparts report (null for the rest), each
with its own audience, growth and hours. Built on the sandbox; no network, ever."""
