"""Bluesky (AT Protocol): the adapter (adapter.py) over the atproto SDK, its session handling
(session.py), error mapping (errors.py), record keys (tid.py), post embeds (embed.py), response
reading (values.py), and AT Protocol OAuth (oauth.py, dpop.py).

Nothing here imports the SDK at module level: `import atproto_client` costs ~1.5 s.
"""
