"""Reading MusicXML lead sheets (.musicxml, .xml, .mxl) with music21.

Reading accepts what :mod:`representations.musicxml_write` writes and ordinary lead sheets: the
melody of the first part with lyrics, its chord symbols, key, meter and tempo; syllables are
grouped into words by their syllabic and into lines at breaths, rests, rehearsal marks and phrase
ends. music21 is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil
from pathlib import Path

from .errors import SpecError
from .leadsheet import Chord, LeadSheet, LyricLine, Note, Section, Syllable
from .music import Key, Meter, as_fraction
from .musicxml_chords import _pc_name, chord_symbol_from_m21

_PUNCT = ".,;:!?\"“”‘()[]{}-–—…，。！？；：、「」『』（）《》"
_LINE_END_PUNCT = tuple(".,;:!?…，。！？；：、")
_SECTION_WORDS = (
    ("pre-chorus", ("pre-chorus", "prechorus", "pre chorus", "导歌", "预副歌")),
    ("chorus", ("chorus", "refrain", "hook", "副歌")),
    ("verse", ("verse", "主歌")),
    ("bridge", ("bridge", "桥段")),
    ("intro", ("intro", "前奏")),
    ("outro", ("outro", "coda", "ending", "尾奏")),
    ("interlude", ("interlude", "solo", "instrumental", "break", "间奏")),
)
MIN_LINE_SYLLABLES, MAX_LINE_SYLLABLES = 6, 12
VALID = "valid: a .musicxml/.xml/.mxl lead sheet with a melody"


def _ql(x: Fraction):
    return float(x) if x.denominator in (1, 2, 4, 8, 16, 32, 64) else x


@dataclass
class _Event:
    start: Fraction
    dur: Fraction
    pitch: int
    text: str | None = None  # the lyric as written (punctuation kept)
    syllabic: str | None = None
    breath: bool = False
    tie_open: bool = False
    syllable: tuple[int, int] | None = None
    melisma: bool = False

    @property
    def end(self) -> Fraction:
        return self.start + self.dur


@dataclass
class _Word:
    events: list[int] = field(default_factory=list)  # indices of the melody events that carry a syllable

    def text(self, events: list[_Event]) -> str:
        return "".join(events[i].text.rstrip("-") for i in self.events)


def read_musicxml(path: str | Path, *, language: str | None = None) -> LeadSheet:
    """Read a MusicXML lead sheet.

    Parameters
    ----------
    path : str or Path
        A ``.musicxml``, ``.xml`` or ``.mxl`` file.
    language : {"en", "zh"} or None
        Language of the lyrics; None guesses it (Chinese characters make it "zh").

    Returns
    -------
    LeadSheet
        Melody of the first part with lyrics (else the first part), chord symbols (each lasts
        until the next one or an N.C.), key, meter, tempo (100 BPM when unmarked), lyric lines
        whose syllables link to the notes, and sections (rehearsal marks, else 8-bar verses).
        Syllable phonemes are left empty.

    Raises
    ------
    SpecError
        The file cannot be read or holds no melody.
    """
    path = Path(path)

    def fail(reason: str) -> SpecError:
        return SpecError(f"{path}: cannot read MusicXML ({reason}) ({VALID})")

    if not path.is_file():
        raise fail("no such file")
    from music21 import converter, stream

    try:
        score = converter.parse(str(path), format="musicxml", forceSource=True)
    except Exception as e:  # music21 raises many types for malformed input
        raise fail((str(e).strip().splitlines() or [type(e).__name__])[0][:200]) from None
    parts = list(score.parts) if isinstance(score, stream.Score) else [score]
    if not parts:
        raise fail("no parts")
    part = next((p for p in parts if any(n.lyrics for n in p.recurse().notes)), parts[0])
    try:
        return _lead_sheet(score, part, path, language)
    except ValueError as e:
        raise fail(str(e)) from None


def _lead_sheet(score, part, path: Path, language: str | None) -> LeadSheet:
    from music21 import articulations, expressions, harmony, meter, stream, tempo

    sigs = list(part.recurse().getElementsByClass(meter.TimeSignature))
    met = Meter(sigs[0].numerator, sigs[0].denominator) if sigs else Meter(4, 4)
    bar = met.bar_beats
    beat = Fraction(3, 2) if met.compound else Fraction(4, met.denominator)
    measures = list(part.getElementsByClass(stream.Measure))
    shift = Fraction(0)
    if len(measures) >= 2:
        first = as_fraction(measures[1].offset) - as_fraction(measures[0].offset)
        if 0 < first < bar:
            shift = bar - first  # a pickup bar: its notes end the first full bar
    flat = part.flatten()

    def at(e) -> Fraction:
        return as_fraction(flat.elementOffset(e)) + shift

    raw = []
    for e in flat.notes:
        if isinstance(e, harmony.Harmony) or e.duration.isGrace or e.quarterLength == 0:
            continue
        pitch = e.pitch.midi if hasattr(e, "pitch") and not e.isChord else max(p.midi for p in e.pitches)
        text, syllabic = _lyric(e)
        breath = any(isinstance(a, (articulations.BreathMark, articulations.Caesura)) for a in e.articulations)
        raw.append((at(e), as_fraction(e.quarterLength), pitch, text, syllabic, breath,
                    e.tie.type if e.tie is not None else None))
    raw.sort(key=lambda r: (r[0], r[3] is None, -r[2]))
    events: list[_Event] = []
    for start, dur, pitch, text, syllabic, breath, tie_type in raw:
        last = events[-1] if events else None
        if last and tie_type in ("stop", "continue") and last.tie_open and last.pitch == pitch and last.end == start:
            last.dur += dur
            last.breath |= breath
            last.tie_open = tie_type == "continue"
            continue
        if last and start < last.end:
            continue
        events.append(_Event(start, dur, pitch, text, syllabic, breath, tie_type in ("start", "continue")))
    if not events:
        raise ValueError("no notes in the melody")

    end = max(events[-1].end, as_fraction(part.highestTime) + shift)
    n_bars = max(1, ceil(end / bar))
    marks = sorted((at(r), (r.content or "").strip()) for r in flat.getElementsByClass(expressions.RehearsalMark))
    sections = _sections(marks, bar, n_bars)
    if language is None:
        sung = "".join(e.text or "" for e in events)
        language = "zh" if re.search(r"[\u4e00-\u9fff]", sung) else "en"
    lyrics = _lyric_lines(events, [m[0] for m in marks], sections, bar, beat, language)
    chords = _chords(flat, at, n_bars * bar)
    marks_tempo = list(flat.getElementsByClass(tempo.MetronomeMark))
    bpm = marks_tempo[0].getQuarterBPM() if marks_tempo else None
    bpm = round(min(400.0, max(20.0, float(bpm))), 3) if bpm else 100.0
    md = score.metadata
    title = (md.bestTitle if md is not None else None) or path.stem
    melody = [Note(e.start, e.dur, e.pitch, 90, e.syllable, e.melisma) for e in events]
    return LeadSheet(title=str(title).strip(), key=_key(part, events, chords), meter=met, tempo_bpm=bpm,
                     sections=sections, chords=chords, melody=melody, lyrics=lyrics, language=language)


def _lyric(e) -> tuple[str | None, str | None]:
    if not e.lyrics:
        return None, None
    ly = next((l for l in e.lyrics if str(l.number) == "1"), e.lyrics[0])
    text = (ly.text or "").strip()
    if not text.strip(_PUNCT):
        return None, None
    syllabic = ly.syllabic
    if syllabic is None and text.endswith("-"):
        syllabic = "begin"
    return text, syllabic


def _clean(text: str) -> str:
    return text.strip().strip(_PUNCT)


def _section_kind(label: str) -> str:
    low = label.lower()
    for kind, words in _SECTION_WORDS:
        if any(w in low for w in words):
            return kind
    return "verse"


def _sections(marks: list[tuple[Fraction, str]], bar: Fraction, n_bars: int) -> list[Section]:
    starts: dict[int, str] = {}
    for t, label in marks:
        b = min(int(t // bar), n_bars - 1)
        starts.setdefault(b, label or f"Section {len(starts) + 1}")
    if not starts:
        return [Section("verse", f"Verse {i // 8 + 1}", i, min(8, n_bars - i)) for i in range(0, n_bars, 8)]
    if 0 not in starts:
        starts[0] = "Intro"
    bars = sorted(starts)
    return [Section(_section_kind(starts[b]), starts[b], b, (bars[k + 1] if k + 1 < len(bars) else n_bars) - b)
            for k, b in enumerate(bars)]


def _lyric_lines(events: list[_Event], mark_times: list[Fraction], sections: list[Section],
                 bar: Fraction, beat: Fraction, language: str) -> list[LyricLine]:
    # words, in order, from the syllabic of each sung note
    words: list[_Word] = []
    open_word = False
    for i, e in enumerate(events):
        if e.text is None:
            continue
        if not (open_word and e.syllabic in ("middle", "end")):
            words.append(_Word())
        words[-1].events.append(i)
        open_word = e.syllabic in ("begin", "middle") or (e.syllabic is None and e.text.endswith("-"))
    if not words:
        return []
    phrased = any(e.breath for e in events)

    def hard_break(w: int, rests: bool) -> bool:
        prev_last, first = words[w - 1].events[-1], words[w].events[0]
        if any(events[k].breath for k in range(prev_last, first)):
            return True
        if any(events[prev_last].start < t <= events[first].start for t in mark_times):
            return True
        return rests and any(events[k + 1].start - events[k].end >= beat for k in range(prev_last, first))

    def segments(ws: list[int], rests: bool) -> list[list[int]]:
        out = [[ws[0]]]
        for w in ws[1:]:
            if hard_break(w, rests):
                out.append([])
            out[-1].append(w)
        return out

    lines_w: list[list[int]] = []
    for seg in segments(list(range(len(words))), rests=not phrased):
        if phrased and _n_syl(words, seg) > 2 * MAX_LINE_SYLLABLES:
            subs = segments(seg, rests=True)
        else:
            subs = [seg]
        for sub in subs:
            if phrased and _n_syl(words, sub) <= 2 * MAX_LINE_SYLLABLES:
                lines_w.append(sub)
            else:
                lines_w.extend(_split_phrase(words, sub, events, bar))

    # melisma: a note without lyric right after a sung note (no rest, no breath) holds its syllable
    lines: list[LyricLine] = []
    sep = "" if language == "zh" else " "
    for li, ws in enumerate(lines_w):
        sylls = []
        for k, w in enumerate(ws):
            for j, ei in enumerate(words[w].events):
                events[ei].syllable = (li, len(sylls))
                sylls.append(Syllable(_clean(events[ei].text), word=k, word_start=j == 0))
        first_bar = int(events[words[ws[0]].events[0]].start // bar)
        section = max((i for i, s in enumerate(sections) if s.start_bar <= first_bar), default=0)
        text = sep.join(words[w].text(events) for w in ws).strip()
        lines.append(LyricLine(section, text, tuple(sylls)))
    current = None
    for k, e in enumerate(events):
        if e.syllable is not None:
            current = e.syllable
        elif current is not None and k > 0 and e.start == events[k - 1].end and not events[k - 1].breath \
                and not any(events[k - 1].start < t <= e.start for t in mark_times):
            e.syllable, e.melisma = current, True
        else:
            current = None
    return lines


def _n_syl(words: list[_Word], ws: list[int]) -> int:
    return sum(len(words[w].events) for w in ws)


def _split_phrase(words: list[_Word], ws: list[int], events: list[_Event], bar: Fraction) -> list[list[int]]:
    """Split a run of words into lines of about 6-12 syllables, breaking where a phrase ends:
    after long notes (longer still on a downbeat) and after words that end in punctuation."""
    if _n_syl(words, ws) <= MAX_LINE_SYLLABLES:
        return [ws]

    def gain(k: int) -> float:  # breaking after ws[k]
        last, nxt = events[words[ws[k]].events[-1]], events[words[ws[k + 1]].events[0]]
        punct = 4.0 if words[ws[k]].text(events).rstrip().endswith(_LINE_END_PUNCT) else 0.0
        held = float(nxt.start - last.start) * (1.5 if last.start % bar == 0 else 1.0)
        return held + punct - 3.0

    def cost(n: int) -> float:  # lines of about 9 syllables; 6-12 is the usual range
        return 0.1 * (n - 9) ** 2 + 1.5 * max(0, n - MAX_LINE_SYLLABLES) + max(0, MIN_LINE_SYLLABLES - n)

    n = len(ws)
    best: list[tuple[float, int]] = [(0.0, -1)] + [(float("-inf"), -1)] * n
    for end in range(1, n + 1):
        for start in range(end):
            if best[start][0] == float("-inf"):
                continue
            score = best[start][0] - cost(_n_syl(words, ws[start:end])) + (gain(end - 1) if end < n else 0.0)
            if score > best[end][0]:
                best[end] = (score, start)
    cuts, end = [], n
    while end > 0:
        start = best[end][1]
        cuts.append(ws[start:end])
        end = start
    return cuts[::-1]


def _chords(flat, at, total: Fraction) -> list[Chord]:
    from music21 import harmony

    marks: dict[Fraction, str | None] = {}
    for cs in flat.getElementsByClass(harmony.ChordSymbol):
        t = at(cs)
        if t < total:
            marks[t] = chord_symbol_from_m21(cs)
    times = sorted(marks)
    out = []
    for k, t in enumerate(times):
        if marks[t] is not None:
            out.append(Chord(t, (times[k + 1] if k + 1 < len(times) else total) - t, marks[t]))
    return out


def _key(part, events: list[_Event], chords: list[Chord]) -> Key:
    """The key signature's key when the notes fit it, else the key music21's analysis finds."""
    from music21 import chord as m21chord, key as m21key, note, stream

    weights = [0.0] * 12
    s = stream.Stream()
    for e in events:
        weights[e.pitch % 12] += float(e.dur)
        s.append(note.Note(e.pitch, quarterLength=_ql(e.dur)))
    for c in chords:
        pcs = c.parsed.pitch_classes()
        for pc in pcs:
            weights[pc] += 0.5 * float(c.duration_beats)
        s.append(m21chord.Chord([48 + pc for pc in pcs], quarterLength=_ql(c.duration_beats)))
    total = sum(weights) or 1.0

    def outside(k: Key) -> float:
        scale = set(k.scale_pcs())
        return sum(w for pc, w in enumerate(weights) if pc not in scale) / total

    found = s.analyze("key")
    analysed = Key.parse(f"{_pc_name(found.tonic)} {found.mode if found.mode in ('major', 'minor') else 'major'}")
    sigs = list(part.recurse().getElementsByClass(m21key.KeySignature))
    if not sigs:
        return analysed
    sig = sigs[0]
    mode = sig.mode if isinstance(sig, m21key.Key) and sig.mode in ("major", "minor") else None
    written = Key.parse(f"{_pc_name(sig.asKey(mode or 'major').tonic)} {mode or 'major'}")
    if written == analysed:
        return written
    if mode is None and set(written.scale_pcs()) == set(analysed.scale_pcs()):
        return analysed  # no mode written: major or relative minor as the notes say

    def ends_on_tonic(k: Key) -> bool:  # songs end on their tonic chord (or tonic note)
        if chords:
            last = chords[-1].parsed
            return last.root_pc == k.tonic_pc and last.is_minor == (k.mode == "minor")
        return events[-1].pitch % 12 == k.tonic_pc

    if ends_on_tonic(analysed) and not ends_on_tonic(written) and outside(analysed) <= outside(written) + 0.03:
        return analysed  # a wrong signature, e.g. none written for a song in F
    if outside(written) > outside(analysed) + 0.03 and not ends_on_tonic(written):
        return analysed
    return written
