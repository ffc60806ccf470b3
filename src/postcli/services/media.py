"""Media files: sniffed from their bytes, measured, and copied into the store.

Files are copied at create time (content-addressed by sha256) so a scheduled
post does not depend on where the original was: into the data dir, or into the
S3 bucket when [s3] bucket is configured (services/s3store.py). Adapters always
get a local path; for S3 media it is a verified cache copy, plus a presigned
URL for platforms that fetch media themselves.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postcli import settings
from postcli.errors import InvalidInput
from postcli.platforms.base import MediaItem
from postcli.services.s3store import file_sha256
from postcli.store.models import PostMedia

ALLOWED = ("image/png", "image/jpeg", "image/webp", "image/gif", "video/mp4", "video/quicktime")


@dataclass
class Prepared:
    source: Path
    mime_type: str
    size_bytes: int
    sha256: str
    alt_text: str | None
    width: int | None
    height: int | None
    duration_s: float | None

    @property
    def stored_name(self) -> str:
        return self.sha256 + _EXT.get(self.mime_type, "")

    def as_media_item(self) -> MediaItem:
        return _item(self, self.source, None)

    def described(self) -> dict[str, Any]:
        """What a stored copy records about the file (PostMedia row, `media upload` result)."""
        return {
            "mime_type": self.mime_type,
            "original_filename": self.source.name,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "duration_s": self.duration_s,
            "alt_text": self.alt_text,
            "sha256": self.sha256,
        }

    def upload(self, cfg: Any, path: Path, s3: Any = None) -> Any:
        """Put `path` (these bytes) into the bucket under the content address (services/s3store.py)."""
        from postcli.services import s3store

        return s3store.upload(
            cfg,
            path,
            sha256=self.sha256,
            mime_type=self.mime_type,
            size_bytes=self.size_bytes,
            ext=_EXT.get(self.mime_type, ""),
            s3=s3,
        )


_EXT = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}


def sniff(path: Path) -> str:
    """The MIME type from the file's bytes, not its name."""
    import filetype

    try:
        kind = filetype.guess(str(path))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}.") from None
    mime = kind.mime if kind else None
    if mime not in ALLOWED:
        found = mime or "an unknown type"
        raise InvalidInput(
            f"{path.name} is {found}; postcli takes {', '.join(ALLOWED)}.",
            hint="Convert the file to one of these types.",
        )
    return mime


# EXIF orientations that rotate the picture by 90 or 270 degrees.
_TRANSPOSED = {5, 6, 7, 8}


