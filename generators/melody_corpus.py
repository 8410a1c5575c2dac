"""Reading melodies out of the corpus that ships with music21, for the learned melody model.

Four collections, each read with music21 (nothing is downloaded):

- ``essen``: the Essen folk song collection, 32 ABC files under ``corpus/essenFolksong`` (opened
  directly: ``corpus.search`` does not index them). Each ABC line is one phrase.
- ``oneills``: O'Neill's Music of Ireland (1850), ABC.
- ``ryans``: Ryan's Mammoth Collection, ABC (one tune per file).
- ``bach``: the Bach chorales (MusicXML); the soprano is the melody, fermatas end phrases and
  the other voices are kept as harmony.

ABC is read at music21's token level (:class:`music21.abcFormat.ABCHandler`), which is about a
hundred times faster than building streams. A :class:`RawTune` keeps what was written: notes in
quarter lengths, the bar lines and the phrase ends the source marks. :mod:`generators.melody_data`
normalises it into tokens.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

COLLECTIONS = {"essen": "essenFolksong", "oneills": "oneills1850", "ryans": "ryansMammoth", "bach": "bach"}
_NOTE_CHARS = re.compile(r'"[^"]*"|![^!]*!|\+[^+]*\+|\[[A-Za-z]:[^\]]*\]|([A-Ga-gz])')
_MIDI_CACHE: dict[str, int] = {}


@dataclass
class RawTune:
    """One melody as written.

    ``notes`` are ``(onset_ql, duration_ql, midi or None for a rest)``; ``bars`` the onsets
    (quarter lengths) of bar lines after the start; ``phrase_ends`` indices into ``notes`` of notes
    the source marks as ending a phrase; ``harmony`` other voices' ``(onset_ql, duration_ql, midi)``;
    ``tonic_hint`` a pitch class the source gives as tonic (or None).
    """

    id: str
    source: str
    meter: tuple[int, int]
    notes: list[tuple[Fraction, Fraction, int | None]] = field(default_factory=list)
    bars: list[Fraction] = field(default_factory=list)
    phrase_ends: set[int] = field(default_factory=set)
    section_ends: set[int] = field(default_factory=set)
    harmony: list[tuple[Fraction, Fraction, int]] = field(default_factory=list)
    tonic_hint: int | None = None


def corpus_root() -> Path:
    """The music21 corpus folder."""
    import music21

    return Path(music21.__file__).parent / "corpus"


def corpus_files(collections=tuple(COLLECTIONS)) -> list[tuple[str, Path]]:
    """``(collection, file)`` for every file to read, in a fixed order."""
    root = corpus_root()
    out = []
    for name in collections:
        folder = root / COLLECTIONS[name]
        pattern = "*.mxl" if name == "bach" else "*.abc"
        out += [(name, p) for p in sorted(folder.glob(pattern))]
    return out


def _midi(name: str) -> int:
    if name not in _MIDI_CACHE:
        from music21 import pitch

        _MIDI_CACHE[name] = int(pitch.Pitch(name).midi)
    return _MIDI_CACHE[name]


def _split_tunes(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The file header and ``(reference number, tune text)`` per ``X:`` field."""
    parts = re.split(r"^(?=X:)", text, flags=re.M)
    header = "" if parts[0].startswith("X:") else parts.pop(0)
    header = "\n".join(ln for ln in header.splitlines() if re.match(r"^[LMK]:", ln))
    return header, [(re.match(r"X:\s*(\S*)", p).group(1), p) for p in parts if p.startswith("X:")]


def _line_note_counts(tune_text: str) -> list[int]:
    """Notes and rests written on each music line of an ABC tune (header lines excluded)."""
    counts = []
    for ln in tune_text.splitlines():
        if not ln.strip() or re.match(r"^[A-Za-z]:", ln) or ln.startswith("%"):
            continue
        counts.append(sum(1 for m in _NOTE_CHARS.finditer(ln.split("%")[0]) if m.group(1)))
    return counts


