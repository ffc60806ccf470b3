"""Instagram (Instagram API with Instagram Login): the adapter (adapter.py) and its post and
account insights (insights.py), and what a post may be (rules.py). docs/platforms/instagram.md has the sources.
"""
