"""Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, ...).

Objects are content-addressed (`<prefix><sha256><ext>`), so one file is stored
once however many posts use it, and an upload can be skipped when the object is
already there. Credentials come from the standard AWS chain (environment,
~/.aws, SSO, instance roles); postcli never stores them.

boto3 is imported inside the functions: `postcli --help` and the reports must
not pay ~0.3 s for it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from postcli import settings
from postcli.errors import InvalidInput, NotFound, PostcliError
from postcli.secrets_redact import redact

DEFAULT_EXPIRY = 86400
# SigV4 presigned URLs cannot live longer than 7 days.
MAX_EXPIRY = 7 * 86400
DEFAULT_PREFIX = "media/"

CONFIG_SNIPPET = """\
[s3]
bucket = "my-postcli-media"
region = "eu-central-1"
# endpoint_url = "https://s3.example.com"   # MinIO, R2, ...; leave out for AWS
# presign_expiry_seconds = 86400"""

CREDENTIALS_HINT = (
    "Give postcli AWS credentials the usual way: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
    "(and AWS_SESSION_TOKEN for temporary ones), AWS_PROFILE with ~/.aws/credentials, or an instance role."
)


class S3Error(PostcliError):
    """The bucket could not be used (unreachable, refused, misbehaving)."""


@dataclass(frozen=True)
class S3Config:
    bucket: str
    region: str | None = None
    endpoint_url: str | None = None
    presign_expiry_seconds: int = DEFAULT_EXPIRY
    prefix: str = DEFAULT_PREFIX
    addressing_style: str | None = None  # path | virtual | auto

    @property
    def where(self) -> str:
        """The bucket as shown in messages: never credentials that may sit in a URL."""
        at = f" at {safe_endpoint(self.endpoint_url)}" if self.endpoint_url else ""
        return f"s3://{self.bucket}{at}"


def safe_endpoint(url: str | None) -> str:
    """scheme://host:port of an endpoint, without any user:password@ part."""
    if not url:
        return "AWS S3"
    parts = urlsplit(url)
    host = parts.hostname or url
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}" if parts.scheme else host


def is_configured() -> bool:
    bucket = settings.config().s3.get("bucket")
    return isinstance(bucket, str) and bool(bucket.strip())


def not_configured_error(action: str = "upload media to S3") -> InvalidInput:
    path = settings.paths().config_file
    return InvalidInput(
        f"cannot {action}: no S3 bucket is configured.",
        hint=f"Add this to {path} (credentials come from the AWS environment, not the file):\n" + CONFIG_SNIPPET,
    )


def load_config() -> S3Config | None:
    """The [s3] section, checked; None when no bucket is configured."""
    raw = settings.config().s3
    if not is_configured():
        if raw.get("bucket") not in (None, ""):
            raise InvalidInput(f"config: [s3] bucket must be a bucket name, not {raw.get('bucket')!r}.")
        return None

    def text(key: str) -> str | None:
        value = raw.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"config: [s3] {key} must be a string, not {value!r}.")
        return value.strip()

    endpoint = text("endpoint_url")
    if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
        raise InvalidInput(
            f"config: [s3] endpoint_url must start with http:// or https://, not {safe_endpoint(endpoint)!r}."
        )
    style = text("addressing_style")
    if style not in (None, "path", "virtual", "auto"):
        raise InvalidInput(f"config: [s3] addressing_style must be path, virtual or auto, not {style!r}.")
    prefix = text("prefix")
    if prefix is None:
        prefix = DEFAULT_PREFIX
    elif prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Config(
        bucket=str(raw["bucket"]).strip(),
        region=text("region"),
        endpoint_url=endpoint,
        presign_expiry_seconds=check_expiry(
            raw.get("presign_expiry_seconds", DEFAULT_EXPIRY), "config: [s3] presign_expiry_seconds"
        ),
        prefix=prefix.lstrip("/"),
        addressing_style=style,
    )


def require_config(action: str = "upload media to S3") -> S3Config:
    cfg = load_config()
    if cfg is None:
        raise not_configured_error(action)
    return cfg


def check_expiry(value: Any, what: str = "--expires") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_EXPIRY:
        raise InvalidInput(
            f"{what} must be a whole number of seconds from 1 to {MAX_EXPIRY} (7 days), not {value!r}.",
            hint="S3 presigned URLs (SigV4) cannot be valid for longer than 7 days.",
        )
    return value


def key_for(cfg: S3Config, sha256: str, ext: str) -> str:
    return f"{cfg.prefix}{sha256}{ext}"


def object_url(bucket: str, key: str) -> str:
    """What post_media.url holds for an S3 row: the bucket travels with the key,
    so changing [s3] bucket later does not orphan older posts."""
    return f"s3://{bucket}/{key}"


