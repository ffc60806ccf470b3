"""X (formerly Twitter) through the X API v2: spec, adapter, its HTTP client and tokens, media
upload, metrics, and the weighted length of a post (text.py)."""
