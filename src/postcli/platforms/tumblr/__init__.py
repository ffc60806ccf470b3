"""Tumblr: the adapter (adapter.py), its API v2 client with OAuth2 refresh (api.py), and
blog names, post references and NPF content (npf.py).

httpx is imported inside the functions that talk to the network.
"""
