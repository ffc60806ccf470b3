"""Media in S3: real boto3 against moto's server on loopback, through the CLI.

moto keeps every bucket in process-global state, so each test gets a bucket of
its own. Credentials are fake and come from the environment, as they would for
a user; ~/.aws and the instance metadata service are kept out of reach.
"""

from __future__ import annotations

import hashlib
import json
import socket
import sqlite3
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from fakes.mastodon_server import FakeMastodon

SECRET_KEY = "fake-secret-key-do-not-print-0123456789"
MASTO_TOKEN = "masto-secret-token-123456"


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_MAX_ATTEMPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def write_config(home: Path, **s3: object) -> None:
    lines = ["[s3]"] + [f"{k} = {json.dumps(v)}" for k, v in s3.items()]
    (home / "config.toml").write_text("\n".join(lines) + "\n")


class Bucket:
    def __init__(self, endpoint: str, name: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.name = name
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def bucket(aws_env, moto_endpoint, home):
    b = Bucket(moto_endpoint, f"postcli-{uuid.uuid4().hex[:12]}")
    b.client.create_bucket(Bucket=b.name)
    write_config(home, bucket=b.name, region="us-east-1", endpoint_url=moto_endpoint)
    return b


@pytest.fixture
def media_cli(cli):
    """The CLI with `media` registered (idempotent, so it keeps working once cli/__init__ registers it)."""
    from postcli.cli import app, media

    if not any(g.name == "media" for g in app.registered_groups):
        app.add_typer(media.app, name="media")
    return cli


def png(path: Path, size: tuple[int, int] = (40, 30), color: str = "red") -> Path:
    from PIL import Image

    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET_KEY not in text
        assert "Traceback" not in text


# --- media upload --------------------------------------------------------------------


def test_upload_prints_the_key_and_a_presigned_url_that_serves_the_bytes(media_cli, bucket, tmp_path):
    img = png(tmp_path / "pic.png", (64, 48))
    data = img.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    out = media_cli.json("media", "upload", str(img), "--alt", "a red square")
    assert set(out) == {
        "bucket",
        "key",
        "url",
        "expires_in",
        "expires_at",
        "uploaded",
        "original_filename",
        "mime_type",
        "size_bytes",
        "sha256",
        "width",
        "height",
        "duration_s",
        "alt_text",
    }
    assert out["bucket"] == bucket.name and out["key"] == f"media/{sha}.png"
    assert (out["mime_type"], out["size_bytes"]) == ("image/png", len(data))
    assert (out["width"], out["height"]) == (64, 48)
    assert (out["sha256"], out["alt_text"], out["uploaded"]) == (sha, "a red square", True)
    assert out["duration_s"] is None
    assert out["expires_in"] == 86400 and out["expires_at"].endswith("Z")
    assert out["url"].startswith(f"{bucket.endpoint}/{bucket.name}/media/{sha}.png?")
    assert "X-Amz-Signature=" in out["url"]
    assert SECRET_KEY not in out["url"]

    fetched = httpx.get(out["url"])
    assert fetched.status_code == 200 and fetched.content == data
    head = bucket.client.head_object(Bucket=bucket.name, Key=out["key"])
    assert head["ContentType"] == "image/png" and head["Metadata"] == {"sha256": sha}


def test_the_same_bytes_are_not_uploaded_again(media_cli, bucket, tmp_path):
    img = png(tmp_path / "once.png")
    first = media_cli.json("media", "upload", str(img))
    assert first["uploaded"] is True
    # Mark the stored object: a second PUT would replace it and lose the mark.
    bucket.client.copy_object(
        Bucket=bucket.name,
        Key=first["key"],
        CopySource={"Bucket": bucket.name, "Key": first["key"]},
        Metadata={"sha256": first["sha256"], "mark": "first-upload"},
        MetadataDirective="REPLACE",
    )
    renamed = tmp_path / "same-bytes-other-name.png"
    renamed.write_bytes(img.read_bytes())
    again = media_cli.json("media", "upload", str(renamed))
    assert again["uploaded"] is False and again["key"] == first["key"]
    head = bucket.client.head_object(Bucket=bucket.name, Key=first["key"])
    assert head["Metadata"]["mark"] == "first-upload"
    assert httpx.get(again["url"]).content == img.read_bytes()

    other = media_cli.json("media", "upload", str(png(tmp_path / "other.png", color="blue")))
    assert other["uploaded"] is True
    assert sorted(bucket.keys()) == sorted([first["key"], other["key"]])


def test_an_object_of_another_size_under_the_key_is_replaced(media_cli, bucket, tmp_path):
    img = png(tmp_path / "fix.png")
    sha = hashlib.sha256(img.read_bytes()).hexdigest()
    bucket.client.put_object(Bucket=bucket.name, Key=f"media/{sha}.png", Body=b"truncated")
    out = media_cli.json("media", "upload", str(img))
    assert out["uploaded"] is True and bucket.get(out["key"]) == img.read_bytes()


def test_expires_sets_the_url_lifetime_and_is_checked(media_cli, bucket, tmp_path):
    img = png(tmp_path / "e.png")
    out = media_cli.json("media", "upload", str(img), "--expires", "600")
    assert out["expires_in"] == 600 and "X-Amz-Expires=600" in out["url"]
    for bad in ("0", "604801"):
        r = media_cli("media", "upload", str(img), "--expires", bad)
        assert r.exit_code == 2, r.stderr
        assert "--expires" in r.stderr


def test_presign_expiry_comes_from_the_config(media_cli, bucket, tmp_path, home):
    write_config(home, bucket=bucket.name, endpoint_url=bucket.endpoint, presign_expiry_seconds=3600)
    out = media_cli.json("media", "upload", str(png(tmp_path / "c.png")))
    assert out["expires_in"] == 3600 and "X-Amz-Expires=3600" in out["url"]


def test_upload_refuses_non_media(media_cli, bucket, tmp_path):
    doc = tmp_path / "doc.pdf"
    doc.write_bytes(b"%PDF-1.4\n%%EOF\n")
    r = media_cli("media", "upload", str(doc))
    assert r.exit_code == 2 and "application/pdf" in r.stderr and "image/png" in r.stderr
    assert bucket.keys() == []


def test_upload_without_a_bucket_configured_shows_the_config_snippet(media_cli, aws_env, tmp_path, home):
    r = media_cli("media", "upload", str(png(tmp_path / "x.png")))
    assert r.exit_code == 2
    assert "no S3 bucket is configured" in r.stderr
    assert "[s3]" in r.stderr and "bucket =" in r.stderr
    assert str(home / "config.toml") in r.stderr.replace("\n", "")  # Rich may wrap a long path


# --- failures ------------------------------------------------------------------------


def test_missing_bucket_is_a_clear_not_found(media_cli, aws_env, moto_endpoint, tmp_path, home):
    write_config(home, bucket="postcli-does-not-exist", endpoint_url=moto_endpoint)
    r = media_cli("media", "upload", str(png(tmp_path / "x.png")))
    assert r.exit_code == 3, r.stdout + r.stderr
    assert "postcli-does-not-exist" in r.stderr and "does not exist" in r.stderr
    no_secret(r.stdout, r.stderr)


def test_no_credentials_says_where_they_come_from(media_cli, bucket, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    r = media_cli("media", "upload", str(png(tmp_path / "x.png")))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "no AWS credentials" in r.stderr and "AWS_ACCESS_KEY_ID" in r.stderr
    assert bucket.keys() == []


def test_unreachable_endpoint_names_it_without_a_traceback(media_cli, aws_env, tmp_path, home, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    write_config(home, bucket="postcli-media", endpoint_url=f"http://user:pw@127.0.0.1:{port}")
    r = media_cli("media", "upload", str(png(tmp_path / "x.png")))
    assert r.exit_code == 1, r.stdout + r.stderr
    assert f"cannot reach http://127.0.0.1:{port}" in r.stderr
    assert "pw@" not in r.stderr
    no_secret(r.stdout, r.stderr)


@pytest.fixture
def denying_s3():
    """An S3 endpoint that answers every request 403 AccessDenied, as AWS does."""
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Response

    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        b"<Message>Access Denied</Message><RequestId>R1</RequestId></Error>"
    )

    def app(environ, start_response):
        return Response(b"" if environ["REQUEST_METHOD"] == "HEAD" else body, 403, content_type="application/xml")(
            environ, start_response
        )

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_access_denied_says_which_permissions_are_needed(media_cli, aws_env, denying_s3, tmp_path, home):
    write_config(home, bucket="postcli-media", endpoint_url=denying_s3)
    r = media_cli("media", "upload", str(png(tmp_path / "x.png")))
    assert r.exit_code == 1, r.stdout + r.stderr
    assert "denied access" in r.stderr and "s3:PutObject" in r.stderr
    no_secret(r.stdout, r.stderr)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"presign_expiry_seconds": 0}, "presign_expiry_seconds"),
        ({"presign_expiry_seconds": 10**7}, "7 days"),
        ({"endpoint_url": "ftp://example.com"}, "endpoint_url"),
        ({"addressing_style": "sideways"}, "addressing_style"),
    ],
)
def test_bad_s3_config_is_refused(media_cli, aws_env, tmp_path, home, settings, message):
    write_config(home, bucket="postcli-media", **settings)
    r = media_cli("media", "upload", str(png(tmp_path / "x.png")))
    assert r.exit_code == 2 and message in r.stderr, r.stderr


