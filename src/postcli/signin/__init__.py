"""Browser sign-in (`postcli accounts login PLATFORM`): OAuth 2.0 authorization code + PKCE.

One mechanism for every platform; what differs per platform is data (`profiles`).
`loopback` catches the redirect on 127.0.0.1 (RFC 8252), `flow` builds the
authorization URL and trades the code for tokens (authlib), `mastodon_app`
registers postcli on a Mastodon instance once. See docs/signin.md.
"""
