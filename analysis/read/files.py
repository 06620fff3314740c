"""File-level helpers shared by the readers and the pack: a file's fingerprint."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes as stored, streamed in 1 MiB blocks (a large file is never held in memory).

    Raises
    ------
    OSError
        The file cannot be read.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
