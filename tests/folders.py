"""Song-folder helpers shared by the tests: content digests to compare folders by.

Folders are compared by sha256 per file, never by raw bytes: a failing comparison of raw WAV
bytes makes pytest diff megabytes (in CI it does not truncate), which takes hours.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def digests(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder`` (empty when it is missing)."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}
