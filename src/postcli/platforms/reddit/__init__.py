"""Reddit: self and link posts through the Data API (OAuth2 installed app), metrics from /api/info."""
