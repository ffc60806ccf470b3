"""Threads (the Meta Threads API, graph.threads.net): the adapter (adapter.py), its post and
profile insights (insights.py), and what a post may be and how Threads counts its text and links (rules.py).
"""