def parse_object_url(url: str | None) -> str | None:
    """The bucket of an `s3://bucket/key` url, or None."""
    if not url or not url.startswith("s3://"):
        return None
    bucket = url[len("s3://") :].split("/", 1)[0]
    return bucket or None


# --- client ----------------------------------------------------------------------


def client(cfg: S3Config) -> Any:
    """A boto3 S3 client for `cfg`, or a clear error when there are no credentials."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=cfg.region)
    try:
        creds = session.get_credentials()
        frozen = creds.get_frozen_credentials() if creds is not None else None
    except Exception as exc:  # noqa: BLE001 - a broken profile/SSO cache must not be a traceback
        raise InvalidInput(
            f"cannot load AWS credentials for {cfg.where}: {type(exc).__name__}.",
            hint=CREDENTIALS_HINT,
        ) from None
    if frozen is None or not frozen.access_key:
        raise InvalidInput(f"no AWS credentials found for {cfg.where}.", hint=CREDENTIALS_HINT)
    # So that no error text that passes through redact() can carry them.
    from postcli.secrets_redact import register_secret

    register_secret(frozen.secret_key)
    register_secret(frozen.token)
    timeout = settings.timeout()
    style = cfg.addressing_style or ("path" if cfg.endpoint_url else "auto")
    config = Config(
        signature_version="s3v4",
        connect_timeout=min(timeout, 10.0),
        read_timeout=timeout,
        # A dead endpoint should fail in seconds, not after botocore's default
        # backoff; AWS_MAX_ATTEMPTS still wins for those who want more.
        retries={"mode": "standard", "total_max_attempts": _max_attempts()},
        s3={"addressing_style": style},
        # boto3 >= 1.36 adds CRC trailers (aws-chunked) that several
        # S3-compatible servers reject; we verify sha256 ourselves anyway.
        **(
            {"request_checksum_calculation": "when_required", "response_checksum_validation": "when_required"}
            if cfg.endpoint_url
            else {}
        ),
    )
    return session.client("s3", endpoint_url=cfg.endpoint_url, config=config)


def _max_attempts() -> int:
    env = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(env) if env.isdigit() and int(env) > 0 else 3


def translate(exc: Exception, cfg: S3Config, action: str, key: str | None = None) -> PostcliError:
    """A botocore/boto3 failure as a PostcliError with a hint; never the raw text
    (S3's SignatureDoesNotMatch body echoes the canonical request)."""
    from botocore import exceptions as bx

    where = cfg.where
    obj = f"s3://{cfg.bucket}/{key}" if key else where
    if isinstance(exc, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return InvalidInput(f"no usable AWS credentials for {where}.", hint=CREDENTIALS_HINT)
    if isinstance(
        exc,
        (
            bx.EndpointConnectionError,
            bx.ConnectTimeoutError,
            bx.ConnectionClosedError,
            bx.ReadTimeoutError,
            bx.ProxyConnectionError,
            bx.SSLError,
        ),
    ):
        kind = "timed out" if isinstance(exc, (bx.ConnectTimeoutError, bx.ReadTimeoutError)) else "failed"
        return S3Error(
            f"cannot reach {safe_endpoint(cfg.endpoint_url)} while trying to {action}: the connection {kind}.",
            hint="Check the network and [s3] endpoint_url / region in the config file.",
        )
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
        code = str(err.get("Code") or "")
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        if code == "NoSuchBucket":
            return NotFound(
                f"the S3 bucket {cfg.bucket!r} does not exist ({where}).",
                hint="Create the bucket, or fix [s3] bucket (and endpoint_url/region) in the config file.",
            )
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFound(
                f"{obj} is not in the bucket any more; cannot {action}.",
                hint="Someone deleted it or a lifecycle rule expired it. Attach the file again to a new post.",
            )
        if code in ("AccessDenied", "403", "AllAccessDisabled", "AccountProblem") or status == 403:
            return S3Error(
                f"S3 denied access to {obj} while trying to {action}.",
                hint="The AWS credentials in use need s3:PutObject, s3:GetObject and s3:ListBucket on this "
                "bucket (check AWS_PROFILE / the bucket policy).",
            )
        if (
            code
            in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired")
            or status == 401
        ):
            return InvalidInput(
                f"S3 refused the AWS credentials ({code or status}) for {where}.",
                hint=CREDENTIALS_HINT,
            )
        if status == 301 or code in (
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
            "IllegalLocationConstraintException",
        ):
            return InvalidInput(
                f"the bucket {cfg.bucket!r} is in another region than {cfg.region or 'the default'} ({code}).",
                hint="Set [s3] region to the bucket's region.",
            )
        return S3Error(
            f"S3 answered {code or status or 'an error'} while trying to {action} ({obj}).",
            hint="Try again; if it persists, check the bucket with the AWS CLI.",
        )
    if isinstance(exc, bx.BotoCoreError):
        return S3Error(
            f"S3 {type(exc).__name__} while trying to {action} ({where}).",
            hint="Check the [s3] section of the config file.",
        )
    return S3Error(f"unexpected {type(exc).__name__} while trying to {action} ({where}): {redact(str(exc))}")


def _call(cfg: S3Config, action: str, fn: Any, *args: Any, key: str | None = None, **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return fn(*args, **kwargs)
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, cfg, action, key) from None


# --- operations --------------------------------------------------------------------


@dataclass
class Uploaded:
    bucket: str
    key: str
    uploaded: bool  # False: the same content was already there


def head(cfg: S3Config, s3: Any, key: str) -> dict[str, Any] | None:
    """The object's metadata, or None when it does not exist (a missing bucket is an error)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return s3.head_object(Bucket=cfg.bucket, Key=key)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code") or "")
        if code in ("404", "NoSuchKey", "NotFound", "403", "AccessDenied"):
            # HEAD answers a bare 404 for a missing bucket too, and 403 for a
            # missing object when the credentials lack s3:ListBucket (common for
            # put/get-only keys). The PUT that follows tells these apart.
            return None
        raise translate(exc, cfg, "check for an existing copy", key) from None
    except BotoCoreError as exc:
        raise translate(exc, cfg, "check for an existing copy", key) from None


def check_bucket() -> str:
    """The configured bucket answers a HEAD with these credentials (`doctor`; nothing is written)."""
    cfg = require_config("check the media store")
    s3 = client(cfg)
    _call(cfg, "check the bucket", s3.head_bucket, Bucket=cfg.bucket)
    return cfg.bucket


def upload(
    cfg: S3Config, path: Path, *, sha256: str, mime_type: str, size_bytes: int, ext: str, s3: Any = None
) -> Uploaded:
    """Put the file under its content address, unless an object of that size is there."""
    s3 = s3 or client(cfg)
    key = key_for(cfg, sha256, ext)
    existing = head(cfg, s3, key)
    if existing is not None and existing.get("ContentLength") == size_bytes:
        stored_sha = (existing.get("Metadata") or {}).get("sha256")
        if stored_sha in (None, sha256):
            return Uploaded(bucket=cfg.bucket, key=key, uploaded=False)
    with path.open("rb") as fh:
        # put_object rather than upload_fileobj: s3transfer wraps errors in
        # S3UploadFailedError, losing the S3 error code the user needs to see.
        # One PUT takes up to 5 GB, far above any platform's media limit.
        _call(
            cfg,
            "upload media",
            s3.put_object,
            Bucket=cfg.bucket,
            Key=key,
            Body=fh,
            ContentType=mime_type,
            ContentLength=size_bytes,
            Metadata={"sha256": sha256},
            key=key,
        )
    return Uploaded(bucket=cfg.bucket, key=key, uploaded=True)


def presign(cfg: S3Config, key: str, *, bucket: str | None = None, expires: int | None = None, s3: Any = None) -> str:
    """A GET URL anyone can fetch until it expires (signed locally: no request is made)."""
    s3 = s3 or client(cfg)
    return _call(
        cfg,
        "presign a URL",
        s3.generate_presigned_url,
        "get_object",
        Params={"Bucket": bucket or cfg.bucket, "Key": key},
        ExpiresIn=expires or cfg.presign_expiry_seconds,
        key=key,
    )


def expires_at(seconds: int) -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=seconds)


def download(cfg: S3Config, key: str, dest: Path, *, sha256: str, bucket: str | None = None, s3: Any = None) -> Path:
    """Fetch the object into `dest` atomically, refusing content that is not `sha256`."""
    s3 = s3 or client(cfg)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".download.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            # get_object, not download_fileobj: its HEAD cannot tell a missing
            # bucket from a missing key, GET's error body can.
            _call(cfg, "download media for publishing", _get_into, s3, bucket or cfg.bucket, key, fh, key=key)
        got = file_sha256(tmp)
        if got != sha256:
            raise S3Error(
                f"s3://{bucket or cfg.bucket}/{key} does not have the content this post was created with "
                f"(sha256 {got[:12]}..., expected {sha256[:12]}...).",
                hint="The object was overwritten in the bucket. Attach the file again to a new post.",
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _get_into(s3: Any, bucket: str, key: str, fh: Any) -> None:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        for chunk in body.iter_chunks(1 << 20):
            fh.write(chunk)
    finally:
        body.close()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
