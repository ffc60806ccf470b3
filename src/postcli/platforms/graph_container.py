"""Container publishing, shared by Threads and Instagram: create, wait until processed, publish.

Both APIs publish in two steps: POST a media container (Meta fetches the media
from its public URL), wait until the container is FINISHED, then POST the
publish call with its id (a carousel: item containers first, then the
carousel container holding them).

Waiting: "We recommend querying a container's status once per minute, for no more than
5 minutes" (developers.facebook.com/docs/threads/troubleshooting, "Publishing Does Not
Return a Media ID"; Instagram's content publishing guide,
developers.facebook.com/docs/instagram-platform/content-publishing, describes the same
status query). So the checks are a minute apart and end at 5 minutes: the first comes at
once (a text or image container is usually FINISHED by then, and nothing in the docs asks
to wait before the first query), the next at 1, 2, 3, 4 and 5 minutes: at most 6 checks
per container (this used to be 11, on a 1-2-4-8-15-30 s ramp the docs do not allow). The
wait uses the account context's `clock` and `sleep`, and every check is charged through
its `charge_request` hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ContextManager

from postcli.errors import MalformedResponse, PlatformRejected, PlatformUnavailable
from postcli.platforms.base import AccountContext
from postcli.platforms.graph import GraphClient

POLL_INTERVAL_S = 60.0
POLL_LIMIT_S = 300.0


def poll_delays(limit_s: float = POLL_LIMIT_S) -> list[float]:
    """The waits between status checks, in order: a minute each, never more than `limit_s` in all."""
    return [POLL_INTERVAL_S] * int(limit_s // POLL_INTERVAL_S)


def container_state(fields: dict[str, Any], label: str, platform: str) -> str:
    """FINISHED (ready or already published), IN_PROGRESS, or a typed error.

    Threads answers `status`; Instagram `status_code`, with the reason in `status`
    ("Error: ...") on ERROR. EXPIRED: a container lives 24 hours.
    """
    status = str(fields.get("status_code") or fields.get("status") or "").upper()
    if status.startswith(("FINISHED", "PUBLISHED")):
        return "FINISHED"
    if status.startswith("ERROR"):
        reason = fields.get("error_message") or fields.get("status") or "no reason given"
        raise PlatformRejected(f"{label} could not process the media: {reason}", platform=platform)
    if status.startswith("EXPIRED"):
        raise PlatformRejected(f"the {label} media container expired before it was published", platform=platform)
    if status and not status.startswith("IN_PROGRESS"):
        raise MalformedResponse(f"{label} answered an unknown container status {status!r}", platform=platform)
    return "IN_PROGRESS"


@dataclass
class ContainerPublisher:
    """One account's container calls: `{owner}/{create_edge}`, `{container}?fields=...`,
    `{owner}/{publish_edge}`; `calls(what)` wraps each in the adapter's typed errors."""

    graph: GraphClient
    ctx: AccountContext
    platform: str
    label: str  # "Threads" | "Instagram"
    owner: str
    create_edge: str
    publish_edge: str
    status_fields: str
    calls: Callable[[str], ContextManager[None]]

    def create(self, params: dict[str, Any], what: str) -> str:
        with self.calls(f"sending {what} to {self.label}"):
            return str(self.graph.post(f"{self.owner}/{self.create_edge}", **params)["id"])

    def wait(self, container: str, what: str) -> None:
        """Until the container is FINISHED; PlatformRejected / PlatformUnavailable naming `what`."""
        delays = poll_delays()
        deadline = self.ctx.clock() + POLL_LIMIT_S
        checks = 0
        try:
            while True:
                self.ctx.charge_request(f"{self.platform} container status")
                checks += 1
                with self.calls(f"waiting for {self.label} to process {what}"):
                    fields = self.graph.get(container, fields=self.status_fields)
                if container_state(fields, self.label, self.platform) == "FINISHED":
                    return
                if checks > len(delays) or self.ctx.clock() + delays[checks - 1] > deadline:
                    raise PlatformUnavailable(
                        f"{self.label} was still processing the media after {POLL_LIMIT_S / 60:g} minutes "
                        f"({checks} status checks, as Meta recommends at most 5 minutes of them)",
                        platform=self.platform,
                        hint=f"Nothing was published on {self.label}. A large video may need longer: "
                        "`postcli post retry` starts again with a new container.",
                    )
                self.ctx.sleep(delays[checks - 1])
        except (PlatformRejected, PlatformUnavailable, MalformedResponse) as exc:
            exc.message = f"{what}: {exc.message}"
            exc.args = (exc.message,)
            exc.hint = exc.hint or f"Nothing was published on {self.label}."
            raise

    def publish(self, container: str) -> str:
        with self.calls("publishing the post"):
            return str(self.graph.post(f"{self.owner}/{self.publish_edge}", creation_id=container)["id"])

    def run(self, items: list[tuple[dict[str, Any], str]], carousel: dict[str, Any] | None = None) -> str:
        """Publish one container (`items` of one, `carousel` None) or a carousel of `items`;
        the published media id."""
        if carousel is None:
            [(params, what)] = items
            container = self.create(params, what)
            self.wait(container, what)
        else:
            children = [self.create(params, what) for params, what in items]
            for child, (_, what) in zip(children, items):
                self.wait(child, what)
            container = self.create({**carousel, "children": ",".join(children)}, "the carousel")
            self.wait(container, "the carousel")
        return self.publish(container)