# --- posts with media in S3 ------------------------------------------------------------


@pytest.fixture
def masto(media_cli):
    with FakeMastodon(token=MASTO_TOKEN) as server:
        r = media_cli(
            "accounts", "add", "mastodon", "--instance", server.url, "--token-stdin", input=MASTO_TOKEN + "\n"
        )
        assert r.exit_code == 0, r.stderr
        yield server


def cache_files(home: Path) -> list[Path]:
    d = home / "cache" / "media"
    return sorted(p for p in d.iterdir() if not p.name.startswith(".")) if d.exists() else []


def test_a_post_keeps_its_media_in_s3_and_publishing_downloads_it(media_cli, bucket, masto, tmp_path, home):
    img = png(tmp_path / "scheduled.png", (90, 60), "orange")
    data = img.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    out = media_cli.json(
        "post", "create", "from s3", "--to", "mastodon", "--media", str(img), "--alt", "orange", "--at", "+1h"
    )
    assert out["status"] == "scheduled" and out["media"][0]["storage"] == "s3"
    key = f"media/{sha}.png"
    row = (
        sqlite3.connect(home / "postcli.db")
        .execute("select storage, key, url, sha256, size_bytes, width, height from post_media")
        .fetchone()
    )
    assert row == ("s3", key, f"s3://{bucket.name}/{key}", sha, len(data), 90, 60)
    assert bucket.keys() == [key] and bucket.get(key) == data
    assert not (home / "media").exists() or not any((home / "media").iterdir())

    # Neither the original nor the local cache survives: publishing must fetch from the bucket.
    img.unlink()
    for f in cache_files(home):
        f.unlink()
    r = media_cli("post", "publish", str(out["id"]), "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["status"] == "completed"
    upload = masto.requests_to("POST", "/api/v2/media")[0]
    assert data in upload.body and upload.param("description") == "orange"
    assert [p.read_bytes() for p in cache_files(home)] == [data]


def test_a_corrupt_cache_copy_is_fetched_again(media_cli, bucket, masto, tmp_path, home):
    img = png(tmp_path / "c.png", color="navy")
    data = img.read_bytes()
    out = media_cli.json("post", "create", "cache", "--to", "mastodon", "--media", str(img), "--at", "+1h")
    [cached] = cache_files(home)
    cached.write_bytes(data[:-10] + b"0123456789")  # same size, wrong bytes
    r = media_cli("post", "publish", str(out["id"]), "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert data in masto.requests_to("POST", "/api/v2/media")[0].body
    assert cached.read_bytes() == data


def test_an_object_overwritten_in_the_bucket_is_not_published(media_cli, bucket, masto, tmp_path, home):
    img = png(tmp_path / "o.png")
    out = media_cli.json("post", "create", "tampered", "--to", "mastodon", "--media", str(img), "--at", "+1h")
    key = bucket.keys()[0]
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=b"something else entirely")
    for f in cache_files(home):
        f.unlink()
    r = media_cli("post", "publish", str(out["id"]), "--json")
    assert r.exit_code == 1, r.stdout + r.stderr
    outcome = json.loads(r.stdout)
    assert outcome["status"] == "failed"
    assert "does not have the content this post was created with" in outcome["targets"][0]["error"]
    assert masto.requests_to("POST", "/api/v2/media") == [] and masto.statuses == []
    # The claim was released: the post can be retried once the bucket is fixed.
    assert media_cli.json("post", "show", str(out["id"]))["status"] == "failed"
    no_secret(r.stdout, r.stderr)


def test_media_item_gives_a_fresh_presigned_url_for_platforms_that_fetch(bucket, home, tmp_path):
    from postcli.services import media

    img = png(tmp_path / "u.png", (12, 34))
    row = media.store_prepared(media.prepare(img, "tall"), 0)
    item = media.media_item(row)
    assert item.public_url and "X-Amz-Expires=86400" in item.public_url
    assert httpx.get(item.public_url).content == img.read_bytes()
    assert item.path.read_bytes() == img.read_bytes()
    assert (item.width, item.height, item.alt_text) == (12, 34, "tall")


def test_old_rows_come_from_their_own_bucket_after_the_config_changes(bucket, home, tmp_path, moto_endpoint):
    from postcli.services import media

    img = png(tmp_path / "moved.png", color="teal")
    row = media.store_prepared(media.prepare(img, None), 0)
    write_config(home, bucket="postcli-some-new-bucket", endpoint_url=moto_endpoint)
    for f in cache_files(home):
        f.unlink()
    item = media.media_item(row)
    assert item.path.read_bytes() == img.read_bytes()
    assert f"/{bucket.name}/" in item.public_url


def test_a_post_whose_upload_fails_is_not_created(media_cli, aws_env, moto_endpoint, masto, tmp_path, home):
    write_config(home, bucket="postcli-gone", endpoint_url=moto_endpoint)
    r = media_cli("post", "create", "no bucket", "--to", "mastodon", "--media", str(png(tmp_path / "n.png")))
    assert r.exit_code == 3 and "postcli-gone" in r.stderr, r.stdout + r.stderr
    assert sqlite3.connect(home / "postcli.db").execute("select count(*) from posts").fetchone()[0] == 0
    assert masto.requests_to("POST", "/api/v2/media") == [] and masto.statuses == []
    no_secret(r.stdout, r.stderr)


def test_media_info_validates_without_touching_s3(bucket, home, tmp_path, monkeypatch):
    from postcli.services import media

    img = png(tmp_path / "i.png", (7, 9))
    row = media.store_prepared(media.prepare(img, "alt"), 0)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")  # neither credentials nor the endpoint are needed
    write_config(home, bucket=bucket.name, endpoint_url="http://127.0.0.1:9")
    info = media.media_info(row)
    assert (info.mime_type, info.size_bytes) == ("image/png", len(img.read_bytes()))
    assert (info.width, info.height, info.alt_text) == (7, 9, "alt")
    assert info.public_url is None and info.path.name == row.key.rsplit("/", 1)[1]


def test_doctor_checks_the_bucket_without_writing_to_it(cli, bucket, home, moto_endpoint):
    r = cli("doctor", "--json")
    (check,) = [c for c in json.loads(r.stdout)["checks"] if c["name"] == "media store"]
    assert check["status"] == "ok" and bucket.name in check["message"]
    assert bucket.keys() == []  # a HEAD only: nothing uploaded
    write_config(home, bucket="no-such-bucket-here", region="us-east-1", endpoint_url=moto_endpoint)
    r = cli("doctor", "--json")
    (check,) = [c for c in json.loads(r.stdout)["checks"] if c["name"] == "media store"]
    assert check["status"] == "fail" and r.exit_code == 1
