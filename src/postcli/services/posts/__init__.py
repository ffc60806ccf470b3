"""Posts: validated, composed, published exactly once, scheduled, listed and shown.

    validation  every target's text and media checked before anything is sent
    media_for   per-platform media (`--media-for PLATFORM=FILE`)
    compose     create (with dedup), edit, schedule, cancel
    publish     the publish engine: claims, idempotency keys, reconcile-before-resend
    due         `publish-due`: scheduled posts whose time has come (one claim check)
    delete      local and remote deletion
    results     what publish, due and delete hand back, with their exit codes
    queries     look-ups and `post list` (the stdlib fast path or the ORM)
    views       the one post-to-dict mapping and the JSON shapes (docs/json.md)

Every function here owns its session and returns plain data (dicts, dataclasses).
"""
