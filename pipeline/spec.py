"""The song spec: what a user asks for, read from YAML and validated with pydantic.

Every problem becomes one :class:`SpecError` line of the form
``FILE:LINE: FIELD: what is wrong (valid: ...)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from representations.errors import SpecError
from representations.music import Key, Meter

MAX_LYRIC_LINES = 400
MAX_LINE_CHARS = 200
MAX_DURATION_S = 900.0

SECTION_ALIASES = {
    "intro": "intro", "verse": "verse", "pre-chorus": "pre-chorus", "prechorus": "pre-chorus",
    "pre chorus": "pre-chorus", "build": "pre-chorus", "build-up": "pre-chorus", "chorus": "chorus",
    "hook": "chorus", "refrain": "chorus", "post-chorus": "chorus", "bridge": "bridge", "middle 8": "bridge",
    "interlude": "interlude", "break": "interlude", "instrumental": "interlude", "solo": "interlude",
    "guitar solo": "interlude", "drop": "interlude", "outro": "outro", "ending": "outro", "end": "outro",
    "前奏": "intro", "主歌": "verse", "预副歌": "pre-chorus", "导歌": "pre-chorus", "副歌": "chorus",
    "桥段": "bridge", "间奏": "interlude", "尾奏": "outro", "结尾": "outro",
}
_TAG = re.compile(r"^\s*[\[【]\s*([^\]】]*?)\s*[\]】]\s*$")
_TAG_NUM = re.compile(r"^(.*?)[\s_-]*(\d+)$")


@dataclass(frozen=True)
class LyricSection:
    """A section of the lyrics: kind (intro, verse, ...), label as written ("Verse 2"), its sung
    lines and the file line of each (for error messages)."""

    kind: str
    label: str
    lines: tuple[str, ...]
    file_lines: tuple[int, ...] = ()


def parse_lyrics(text: str, *, where: str = "lyrics", first_line: int = 1) -> list[LyricSection]:
    """Split lyrics into sections by tags like ``[Verse 2]``; untagged stanzas become verses
    (and a stanza sung again later, a chorus).

    ``first_line`` is the file line of the lyric text's first line, for error messages.
    """
    sections: list[LyricSection] = []
    cur_kind, cur_label, cur_lines, cur_fl = None, None, [], []
    tagged = False

    def flush():
        nonlocal cur_lines, cur_fl
        if cur_kind is not None or cur_lines:
            sections.append(LyricSection(cur_kind or "verse", cur_label or "Verse", tuple(cur_lines), tuple(cur_fl)))
        cur_lines, cur_fl = [], []

    for i, raw in enumerate(text.splitlines()):
        line = raw.strip()
        fl = first_line + i
        m = _TAG.match(line)
        if m:
            name = m.group(1)
            base = name
            n = _TAG_NUM.match(name)
            if n:
                base = n.group(1)
            kind = SECTION_ALIASES.get(base.strip().lower())
            if kind is None:
                valid = "Intro, Verse, Pre-Chorus, Chorus, Bridge, Interlude, Outro (optionally numbered)"
                raise SpecError(f"{where}:{fl}: lyrics: unknown section tag [{name}] (valid: {valid})")
            flush()
            tagged = True
            cur_kind, cur_label = kind, name.strip().title() if name.isascii() else name.strip()
            continue
        if not line:
            if not tagged and cur_lines:
                flush()
                cur_kind, cur_label = None, None
            continue
        if line.startswith("(") and line.endswith(")") or line.startswith("#"):
            continue  # stage directions and comments are not sung
        cur_lines.append(line)
        cur_fl.append(fl)
    flush()
    if not tagged:
        seen: dict[tuple[str, ...], int] = {}
        for idx, s in enumerate(sections):
            seen[s.lines] = seen.get(s.lines, 0) + 1
        n_verse = 0
        out = []
        for s in sections:
            if seen[s.lines] > 1:
                out.append(LyricSection("chorus", "Chorus", s.lines, s.file_lines))
            else:
                n_verse += 1
                out.append(LyricSection("verse", f"Verse {n_verse}", s.lines, s.file_lines))
        sections = out
    return sections


class SongSpec(BaseModel):
    """A song request. ``tags`` may be free text or a list; ``style`` is accepted as its alias."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)

    title: str = "Untitled"
    lyrics: str = ""
    tags: str | list[str] = Field(default="", alias="style")
    key: str | None = None
    tempo: float | None = Field(default=None, ge=30, le=300)
    meter: str | None = None
    language: Literal["en", "zh"] | None = None
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    duration: float | None = Field(default=None, gt=0, le=MAX_DURATION_S)
    instrumental: bool = False
    voice: str | None = None
    leadsheet: str | None = None
    voice_reference: str | None = None
    backends: dict[str, str] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)

    # where the spec came from, for error messages (not part of the spec itself)
    source: str = Field(default="<spec>", exclude=True)
    lyrics_first_line: int = Field(default=1, exclude=True)

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v or len(v) > 200:
            raise ValueError("must be 1-200 characters")
        return v

    @field_validator("key")
    @classmethod
    def _key(cls, v):
        if v is not None:
            Key.parse(v)
        return v

    @field_validator("meter")
    @classmethod
    def _meter(cls, v):
        if v is not None:
            m = Meter.parse(str(v))
            if str(m) not in ("4/4", "3/4", "6/8", "2/4", "12/8"):
                raise ValueError(f"meter {v} is not supported (valid: 4/4, 3/4, 6/8, 2/4, 12/8)")
        return v

    @field_validator("voice")
    @classmethod
    def _voice(cls, v):
        if v is not None:
            v = v.strip().lower()
            if v not in _voice_names():
                raise ValueError("not a voice preset")
        return v

    # ---- derived ------------------------------------------------------------------------------
    def lyric_sections(self) -> list[LyricSection]:
        return parse_lyrics(self.lyrics, where=self.source, first_line=self.lyrics_first_line)

    def resolved_language(self) -> str:
        if self.language:
            return self.language
        return "zh" if re.search(r"[\u4e00-\u9fff]", self.lyrics) else "en"

    def key_obj(self) -> Key | None:
        return Key.parse(self.key) if self.key else None

    def meter_obj(self) -> Meter | None:
        return Meter.parse(self.meter) if self.meter else None

    def spec_dict(self) -> dict:
        return self.model_dump(by_alias=False, exclude_defaults=False, exclude={"source", "lyrics_first_line"})

    # ---- reading ------------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | Path) -> "SongSpec":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"{path}: no such file") from None
        except (UnicodeDecodeError, IsADirectoryError, PermissionError) as e:
            raise SpecError(f"{path}: cannot read spec ({type(e).__name__}; valid: a UTF-8 YAML file)") from None
        return cls.from_text(text, source=str(path), base_dir=path.parent)

    @classmethod
    def from_text(cls, text: str, *, source: str = "<spec>", base_dir: Path | None = None) -> "SongSpec":
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.load(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f"{mark.line + 1}" if mark else "1"
            problem = getattr(e, "problem", None) or str(e).splitlines()[0]
            raise SpecError(f"{source}:{line}: not valid YAML: {problem}") from None
        if data is None:
            raise SpecError(f"{source}:1: the spec is empty (valid: a mapping with title, lyrics, tags, ...)")
        if not isinstance(data, dict) or node is None or not isinstance(node, yaml.MappingNode):
            raise SpecError(f"{source}:1: the spec must be a YAML mapping (valid keys: {', '.join(_FIELDS)})")
        lines = {}
        for k, v in node.value:
            lines[k.value] = (k.start_mark.line + 1, v)
        for k in data:
            if not isinstance(k, str):
                raise SpecError(f"{source}:1: field names must be text, got {k!r}")
        extra = {}
        if "lyrics" in lines:
            ln, vnode = lines["lyrics"]
            extra["lyrics_first_line"] = ln + 1 if getattr(vnode, "style", None) in ("|", ">") else ln
        for path_field in ("leadsheet", "voice_reference"):
            if isinstance(data.get(path_field), str) and base_dir is not None:
                p = Path(data[path_field])
                data[path_field] = str(p if p.is_absolute() else base_dir / p)
        try:
            spec = cls.model_validate(data | extra | {"source": source})
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(x) for x in err["loc"]) or "spec"
            top = str(err["loc"][0]) if err["loc"] else ""
            line = lines.get(top, (1,))[0]
            msg = explain_error(err, top)
            raise SpecError(f"{source}:{line}: {field}: {msg}") from None
        sections = spec.lyric_sections()  # lyric tags are checked now, with file lines
        n_lines = sum(len(sec.lines) for sec in sections)
        if n_lines > MAX_LYRIC_LINES:
            ln = lines.get("lyrics", (1,))[0]
            raise SpecError(f"{source}:{ln}: lyrics: {n_lines} sung lines is too many (valid: at most {MAX_LYRIC_LINES})")
        for sec in sections:
            for text, fl in zip(sec.lines, sec.file_lines):
                if len(text) > MAX_LINE_CHARS:
                    raise SpecError(f"{source}:{fl}: lyrics: a line of {len(text)} characters is too long to sing (valid: at most {MAX_LINE_CHARS})")
        if not spec.instrumental and not spec.lyrics.strip() and not spec.leadsheet:
            ln = lines.get("lyrics", (1,))[0]
            raise SpecError(f"{source}:{ln}: lyrics: no lyrics to sing (valid: lyric lines, or instrumental: true)")
        return spec


_FIELDS = [n for n in SongSpec.model_fields if n not in ("source", "lyrics_first_line")]


def _voice_names() -> list[str]:
    from voice.presets import PRESETS

    return list(PRESETS)


def explain_error(err: dict, top: str) -> str:
    if err["type"] == "extra_forbidden":
        return f"unknown field (valid: {', '.join(_FIELDS)}; 'style' is an alias of 'tags')"
    got = err.get("input")
    got_s = repr(got) if not isinstance(got, (dict, list)) or len(repr(got)) < 60 else type(got).__name__
    msg = err["msg"].removeprefix("Value error, ")
    hints = {
        "tempo": "a number of BPM from 30 to 300",
        "language": "en or zh",
        "seed": "an integer from 0 to 2147483647",
        "duration": f"seconds, above 0 and at most {MAX_DURATION_S:.0f}",
        "instrumental": "true or false",
        "tags": "text or a list of text",
        "key": "e.g. 'G major', 'E minor'",
        "meter": "4/4, 3/4, 6/8, 2/4 or 12/8",
        "voice": ", ".join(_voice_names()),
    }
    hint = hints.get(top)
    return f"{msg}, got {got_s}" + (f" (valid: {hint})" if hint and "valid" not in msg else "")