def _abc_tune(handler, tune_id: str, source: str, line_counts: list[int] | None) -> RawTune | None:
    from music21 import abcFormat

    meter, t = None, Fraction(0)
    tune = RawTune(tune_id, source, (4, 4))
    last_tie = False
    n_tokens = 0  # notes and rests as written (for the line-to-phrase mapping)
    token_to_note: list[int] = []
    for tok in handler.tokens:
        if isinstance(tok, abcFormat.ABCMetadata):
            if tok.isMeter():
                params = tok.getTimeSignatureParameters()
                if params is None or (meter is not None and params[:2] != meter):
                    return None  # free or changing meter
                meter = params[:2]
            continue
        if isinstance(tok, abcFormat.ABCBar):
            if tune.bars and tune.bars[-1] == t:
                continue
            tune.bars.append(t)
            if any(c in tok.src for c in ":]") or "||" in tok.src:
                if tune.notes:
                    tune.section_ends.add(len(tune.notes) - 1)
            continue
        if not isinstance(tok, abcFormat.ABCNote) or tok.inGrace:
            continue
        n_tokens += 1
        ql = Fraction(tok.quarterLength).limit_denominator(64)
        if tok.activeTuplet is not None:
            ql *= Fraction(tok.activeTuplet.tupletMultiplier()).limit_denominator(64)
        if ql <= 0:
            token_to_note.append(len(tune.notes) - 1)
            continue
        if isinstance(tok, abcFormat.ABCChord):
            subs = [s.pitchName for s in tok.subTokens if getattr(s, "pitchName", None)]
            midi = max(_midi(p) for p in subs) if subs else None
        else:
            midi = None if tok.isRest else _midi(tok.pitchName)
        if last_tie and tune.notes and tune.notes[-1][2] == midi and midi is not None:
            on, d, m = tune.notes[-1]
            tune.notes[-1] = (on, d + ql, m)
        else:
            tune.notes.append((t, ql, midi))
        token_to_note.append(len(tune.notes) - 1)
        last_tie = tok.tie in ("start", "continue")
        t += ql
    if meter is None or not tune.notes:
        return None
    tune.meter = meter
    if line_counts and sum(line_counts) == n_tokens:
        k = 0
        for c in line_counts:
            k += c
            j = token_to_note[k - 1] if c else -1
            while j >= 0 and tune.notes[j][2] is None:
                j -= 1
            if j >= 0:
                tune.phrase_ends.add(j)
    return tune


def read_abc_file(collection: str, path: Path) -> list[RawTune]:
    """Every tune of one ABC file (tunes music21 cannot read are left out)."""
    from music21 import abcFormat

    text = path.read_text(encoding="latin-1")
    header, tunes = _split_tunes(text)
    out = []
    for ref, body in tunes:
        handler = abcFormat.ABCHandler(abcVersion=(2, 1, 0))  # accidentals last to the bar line
        try:
            handler.process(f"{header}\n{body}" if header else body)
            counts = _line_note_counts(body) if collection == "essen" else None
            tune = _abc_tune(handler, f"{collection}/{path.stem}#{ref}", collection, counts)
        except Exception:  # music21 raises many types on malformed ABC
            tune = None
        if tune is not None:
            out.append(tune)
    return out


def read_bach_file(path: Path) -> list[RawTune]:
    """The soprano of one Bach chorale, with fermatas as phrase ends and the lower voices as harmony."""
    from music21 import converter, expressions, meter

    try:
        score = converter.parse(path)
    except Exception:  # a file music21 cannot read is left out
        return []
    parts = list(score.parts)
    if len(parts) < 4:
        return []
    names = [(p.partName or "").lower() for p in parts]
    sop = next((p for p, n in zip(parts, names) if n.startswith("sop")), parts[0])
    bass = next((p for p, n in zip(parts, names) if n.startswith("bass")), parts[-1])
    sigs = list(sop.recurse().getElementsByClass(meter.TimeSignature))
    if not sigs or len({(s.numerator, s.denominator) for s in sigs}) != 1:
        return []
    tune = RawTune(f"bach/{path.stem}", "bach", (sigs[0].numerator, sigs[0].denominator))
    measures = list(sop.getElementsByClass("Measure"))
    tune.bars = sorted({Fraction(m.offset).limit_denominator(64) for m in measures} - {Fraction(0)})
    for n in sop.stripTies().flatten().notesAndRests:
        if n.duration.isGrace:
            continue
        midi = None if n.isRest else int(max(p.midi for p in n.pitches))
        tune.notes.append((Fraction(n.offset).limit_denominator(64),
                           Fraction(n.quarterLength).limit_denominator(64), midi))
        if midi is not None and any(isinstance(e, expressions.Fermata) for e in n.expressions):
            tune.phrase_ends.add(len(tune.notes) - 1)
    for p in parts:
        if p is sop:
            continue
        for n in p.flatten().notes:
            for pt in n.pitches:
                tune.harmony.append((Fraction(n.offset).limit_denominator(64),
                                     Fraction(n.quarterLength).limit_denominator(64), int(pt.midi)))
    bass_notes = list(bass.flatten().notes)
    if bass_notes:
        tune.tonic_hint = int(min(p.midi for p in bass_notes[-1].pitches)) % 12
    return [tune] if tune.notes else []


def _grid_shifts(bars: list[int], bar: int) -> tuple[list[tuple[int, int]], int] | None:
    """``(from_tick, shift)`` steps that put the written bar lines on a grid of ``bar`` ticks,
    and the number of realignments after the first bar (a pickup is not one)."""
    steps, shift, realigned = [(0, 0)], 0, 0
    for i, b in enumerate(bars):
        pos = (b + shift) % bar
        if pos == 0:
            continue
        if i == 0 and b < bar:  # a pickup
            shift += bar - pos
            steps[0] = (0, shift)
            continue
        if i + 1 < len(bars) and (bars[i + 1] + shift) % bar == 0:
            continue  # a bar split in two (a section's last bar and the next one's pickup)
        shift += bar - pos
        steps.append((b, shift))
        realigned += i + 1 < len(bars)
    return steps, realigned


