"""The song's form: sections from the lyric tags, phrases with their bar counts, intro and
outro, and instrumental bars added or removed to aim at a requested duration."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from representations.errors import SpecError
from representations.leadsheet import Syllable
from representations.music import Meter

from .lyrics import UnsingableText, syllabify_line
from .rhythm import line_bars, max_syllables, prominence, stable_rng

INSTRUMENTAL_KINDS = ("intro", "interlude", "outro")
_SHORT_S = 10.0  # an added intro/outro lasts 4 bars if that takes at most this long, else 2


@dataclass(frozen=True)
class Phrase:
    """A melodic phrase: a sung lyric line, or a phrase for a lead instrument (no syllables)."""

    prominences: tuple[int, ...]
    word_end: tuple[bool, ...]
    n_bars: int
    rhythm_key: str
    text: str = ""
    syllables: tuple[Syllable, ...] = ()


@dataclass
class FormSection:
    """A section being planned: ``phrases`` empty means accompaniment only for ``n_bars``."""

    kind: str
    label: str
    n_bars: int
    phrases: list[Phrase] = field(default_factory=list)
    sung: bool = False
    adjustable: bool = False  # instrumental bars the planner may lengthen or shorten


def _short_bars(bar_s: float) -> int:
    return 4 if 4 * bar_s <= _SHORT_S else 2


def phrase_bars(meter: Meter) -> int:
    """Bars of an instrumental phrase: the shortest power of two lasting 6 beats or more."""
    bars = 1
    while bars * meter.bar_beats < 6:
        bars *= 2
    return bars


def _syllables(spec, section, k: int, line_no: int, language: str) -> list[Syllable]:
    text = section.lines[k]
    file_line = section.file_lines[k] if k < len(section.file_lines) else "?"
    try:
        return syllabify_line(text, language)
    except UnsingableText as e:
        raise SpecError(f"{spec.source}:{file_line}: lyrics: line {line_no} ({text!r}): {e}") from None


def lyric_phrase(syllables: list[Syllable], text: str, *, meter: Meter, tempo_bpm: float, seed: int) -> Phrase:
    """A phrase for one sung line; its rhythm key depends on the words only (same line, same rhythm)."""
    word_end = tuple(i + 1 == len(syllables) or syllables[i + 1].word_start for i in range(len(syllables)))
    bars = line_bars(len(syllables), meter, tempo_bpm=tempo_bpm)
    key = f"{seed}|line|{' '.join(s.text.lower() for s in syllables)}"
    return Phrase(tuple(prominence(syllables)), word_end, bars, key, text, tuple(syllables))


def instrumental_phrases(kind: str, n_bars: int, *, meter: Meter, seed: int, density: float) -> list[Phrase]:
    """Phrases for a lead instrument over ``n_bars``; the same kind of section gets the same ones."""
    pb = phrase_bars(meter)
    slots = int(pb * meter.bar_beats * 2)
    out = []
    for i in range(max(1, n_bars // pb)):
        rng = stable_rng(seed, "phrase", kind, i)
        n = max(3, min(slots - 4, round(slots * rng.uniform(0.35, 0.5) * (0.8 + 0.4 * density))))
        prom = tuple(2 if j % 2 == 0 and rng.random() < 0.8 else rng.choice((0, 1)) for j in range(n))
        out.append(Phrase(prom, (True,) * n, pb, f"{seed}|inst|{kind}|{i}"))
    return out


def sections_from_lyrics(spec, *, meter: Meter, tempo_bpm: float, seed: int, instrumental: bool,
                         density: float = 0.5) -> list[FormSection]:
    """Sections from the lyric tags, each sung line a phrase with its own bar count.

    An empty tag becomes accompaniment bars (an empty [Chorus] after a sung one repeats it).
    For an instrumental piece the lines still shape the phrases but carry no syllables; tags
    without any lines give 8-bar themes. Without tags and lines: intro, A, B, A, B, outro.
    """
    bar_s = float(meter.bar_beats) * 60.0 / tempo_bpm
    language = spec.resolved_language()
    lyric = spec.lyric_sections()
    out: list[FormSection] = []
    last_sung: dict[str, list[Phrase]] = {}
    line_no = 0
    for sec in lyric:
        phrases = []
        for k, text in enumerate(sec.lines):
            line_no += 1
            sylls = _syllables(spec, sec, k, line_no, language)
            if not sylls:
                continue
            if len(sylls) > max_syllables(meter):
                fl = sec.file_lines[k] if k < len(sec.file_lines) else "?"
                raise SpecError(f"{spec.source}:{fl}: lyrics: line {line_no} ({text!r}) has {len(sylls)} syllables "
                                f"(valid: at most {max_syllables(meter)} per line in {meter}; split the line)")
            phrases.append(lyric_phrase(sylls, text, meter=meter, tempo_bpm=tempo_bpm, seed=seed))
        if not phrases and sec.kind == "chorus" and "chorus" in last_sung:
            phrases = list(last_sung["chorus"])
        if phrases:
            last_sung[sec.kind] = phrases
            if instrumental:
                phrases = [replace(p, text="", syllables=()) for p in phrases]
            out.append(FormSection(sec.kind, sec.label, sum(p.n_bars for p in phrases), phrases, sung=not instrumental))
        elif instrumental and sec.kind not in INSTRUMENTAL_KINDS:
            bars = 8 if sec.kind != "pre-chorus" else 4
            out.append(FormSection(sec.kind, sec.label, bars,
                                   instrumental_phrases(sec.kind, bars, meter=meter, seed=seed, density=density)))
        else:
            out.append(FormSection(sec.kind, sec.label, _short_bars(bar_s), adjustable=True))
    if not out:
        out = [FormSection(kind, label, 8, instrumental_phrases(kind, 8, meter=meter, seed=seed, density=density))
               for kind, label in (("verse", "A"), ("chorus", "B"), ("verse", "A"), ("chorus", "B"))]
    if out[0].kind != "intro":
        out.insert(0, FormSection("intro", "Intro", _short_bars(bar_s), adjustable=True))
    if out[-1].kind != "outro":
        out.append(FormSection("outro", "Outro", _short_bars(bar_s), adjustable=True))
    return out


def _resize_ends(sections: list[FormSection], target: int, limit: int) -> None:
    for s in (sections[-1], sections[0]):
        diff = target - sum(x.n_bars for x in sections)
        if s.adjustable and diff:
            s.n_bars = max(1, min(max(limit, s.n_bars), s.n_bars + diff))


def fit_duration(sections: list[FormSection], target_s: float, *, bar_s: float, instrumental: bool) -> list[FormSection]:
    """Add or remove accompaniment bars (and, in instrumental pieces, chorus repeats) so the
    song lasts about ``target_s`` seconds: within two bars where the form allows.

    Instrumental pieces first drop repeated themes from the end or repeat the chorus theme;
    then interludes are dropped, intro and outro resized (1 to 8 bars), and, if the song is
    still short, 4-bar interludes go in after choruses and the intro, outro and interludes may
    grow to 16 bars.
    """
    sections = [replace(s, phrases=list(s.phrases)) for s in sections]
    target = max(1, round(target_s / bar_s))

    def total() -> int:
        return sum(s.n_bars for s in sections)

    if instrumental:
        themes = [i for i, s in enumerate(sections) if s.phrases]
        while len(themes) > 1 and total() - sections[themes[-1]].n_bars >= target - 2:
            sections.pop(themes.pop())
        cycle = [s for s in sections if s.phrases]
        k = 0
        while cycle and total() + cycle[k % len(cycle)].n_bars <= target + 2:
            theme = cycle[k % len(cycle)]
            sections.insert(len(sections) - 1, replace(theme, phrases=list(theme.phrases)))
            k += 1
    while total() > target + 1:
        inner = [s for s in sections[1:-1] if s.adjustable]
        if not inner:
            break
        victim = max(inner, key=lambda s: s.n_bars)
        if total() - victim.n_bars >= target - 2 or victim.n_bars <= 2:
            sections.remove(victim)
        else:
            victim.n_bars -= total() - target
    _resize_ends(sections, target, 8)
    if total() < target - 1:  # interludes after choruses, then after any sung section
        for kinds in (("chorus",), None):
            k = 1
            while k < len(sections) - 1 and total() < target - 1:
                here = sections[k].kind
                if (here in kinds if kinds else here != "pre-chorus") and not sections[k].adjustable \
                        and not sections[k + 1].adjustable:
                    sections.insert(k + 1, FormSection("interlude", "Interlude", min(4, target - total()),
                                                       adjustable=True))
                k += 1
        _resize_ends(sections, target, 16)
        inner = [s for s in sections[1:-1] if s.adjustable]
        while inner and total() < target:
            for s in inner:
                s.n_bars += min(4, target - total())
    return sections
