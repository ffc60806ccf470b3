"""Generated image files for media tests."""

from __future__ import annotations

import os
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
