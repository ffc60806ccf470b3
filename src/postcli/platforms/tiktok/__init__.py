"""TikTok: the adapter (adapter.py: account, publishing, metrics), its HTTP client with the
token refresh and TikTok's error codes (api.py), the chunked video upload and the status
polling (upload.py), what a post may be and creator_info's constraints (rules.py), and the
Login Kit for desktop steps around the shared sign-in (signin.py).

httpx is imported inside the functions that talk to the network.
"""
