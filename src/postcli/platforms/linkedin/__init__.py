"""LinkedIn: a member, or an organization Page the member administers, over LinkedIn's
versioned REST API (docs/platforms/linkedin.md)."""
