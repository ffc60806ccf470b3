"""Generated image and video files for media tests."""

from __future__ import annotations

import os
import struct
from pathlib import Path


def png(path: Path, size: tuple[int, int] = (40, 30), color: str = "red") -> Path:
    from PIL import Image

    Image.new("RGB", size, color).save(path, format="PNG")
    return path


def noise_png(path: Path, size: tuple[int, int]) -> Path:
    """Random pixels do not compress: the file is about width*height*3 bytes."""
    from PIL import Image

    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, format="PNG")
    return path


def jpeg(path: Path, size: tuple[int, int] = (40, 30), color: str = "blue") -> Path:
    from PIL import Image

    Image.new("RGB", size, color).save(path, format="JPEG")
    return path


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(path: Path, seconds: float, timescale: int = 1000, pad: int = 0) -> Path:
    """An ISO BMFF file: `ftyp` + `moov/mvhd` (version 0) saying it lasts `seconds`, then an
    `mdat` of `pad` random bytes (a file big enough to take several upload chunks)."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2mp41")
    mvhd = _box(
        b"mvhd",
        bytes(4)  # version 0, flags
        + struct.pack(">IIII", 0, 0, timescale, round(seconds * timescale))
        + struct.pack(">IH", 0x00010000, 0x0100)  # rate 1.0, volume 1.0
        + bytes(10)
        + struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)  # unity matrix
        + bytes(24)
        + struct.pack(">I", 2),  # next track id
    )
    path.write_bytes(ftyp + _box(b"moov", mvhd) + (_box(b"mdat", os.urandom(pad)) if pad else b""))
    return path
