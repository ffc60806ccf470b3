"""An example postcli platform: a JSON API with /me, /posts and /posts/{id}."""
