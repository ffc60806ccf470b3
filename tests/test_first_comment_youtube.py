"""YouTube first comments (issue 28) through the CLI against the fake: the comment goes under the
video once it is uploaded (commentThreads.insert, 50 units, the youtube.force-ssl scope); a
refused comment leaves the post partial_success and a retry sends only the comment, not the
video; a lost answer is found again among the video's comment threads, not sent twice; a
sign-in without youtube.force-ssl is told how to get it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.youtube_server import CHANNEL_ID, FORCE_SSL, SCOPE, FakeYouTube
from postcli.platforms.base import PostRef, PublishRequest
from postcli.platforms.youtube.adapter import YouTubeAdapter
from support.media import mp4
from test_youtube_cli import add, login


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setenv("POSTCLI_YOUTUBE_CHUNK_KIB", "256")


@pytest.fixture
def clip(tmp_path) -> Path:
    return mp4(tmp_path / "clip.mp4", 2.0)


def _create(cli, clip: Path, *extra: str, **kw):  # type: ignore[no-untyped-def]
    return cli(
        "post", "create", "About the video", "--to", "youtube", "--media", str(clip), "--title", "A video",
        "--first-comment", "Chapters: 0:00 intro & more", "--json", *extra, **kw,
    )  # fmt: skip


def _inserts(yt: FakeYouTube) -> list:  # type: ignore[type-arg]
    return yt.requests_to("POST", "/youtube/v3/commentThreads")


def test_the_sign_in_asks_for_force_ssl_and_the_comment_goes_under_the_video(cli, clip):
    with FakeYouTube() as yt:
        login(yt)
        assert yt.scopes == {SCOPE, FORCE_SSL}
        r = _create(cli, clip)
        assert r.exit_code == 0, r.stderr
        out = json.loads(r.stdout)
        (target,) = out["targets"]
        video_id = target["platform_post_id"]
        (sent,) = _inserts(yt)
        assert sent.param("part") == "snippet"
        assert sent.json == {
            "snippet": {
                "channelId": CHANNEL_ID,
                "videoId": video_id,
                "topLevelComment": {"snippet": {"textOriginal": "Chapters: 0:00 intro & more"}},
            }
        }
        (thread,) = yt.comments[video_id]
        assert target["first_comment"] == {
            "text": "Chapters: 0:00 intro & more",
            "status": "completed",
            "platform_post_id": thread["id"],
            "url": f"https://www.youtube.com/watch?v={video_id}&lc={thread['id']}",
            "error": None,
        }
        assert target["url"] == f"https://www.youtube.com/watch?v={video_id}"


def test_the_comment_is_charged_50_units():
    with FakeYouTube() as yt:
        video = yt.add_video()
        charged: list[tuple[str, int]] = []
        adapter = YouTubeAdapter(yt.account_context(charge_request=lambda what, cost=1: charged.append((what, cost))))
        adapter.publish_comment(PublishRequest(text="hi", idempotency_key="k", reply_to=PostRef(video)))
        assert charged == [("commentThreads.insert", 50)]


def test_a_refused_comment_is_partial_success_and_a_retry_sends_only_the_comment(cli, clip):
    with FakeYouTube() as yt:
        add(cli, yt)
        yt.comments_disabled = True
        r = _create(cli, clip)
        assert r.exit_code == 7, r.stderr
        out = json.loads(r.stdout)
        (target,) = out["targets"]
        assert out["status"] == "partial_success" and target["status"] == "failed"
        assert target["error"].startswith("first comment: ") and "commentsDisabled" in target["error"]
        assert "turn them on in YouTube Studio" in target["error"]
        assert len(yt.videos) == 1 and yt.comments == {}

        yt.comments_disabled = False
        again = cli.json("post", "retry", str(out["post_id"]))
        assert again["status"] == "completed"
        assert len(yt.videos) == 1 and len(yt.requests_to("POST", "/upload/youtube/v3/videos")) == 1
        (video_id,) = yt.videos
        assert [t["snippet"]["topLevelComment"]["snippet"]["textOriginal"] for t in yt.comments[video_id]] == [
            "Chapters: 0:00 intro & more"
        ]


def test_a_sign_in_without_force_ssl_is_told_to_sign_in_again(cli, clip):
    with FakeYouTube(scopes=(SCOPE,)) as yt:
        add(cli, yt)
        r = _create(cli, clip)
        assert r.exit_code == 7, r.stderr
        error = json.loads(r.stdout)["targets"][0]["error"]
        assert "insufficientPermissions" in error and "youtube.force-ssl" in error
        assert "postcli accounts login youtube" in error


def test_a_lost_answer_is_found_among_the_videos_comments_not_sent_twice(cli, clip):
    with FakeYouTube() as yt:
        add(cli, yt)
        yt.lose_comment_answers = 1
        r = _create(cli, clip, env={"POSTCLI_TIMEOUT": "1"})
        assert r.exit_code == 7, r.stderr
        out = json.loads(r.stdout)
        (target,) = out["targets"]
        assert target["error"].startswith("first comment: ") and "outcome is unknown" in target["error"]
        (video_id,) = yt.videos
        (made,) = yt.comments[video_id]  # YouTube made it
        # Another channel's comment with the same text is not ours.
        stranger = json.loads(json.dumps(made))
        stranger["id"] = "UgStranger"
        stranger["snippet"]["topLevelComment"]["snippet"]["authorChannelId"] = {"value": "UCsomeoneElse"}
        yt.comments[video_id].insert(0, stranger)

        again = cli.json("post", "retry", str(out["post_id"]))
        assert again["status"] == "completed" and again["targets"][0]["reconciled"] is True
        assert again["targets"][0]["first_comment"]["platform_post_id"] == made["id"]
        assert len(_inserts(yt)) == 1 and len(yt.videos) == 1
        (listed,) = yt.requests_to("GET", "/youtube/v3/commentThreads")
        assert (listed.param("videoId"), listed.param("order")) == (video_id, "time")


def test_find_comment_reads_past_the_first_page():
    with FakeYouTube() as yt:
        video = yt.add_video()
        adapter = YouTubeAdapter(yt.account_context())
        req = PublishRequest(text="ours", idempotency_key="k", reply_to=PostRef(video))
        made = adapter.publish_comment(req)
        for n in range(100):  # a hundred newer comments by others
            adapter.publish_comment(PublishRequest(text=f"n{n}", idempotency_key="x", reply_to=PostRef(video)))
        assert adapter.find_comment(req).platform_post_id == made.platform_post_id  # type: ignore[union-attr]
        assert (
            adapter.find_comment(PublishRequest(text="not there", idempotency_key="k", reply_to=PostRef(video))) is None
        )
