"""YouTube: videos through the YouTube Data API v3 (spec.py, adapter.py, upload.py, rules.py)."""
