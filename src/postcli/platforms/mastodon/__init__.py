"""Mastodon: the adapter (adapter.py) over Mastodon.py and direct JSON reads (transport.py),
and Mastodon's own way of counting and rendering text (text.py).

Nothing here imports the SDK at module level: `import mastodon` costs ~0.4 s.
"""