def _phrase_ends(notes: list[list], marked: bool, q: int) -> set[int]:
    """Indices (into the sounding notes) that end phrases of 4 to 32 notes."""
    sounding = [n for n in notes if n[2] is not None]
    if marked:
        ends = {i for i, n in enumerate(sounding) if n[3]}
    else:
        med = statistics.median(n[1] for n in sounding)
        ends = set()
        for i, n in enumerate(sounding[:-1]):
            gap = sounding[i + 1][0] - (n[0] + n[1])
            if gap >= q // 2 or n[4] or (n[1] >= max(2 * med, q) and gap >= 0):
                ends.add(i)
    ends.add(len(sounding) - 1)
    kept, last = [], -1
    for i in sorted(ends):
        if i - last >= 4 or i == len(sounding) - 1:
            if i - last < 4 and kept:
                kept.pop()
            kept.append(i)
            last = i
    out, start = [], 0
    for e in kept:
        stack = [(start, e)]
        while stack:
            a, b = stack.pop()
            if b - a + 1 <= 32:
                out.append(b)
                continue
            mid = (a + b) // 2
            cut = min(range(a + 4, b - 3), key=lambda k: (sounding[k][5] != 0, abs(k - mid)))
            stack += [(cut, b), (a, cut - 1)]
        start = e + 1
    return set(out)


def normalise(raw: RawTune):
    """The :class:`generators.melody_data.Tune` of ``raw``: on a bar grid, in ticks, key-normalised,
    with chords and phrase ends; None for a tune that is irregular, too short or out of range."""
    from .melody_data import (PITCH_RANGE, TICKS_PER_QUARTER as Q, Tune, TuneNote, chord_region_ticks,
                              estimate_key, fit_chords)

    num, den = raw.meter
    if den not in (2, 4, 8, 16) or not 1 <= num <= 16:
        return None
    bar, meter = num * 4 * Q // den, f"{num}/{den}"
    steps, realigned = _grid_shifts([round(b * Q) for b in raw.bars], bar)
    if realigned > 2:
        return None

    def grid(x: Fraction) -> int:
        t = round(x * Q)
        return t + next(s for start, s in reversed(steps) if t >= start)

    notes = []  # [onset, dur, midi, marked end, section end, position in bar]
    for i, (on, dur, midi) in enumerate(raw.notes):
        a, b = grid(on), grid(on + dur)
        if b <= a:
            continue
        if midi is None and notes and notes[-1][2] is None:
            notes[-1][1] = b - notes[-1][0]
            continue
        notes.append([a, b - a, midi, i in raw.phrase_ends, i in raw.section_ends, a % bar])
    while notes and notes[0][2] is None:
        notes.pop(0)
    while notes and notes[-1][2] is None:
        notes.pop()
    sounding = [n for n in notes if n[2] is not None]
    if len(sounding) < 8:
        return None
    hist = [0.0] * 12
    for n in sounding:
        hist[n[2] % 12] += n[1]
    tonic, mode = estimate_key(hist, raw.tonic_hint if raw.tonic_hint is not None else sounding[-1][2] % 12)
    octave = 12 * (int(statistics.median(n[2] - tonic for n in sounding)) // 12)
    if not all(PITCH_RANGE[0] <= n[2] - tonic - octave <= PITCH_RANGE[1] for n in sounding):
        return None
    ends = _phrase_ends(notes, sum(n[3] for n in sounding) >= 2, Q)
    region = chord_region_ticks(meter)
    material = [(n[0], n[1], n[2] - tonic) for n in sounding]
    material += [(grid(on), grid(on + d) - grid(on), m - tonic) for on, d, m in raw.harmony]
    total = max(n[0] + n[1] for n in notes)
    chords = fit_chords([m for m in material if m[1] > 0], mode=mode, region=region, n_regions=total // region + 1)
    out, k = [], 0
    for n in notes:
        if n[2] is None:
            out.append(TuneNote(n[0], n[1], None))
            continue
        out.append(TuneNote(n[0], n[1], n[2] - tonic - octave, chords[n[0] // region], k in ends))
        k += 1
    return Tune(raw.id, raw.source, mode, meter, tuple(out))


def read_file(item: tuple[str, str]) -> list[RawTune]:
    """The tunes of one ``(collection, path)`` pair (a picklable task for a process pool)."""
    collection, path = item
    path = Path(path)
    return read_bach_file(path) if collection == "bach" else read_abc_file(collection, path)


__all__ = ["COLLECTIONS", "RawTune", "corpus_files", "corpus_root", "normalise", "read_file", "read_abc_file", "read_bach_file"]
