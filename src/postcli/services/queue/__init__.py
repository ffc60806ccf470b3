"""A posting queue per account: weekly slots ("mon-fri 09:00,17:30; sat 11:00") in the queue's time
zone, the next free one for a post, and slots suggested from the account's own engagement."""
