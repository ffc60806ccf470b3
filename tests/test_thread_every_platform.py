"""Every registered platform either threads, or gets a thread's parts joined into one post when
they fit, or refuses it before anything is sent (issue 28) — and a first comment goes only where
the platform declares it. One test per platform, so a platform added later is covered as it
arrives (its spec's `publishes` is the one declaration the adapter's capabilities follow)."""

from __future__ import annotations

import pytest

from postcli.errors import InvalidInput
from postcli.platforms import registry
from postcli.platforms.base import AccountContext
from postcli.services.posts import thread as thread_svc
from postcli.services.posts.validation import TargetPlan, validate_targets
from postcli.store.models import Account

NAMES = [s.name for s in registry.specs(include_hidden=True)]


def _adapter(name: str):  # type: ignore[no-untyped-def]
    spec = registry.find(name)
    assert spec is not None
    cls = registry.adapter_class(name)
    return cls(AccountContext(platform=name, api_base_url=spec.default_base_url or "http://127.0.0.1:9", handle="h"))


def _problems(name: str, thread: thread_svc.Thread) -> str:
    """The one bad-input message validation gives a thread for this platform ('' when none)."""
    adapter = _adapter(name)
    account = Account(id=1, platform=name, handle="h", settings={})
    text = thread_svc.joined(thread.parts) if thread.parts else "a text"
    plan = TargetPlan(account=account, text=text, text_override=None, thread=thread)
    try:
        validate_targets([plan], [], adapters={1: adapter})
    except InvalidInput as exc:
        return f"{exc.message} {exc.hint}"
    return ""


def test_every_builtin_platform_is_registered_here():
    assert {"bluesky", "mastodon", "threads", "x", "tumblr", "facebook", "instagram", "linkedin"} <= set(NAMES)
    assert {"youtube", "reddit", "pinterest", "tiktok", "google-business"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_capabilities_follow_the_spec(name):
    spec = registry.find(name)
    assert spec is not None
    cls = registry.adapter_class(name)
    assert cls.threads == ("thread" in spec.publishes)
    assert cls.first_comment == ("first_comment" in spec.publishes)


@pytest.mark.parametrize("name", NAMES)
def test_postcli_platforms_says_what_the_adapter_does(name):
    from postcli.services.platforms import describe

    cls = registry.adapter_class(name)
    publish = describe(name)["publish"]
    assert (publish["thread"], publish["first_comment"]) == (cls.threads, cls.first_comment)


@pytest.mark.parametrize("name", NAMES)
def test_a_thread_is_a_chain_or_joined_or_refused_naming_the_platform(name):
    adapter = _adapter(name)
    short = thread_svc.Thread(parts=("one", "two"))
    texts = thread_svc.texts_for(adapter, thread_svc.joined(short.parts or ()), None, short)
    assert texts == (["one", "two"] if adapter.threads else ["one\n\ntwo"])

    # Parts that each fit, joined over the limit: a platform with threads publishes them; one
    # without refuses (exit 2) naming itself and the fix, before anything is sent.
    most = adapter.limits().max_text
    part = ("word " * (most // 5))[: most * 3 // 5].strip()
    assert adapter.text_length(part) <= most
    long = thread_svc.Thread(parts=(part, part))
    message = _problems(name, long)
    if adapter.threads:
        assert "has no threads" not in message
        assert "text is" not in message  # no part is over the limit
    elif adapter.text_length(thread_svc.joined(long.parts or ())) <= most:
        # Tumblr counts its limit per paragraph (an NPF text block): the parts joined still fit.
        assert "has no threads" not in message
    else:
        assert f"{name} has no threads, and the 2 parts joined are" in message
        assert f"--text-for {name}=TEXT" in message and "Nothing was sent." in message


@pytest.mark.parametrize("name", NAMES)
def test_a_first_comment_goes_only_where_the_platform_takes_one(name):
    adapter = _adapter(name)
    message = _problems(name, thread_svc.Thread(first_comment="links: https://example.com"))
    if adapter.first_comment:
        assert "first comment" not in message
    else:
        assert f"{name} takes no first comment" in message and "Nothing was sent." in message
