"""Media files: sniffed from their bytes, measured, and copied into the store.

Files are copied at create time (content-addressed by sha256) so a scheduled
post does not depend on where the original was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from postcli import settings
from postcli.errors import InvalidInput
from postcli.platforms.base import MediaItem
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
        return MediaItem(
            path=self.source,
            mime_type=self.mime_type,
            size_bytes=self.size_bytes,
            alt_text=self.alt_text,
            width=self.width,
            height=self.height,
            duration_s=self.duration_s,
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

    kind = filetype.guess(str(path))
    mime = kind.mime if kind else None
    if mime not in ALLOWED:
        found = mime or "an unknown type"
        raise InvalidInput(
            f"{path.name} is {found}; postcli takes {', '.join(ALLOWED)}.",
            hint="Convert the file to one of these types.",
        )
    return mime


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _image_size(path: Path) -> tuple[int | None, int | None]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInput(f"{path.name} looks like an image but cannot be read: {exc}.") from None


def _video_duration(path: Path) -> float | None:
    try:
        from mutagen.mp4 import MP4

        return float(MP4(str(path)).info.length)
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
        sha256=_sha256(path),
        alt_text=alt or None,
        width=width,
        height=height,
        duration_s=duration,
    )


def prepare_files(files: list[tuple[Path, str | None]]) -> list[Prepared]:
    return [prepare(p, alt) for p, alt in files]


def store_prepared(prep: Prepared, position: int) -> PostMedia:
    """Copy into the media dir (once per content) and describe it as a PostMedia row."""
    media_dir = settings.paths().media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    dest = media_dir / prep.stored_name
    if not dest.exists():
        fd, tmp = tempfile.mkstemp(dir=media_dir, prefix=".incoming.")
        os.close(fd)
        try:
            shutil.copyfile(prep.source, tmp)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return PostMedia(
        position=position,
        storage="local",
        key=prep.stored_name,
        url=None,
        mime_type=prep.mime_type,
        original_filename=prep.source.name,
        size_bytes=prep.size_bytes,
        width=prep.width,
        height=prep.height,
        duration_s=prep.duration_s,
        alt_text=prep.alt_text,
        sha256=prep.sha256,
    )


def media_item(row: PostMedia) -> MediaItem:
    path = settings.paths().media_dir / row.key
    return MediaItem(
        path=path,
        mime_type=row.mime_type,
        size_bytes=row.size_bytes,
        alt_text=row.alt_text,
        width=row.width,
        height=row.height,
        duration_s=row.duration_s,
        public_url=row.url,
    )
