"""Google Business Profile: local posts on one business location (docs/platforms/google-business.md)."""
