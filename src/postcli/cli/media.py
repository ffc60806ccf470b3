"""`postcli media ...`: put media in the configured S3 bucket and get a shareable URL."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from postcli.cli._options import JsonOpt, path_value
from postcli.errors import InvalidInput

app = typer.Typer(
    help="Media in the configured S3 bucket ([s3] in the config file): upload and get a presigned URL.",
    no_args_is_help=True,
)


@app.command("upload")
def upload(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        parser=path_value,
        help="An image or video (png, jpeg, webp, gif, mp4, mov; sniffed from its bytes).",
    ),
    alt: Optional[str] = typer.Option(
        None, "--alt", metavar="TEXT", help="Alt text, echoed in the output for reuse (not stored on the object)."
    ),
    expires: Optional[int] = typer.Option(
        None,
        "--expires",
        metavar="SECONDS",
        min=1,
        max=604800,
        help="Seconds the presigned URL stays valid (1-604800; default: [s3] presign_expiry_seconds, 86400).",
    ),
    as_json: JsonOpt = False,
) -> None:
    """Upload FILE to the S3 bucket (once per content) and print its key and a presigned GET URL.

    The key is media/<sha256>.<ext>: uploading the same bytes again does not
    upload them again. Exit 2 when no bucket is configured or the file is not a
    supported type.
    """
    from postcli import output
    from postcli.services import media as media_svc

    if expires is not None and expires <= 0:
        raise InvalidInput(f"--expires must be a positive number of seconds, not {expires}.")
    result = media_svc.upload_to_s3(file, alt=alt, expires=expires)
    if as_json:
        output.print_json(result.as_dict())
        return
    dims = f"{result.width}x{result.height}" if result.width and result.height else None
    output.kv(
        [
            ("file", result.original_filename),
            (
                "type",
                result.mime_type
                + (f", {dims}" if dims else "")
                + (f", {result.duration_s:.1f} s" if result.duration_s else ""),
            ),
            ("size", f"{result.size_bytes:,} bytes"),
            ("sha256", result.sha256),
            ("bucket", result.bucket),
            ("key", result.key + ("" if result.uploaded else " (already there, not uploaded again)")),
            ("alt", result.alt_text or output.NULL),
            ("expires", output.fmt_time(result.expires_at)),
        ]
    )
    # The URL on its own line, unwrapped, so it can be copied whole.
    output.line(result.url, soft_wrap=True)
