"""The example platform's adapter, on postcli's AdapterBase and typed errors."""

from __future__ import annotations

from typing import Any, ClassVar

from postcli.platforms.base import (
    AccountInfo,
    AccountMetrics,
    AdapterBase,
    AuthFailed,
    HealthResult,
    Limits,
    PlatformRejected,
    PlatformUnavailable,
    PostMetrics,
    PublishRequest,
    PublishResult,
    RemoteNotFound,
)
from postcli.platforms.spec import PlatformSpec
from postcli_example.spec import SPEC


class ExampleAdapter(AdapterBase):
    spec: ClassVar[PlatformSpec] = SPEC
    metrics_batch_size: ClassVar[int] = 50

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        token = self.ctx.secrets.get("access_token", "")
        try:
            response = httpx.request(
                method,
                (self.ctx.api_base_url or self.default_base_url) + path,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.ctx.timeout,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise PlatformUnavailable(f"example did not answer ({type(exc).__name__})", platform="example") from None
        if response.status_code == 401:
            raise AuthFailed("example refused the token", platform="example", hint="postcli accounts add example")
        if response.status_code == 404:
            raise RemoteNotFound("not found on example", platform="example")
        if response.status_code >= 400:
            raise PlatformRejected(f"example refused it: {response.text[:200]}", platform="example")
        return response.json()

    def connect(self, identifier: str | None, secret: str) -> AccountInfo:
        self.ctx.secrets = {"access_token": secret}
        me = self._call("GET", "/me")
        self.ctx.save_secrets(self.ctx.secrets)
        return AccountInfo(external_id=str(me["id"]), handle=me["name"])

    def limits(self) -> Limits:
        return Limits(max_text=100, max_images=0, max_videos=0)

    def text_length(self, text: str) -> int:
        return len(text)

    def publish(self, req: PublishRequest) -> PublishResult:
        body = self._call(
            "POST",
            "/posts",
            json={
                "text": req.text,
                "title": req.title,
                "link": req.link,
                "key": req.idempotency_key,
                "fields": req.fields,
            },
        )
        return PublishResult(platform_post_id=str(body["id"]), url=body["url"])

    def find_published(self, req: PublishRequest) -> PublishResult | None:
        return None

    def delete(self, platform_post_id: str) -> None:
        self._call("DELETE", f"/posts/{platform_post_id}")

    def fetch_post_metrics(self, platform_post_ids: list[str]) -> dict[str, PostMetrics | None]:
        body = self._call("GET", "/posts", params={"ids": ",".join(platform_post_ids)})
        found = {str(p["id"]): p for p in body["posts"]}
        return {
            pid: PostMetrics(likes=found[pid]["likes"], views=found[pid]["views"], raw=found[pid])
            if pid in found
            else None
            for pid in platform_post_ids
        }

    def fetch_account_metrics(self) -> AccountMetrics:
        me = self._call("GET", "/me")
        return AccountMetrics(followers=me["followers"], raw=me)

    def check_health(self) -> HealthResult:
        self._call("GET", "/me")
        return HealthResult(ok=True)

    def resolve_post(self, url_or_id: str) -> PublishResult:
        pid = url_or_id.rstrip("/").rsplit("/", 1)[-1]
        self._call("GET", f"/posts/{pid}")
        return PublishResult(platform_post_id=pid, url=url_or_id)