def _image_size(path: Path) -> tuple[int | None, int | None]:
    """Width and height as the picture is shown.

    Phones store portrait photos as landscape pixels plus an EXIF rotation; the
    raw size would give Bluesky a landscape aspectRatio for a portrait photo.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            width, height = img.size
            try:
                orientation = img.getexif().get(0x0112)
            except Exception:  # noqa: BLE001 - a broken EXIF block must not reject the image
                orientation = None
    except Image.DecompressionBombError:
        raise InvalidInput(f"{path.name} has too many pixels to be a post image.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{path.name} looks like an image but cannot be read: {exc}.") from None
    if orientation in _TRANSPOSED:
        width, height = height, width
    return width, height


def _video_duration(path: Path) -> float | None:
    try:
        from mutagen.mp4 import MP4

        info = MP4(str(path)).info
        return float(info.length) if info is not None else None
    except Exception:  # noqa: BLE001 - duration is "when known"
        return None


def prepare(path: Path, alt: str | None) -> Prepared:
    path = Path(path).expanduser()
    if not path.is_file():
        raise InvalidInput(f"media file {path} does not exist or is not a file.")
    mime = sniff(path)
    width = height = None
    duration = None
    if mime.startswith("image/"):
        width, height = _image_size(path)
    else:
        duration = _video_duration(path)
    return Prepared(
        source=path,
        mime_type=mime,
        size_bytes=path.stat().st_size,
        sha256=file_sha256(path),
        alt_text=alt if alt and alt.strip() else None,
        width=width,
        height=height,
        duration_s=duration,
    )


def prepare_files(files: list[tuple[Path, str | None]]) -> list[Prepared]:
    return [prepare(p, alt) for p, alt in files]


def _copy_verified(prep: Prepared, directory: Path, dest: Path) -> None:
    """Copy prep.source to dest atomically, refusing bytes that are not prep.sha256.

    The file was hashed during validation; if it changed since (still being
    written, replaced), the stored copy would not match its content address.
    """
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".incoming.")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, prep.source.open("rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                h.update(chunk)
                out.write(chunk)
        if h.hexdigest() != prep.sha256:
            raise InvalidInput(
                f"{prep.source.name} changed while postcli was reading it.",
                hint="Wait until the file is completely written, then run the command again.",
            )
        os.replace(tmp, dest)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):  # the store's disk, not the user's file
            from postcli.outfile import describe

            raise describe(exc, str(dest), directory) from None
        raise InvalidInput(f"cannot copy {prep.source}: {exc.strerror or exc}.") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _verified(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    return file_sha256(path) == sha256


def cache_dir() -> Path:
    """Local copies of S3 media, named by content: safe to delete at any time."""
    return settings.paths().data_dir / "cache" / "media"


def store_prepared(prep: Prepared, position: int) -> PostMedia:
    """Store the file once per content (data dir, or S3 when configured) as a PostMedia row."""
    from postcli.services import s3store

    cfg = s3store.load_config()
    if cfg is not None:
        # The verified cache copy is what goes up (so the object matches its
        # content address even if the original changes), and it spares
        # publishing right away a download of what was just uploaded.
        cached = cache_dir() / prep.stored_name
        if not _verified(cached, prep.sha256):
            _copy_verified(prep, cache_dir(), cached)
        stored = prep.upload(cfg, cached)
        storage, key, url = "s3", stored.key, s3store.object_url(stored.bucket, stored.key)
    else:
        media_dir = settings.paths().media_dir
        dest = media_dir / prep.stored_name
        if not dest.exists():
            _copy_verified(prep, media_dir, dest)
        storage, key, url = "local", prep.stored_name, None
    return PostMedia(position=position, storage=storage, key=key, url=url, **prep.described())


def media_info(row: PostMedia) -> MediaItem:
    """The row as a MediaItem for validation only: no download, no presigning.

    The path may not exist yet (S3 media not cached); type, size, dimensions and
    alt text, which is all validate_targets looks at, are from the row.
    """
    if row.storage == "s3":
        path = cache_dir() / f"{row.sha256}{Path(row.key).suffix or _EXT.get(row.mime_type, '')}"
    else:
        path = settings.paths().media_dir / row.key
    return _item(row, path, None if row.storage == "s3" else row.url)


def media_item(row: PostMedia) -> MediaItem:
    """What an adapter needs: a readable local file, and for S3 media a fresh presigned URL.

    For S3 media this may download (and always presigns, which needs
    credentials): call it when about to publish, not to validate (media_info).
    """
    public_url: str | None
    if row.storage == "s3":
        path, public_url = _s3_local_copy(row)
    else:
        path, public_url = settings.paths().media_dir / row.key, row.url
    return _item(row, path, public_url)


def _item(row: PostMedia | Prepared, path: Path, public_url: str | None) -> MediaItem:
    return MediaItem(
        path=path,
        mime_type=row.mime_type,
        size_bytes=row.size_bytes,
        alt_text=row.alt_text,
        width=row.width,
        height=row.height,
        duration_s=row.duration_s,
        public_url=public_url,
    )


def _s3_local_copy(row: PostMedia) -> tuple[Path, str]:
    from dataclasses import replace

    from postcli.services import s3store

    cfg = s3store.require_config("publish a post whose media is in S3")
    bucket = s3store.parse_object_url(row.url) or cfg.bucket
    if bucket != cfg.bucket:
        # The row remembers the bucket it was uploaded to; [s3] may have changed since.
        cfg = replace(cfg, bucket=bucket)
    s3 = s3store.client(cfg)
    ext = Path(row.key).suffix or _EXT.get(row.mime_type, "")
    cached = cache_dir() / f"{row.sha256}{ext}"
    if not _verified(cached, row.sha256):
        s3store.download(cfg, row.key, cached, sha256=row.sha256, s3=s3)
    return cached, s3store.presign(cfg, row.key, s3=s3)


@dataclass
class S3Upload:
    """The result of `postcli media upload` (its JSON shape, see docs/media.md)."""

    bucket: str
    key: str
    url: str
    expires_in: int
    expires_at: Any
    uploaded: bool  # False: the same content was already in the bucket
    original_filename: str
    mime_type: str
    size_bytes: int
    sha256: str
    width: int | None
    height: int | None
    duration_s: float | None
    alt_text: str | None

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def upload_to_s3(path: Path, *, alt: str | None = None, expires: int | None = None) -> S3Upload:
    """Sniff, measure and upload one file to the configured bucket; presign a GET URL for it."""
    from postcli.services import s3store

    cfg = s3store.require_config()
    if expires is not None:
        s3store.check_expiry(expires)
    prep = prepare(path, alt)
    s3 = s3store.client(cfg)
    stored = prep.upload(cfg, prep.source, s3=s3)
    seconds = expires or cfg.presign_expiry_seconds
    return S3Upload(
        bucket=stored.bucket,
        key=stored.key,
        url=s3store.presign(cfg, stored.key, expires=seconds, s3=s3),
        expires_in=seconds,
        expires_at=s3store.expires_at(seconds),
        uploaded=stored.uploaded,
        **prep.described(),
    )
