"""The example platform's spec: all postcli needs to list it, connect it and publish to it."""

from postcli.platforms.spec import Field, PlatformSpec

SPEC = PlatformSpec(
    name="example",
    display_name="Example",
    adapter="postcli_example.adapter:ExampleAdapter",
    hosts={"api": "https://api.example.invalid"},
    summary="an Example account (a platform installed as a plugin)",
    add_help="Connect an Example account with an access token (--token-stdin or POSTCLI_EXAMPLE_TOKEN).",
    rate_limit=(100, 60),
    import_hosts=("example.invalid",),
    reconnect_add="postcli accounts add example --api-base {base}",
    title="required",
    title_max=50,
    link="optional",
    fields=(Field("mood", "How the post feels.", kind="choice", choices=("calm", "loud"), default="calm"),),
    metrics=("likes", "views"),
    account_metrics=("followers",),
)
