"""Pinterest (API v5): Pins on boards, Pin analytics, OAuth 2.0 with rotating refresh tokens."""
