"""Timed lyrics in LRC form: ``[ti:Title]`` then one ``[mm:ss.xx]line`` per sung lyric line."""

from __future__ import annotations

import re
from pathlib import Path

from .atomic import atomic_write_text
from .errors import SpecError

_TIME_TAG = re.compile(r"\[(\d+):(\d{1,2}(?:[.:]\d{1,3})?)\]")


def format_lrc_time(seconds: float) -> str:
    """``"mm:ss.xx"`` for ``seconds``, rounded to the nearest hundredth."""
    cs = max(0, round(seconds * 100))
    return f"{cs // 6000:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def write_lrc(path: str | Path, vocal_score, *, title: str | None = None) -> None:
    """Write the lyric lines of ``vocal_score`` with their start times.

    Parameters
    ----------
    path : str or Path
        Target file, UTF-8, written atomically.
    vocal_score : VocalScore
        Its ``lines`` give each line's text and ``start_s`` (seconds from the song's start).
    title : str, optional
        Written as a ``[ti:...]`` tag first.
    """
    out = []
    if title is not None:
        out.append(f"[ti:{_one_line(title)}]")
    for line in sorted(vocal_score.lines, key=lambda l: (l.start_s, l.index)):
        out.append(f"[{format_lrc_time(line.start_s)}]{_one_line(line.text)}")
    atomic_write_text(path, "\n".join(out) + "\n")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_lrc(path: str | Path) -> list[tuple[float, str]]:
    """Timed lines of an LRC file: ``[(start_s, text), ...]`` in time order.

    A line with several time tags yields one entry per tag; tags such as ``[ti:...]`` are
    skipped; an ``[offset:±ms]`` tag is applied (a positive offset shows lines earlier).

    Raises
    ------
    SpecError
        The file cannot be read as UTF-8 text.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"{path}: cannot read LRC ({e}) (valid: a UTF-8 .lrc file)") from None
    offset_s = 0.0
    m = re.search(r"^\[offset:\s*([+-]?\d+)\s*\]", text, re.M | re.I)
    if m:
        offset_s = int(m.group(1)) / 1000.0
    out = []
    for raw in text.splitlines():
        pos, times = 0, []
        while (m := _TIME_TAG.match(raw, pos)):
            times.append(int(m.group(1)) * 60 + float(m.group(2).replace(":", ".")))
            pos = m.end()
        out += [(max(0.0, t - offset_s), raw[pos:].strip()) for t in times]
    return sorted(out, key=lambda x: x[0])
