"""The commands cron runs, as cron runs them: each run recorded (`runs`, read by `doctor`), and
what needs a person announced once (services/notify.py). [notify] is checked before the work
starts (a bad setting is exit 2 with nothing done); a notifier that fails afterwards is
recorded and shown by `doctor`, never turned into a failed publish or collect."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Iterable, TypeVar

from postcli.errors import PostcliError
from postcli.services import notify, notify_delivery, runs

if TYPE_CHECKING:
    from postcli.services.account_health import Health
    from postcli.services.collect.report import CollectReport
    from postcli.services.posts.results import DueReport, PublishOutcome

log = logging.getLogger("postcli.notify")
T = TypeVar("T")


def _quietly(fn: Callable[..., None], *args: Any) -> None:
    """Announcing never fails the command it follows: a store or notifier problem is logged."""
    try:
        fn(*args)
    except PostcliError as exc:
        log.warning("notifications: %s", exc.message)


def _recorded(command: str, work: Callable[[], T], after: Callable[[T], None]) -> T:
    notify_delivery.config()  # a bad [notify] is refused before anything is done
    with runs.recorded(command) as rec:
        result = work()
        rec.exit_code = int(getattr(result, "exit_code", 0))
    _quietly(after, result)
    return result


def publish_due(limit: int | None) -> DueReport:
    from postcli.services.posts.due import publish_due as run

    return _recorded("publish-due", lambda: run(limit=limit), notify.after_due)


def collect(**kwargs: Any) -> CollectReport:
    from postcli.services.collect.run import collect as run

    return _recorded("collect", lambda: run(**kwargs), notify.after_collect)


def collect_worker(**kwargs: Any) -> CollectReport:
    """`collect --worker`: a collect run too, as far as doctor's scheduler check goes."""
    from postcli.services.collect.worker import work

    return _recorded("collect", lambda: work(**kwargs), notify.after_collect)


def health(ref: str | None) -> Health:
    from postcli.services.account_health import health as run

    return _recorded("accounts-health", lambda: run(ref), lambda _r: notify.sweep_accounts())


def published(outcomes: Iterable[PublishOutcome]) -> None:
    """After `post create|publish|retry`: the same events publish-due would send."""
    _quietly(notify.after_publish, list(outcomes))
