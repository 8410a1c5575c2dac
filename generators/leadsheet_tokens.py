"""A REMI-like token form of the lead sheet, for language-model planners.

A song is a prompt and a body::

    BOS KEY_G_major METER_4_4 TEMPO_96 GENRE_pop
    SECTION_verse BAR CHORD_G_maj LINE SYL POS_0 PITCH_67 DUR_4 SYL POS_4 PITCH_69 DUR_2 ...
    BAR CHORD_C_maj POS_0 PITCH_67 DUR_8 ... SECTION_chorus BAR ... EOS

Positions (``POS_p``) count sixteenth notes from the bar start, durations (``DUR_d``)
sixteenths (a note may last into the next bar, whose notes then start after it); ``PITCH_m``
is a MIDI number. ``LINE`` opens the next lyric line, ``SYL`` marks a note that starts the
next syllable; a note without ``SYL`` inside a line continues the previous syllable (a
melisma), outside any line it is an instrumental note. Each bar carries one chord,
``CHORD_<root>_<quality>``. The prompt's tokens condition the model; the body is what it writes.

:func:`encode` turns a :class:`LeadSheet` into tokens (chords are read at each bar start, notes
snapped to the sixteenth grid and cut after the next bar line); :func:`decode` parses tokens
back, linking notes to the given lyric lines, and raises ``ValueError`` naming the first bad token.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Sequence

from representations.leadsheet import SECTION_KINDS, Chord, LeadSheet, LyricLine, Note, Section
from representations.music import NOTE_NAMES, Key, Meter, pitch_class

from .style import GENRES

SLOT_BEATS = Fraction(1, 4)  # one position = a sixteenth note
MAX_SLOTS = 24  # sixteenths in the longest bar (12/8)
PITCHES = range(21, 109)
TEMPO_STEP = 2
TEMPI = range(30, 301, TEMPO_STEP)
METERS = ((2, 4), (3, 4), (4, 4), (6, 8), (12, 8))
# token quality -> chord-symbol suffix
QUALITIES = {"maj": "", "min": "m", "7": "7", "maj7": "maj7", "min7": "m7", "dim": "dim", "sus2": "sus2",
             "sus4": "sus4"}
# chord-symbol suffix -> token quality (the nearest one for suffixes without a token of their own)
_SUFFIX_QUALITY = {"": "maj", "maj": "maj", "6": "maj", "add9": "maj", "aug": "maj", "+": "maj", "5": "maj",
                   "m": "min", "min": "min", "-": "min", "m6": "min", "madd9": "min", "7": "7", "9": "7",
                   "maj7": "maj7", "M7": "maj7", "maj9": "maj7", "m7": "min7", "min7": "min7", "m9": "min7",
                   "dim": "dim", "dim7": "dim", "m7b5": "dim", "sus2": "sus2", "sus4": "sus4", "sus": "sus4",
                   "7sus4": "sus4"}
_VELOCITY = {"verse": 84, "pre-chorus": 88, "chorus": 96, "bridge": 90}


class Vocab:
    """The fixed token vocabulary: ``tokens[i]`` is the text of id ``i``."""

    def __init__(self, tokens: Sequence[str]):
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise ValueError("duplicate tokens in the vocabulary")

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, token: str) -> int:
        try:
            return self.index[token]
        except KeyError:
            raise ValueError(f"{token!r} is not a lead-sheet token") from None

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self[t] for t in tokens]

    def texts(self, ids: Sequence[int]) -> list[str]:
        return [self.tokens[i] for i in ids]


def _build() -> Vocab:
    toks = ["PAD", "BOS", "EOS", "LINE", "BAR", "SYL"]
    toks += [f"SECTION_{k}" for k in SECTION_KINDS]
    toks += [f"KEY_{n}_{m}" for m in ("major", "minor") for n in NOTE_NAMES]
    toks += [f"METER_{a}_{b}" for a, b in METERS]
    toks += [f"TEMPO_{t}" for t in TEMPI]
    toks += [f"GENRE_{g}" for g in GENRES]
    toks += [f"CHORD_{r}_{q}" for r in NOTE_NAMES for q in QUALITIES]
    toks += [f"POS_{p}" for p in range(MAX_SLOTS)]
    toks += [f"DUR_{d}" for d in range(1, MAX_SLOTS + 1)]
    toks += [f"PITCH_{m}" for m in PITCHES]
    return Vocab(toks)


VOCAB = _build()


def slots_per_bar(meter: Meter) -> int:
    return int(meter.bar_beats / SLOT_BEATS)


def chord_token(symbol: str) -> str:
    """``"Am7"`` -> ``"CHORD_A_min7"`` (a bass note is dropped; rarer qualities map to the nearest)."""
    m = re.fullmatch(r"([A-G][#b]?)([^/]*)(?:/.*)?", symbol.strip())
    if not m or m.group(2) not in _SUFFIX_QUALITY:
        raise ValueError(f"chord symbol {symbol!r} has no token (valid: root A-G with #/b and a known quality)")
    return f"CHORD_{NOTE_NAMES[pitch_class(m.group(1))]}_{_SUFFIX_QUALITY[m.group(2)]}"


def chord_symbol(token: str) -> str:
    """``"CHORD_A_min7"`` -> ``"Am7"``."""
    _, root, quality = token.split("_", 2)
    return root + QUALITIES[quality]


def tempo_token(tempo_bpm: float) -> str:
    t = min(TEMPI[-1], max(TEMPI[0], TEMPO_STEP * round(tempo_bpm / TEMPO_STEP)))
    return f"TEMPO_{t}"


def prompt_tokens(key: Key, meter: Meter, tempo_bpm: float, genre: str | None = None) -> list[str]:
    """The conditioning prefix: ``BOS KEY METER TEMPO [GENRE]``."""
    if (meter.numerator, meter.denominator) not in METERS:
        raise ValueError(f"meter {meter} has no token (valid: {', '.join(f'{a}/{b}' for a, b in METERS)})")
    out = ["BOS", f"KEY_{NOTE_NAMES[key.tonic_pc]}_{key.mode}", f"METER_{meter.numerator}_{meter.denominator}",
           tempo_token(tempo_bpm)]
    if genre:
        out.append(f"GENRE_{genre if genre in GENRES else 'pop'}")
    return out


def encode(sheet: LeadSheet, *, genre: str | None = None) -> list[str]:
    """Tokens of ``sheet``: the prompt, then bar by bar its chords and notes, then ``EOS``."""
    S = slots_per_bar(sheet.meter)
    out = prompt_tokens(sheet.key, sheet.meter, sheet.tempo_bpm, genre)
    starts = {s.start_bar: s for s in sheet.sections}
    opened, line_openers = set(), set()  # ids of the notes that open a lyric line
    for n in sheet.melody:
        if n.syllable is not None and n.syllable[0] not in opened:
            opened.add(n.syllable[0])
            line_openers.add(id(n))
    by_bar: dict[int, list[Note]] = {}
    for n in sheet.melody:
        by_bar.setdefault(int(n.start_beats // sheet.meter.bar_beats), []).append(n)
    pos = 0
    tonic = NOTE_NAMES[sheet.key.tonic_pc] + ("" if sheet.key.mode == "major" else "m")
    chord = sheet.chords[0].symbol if sheet.chords else tonic
    for bar in range(sheet.n_bars):
        if bar in starts:
            out.append(f"SECTION_{starts[bar].kind}")
        out.append("BAR")
        here = sheet.chord_at(sheet.bar_start_beats(bar))
        chord = here.symbol if here is not None else chord
        out.append(chord_token(chord))
        pos = max(0, pos - S)  # a note tied over the bar line fills the start of this one
        last = bar == sheet.n_bars - 1
        for n in by_bar.get(bar, []):
            p = round((n.start_beats - sheet.bar_start_beats(bar)) / SLOT_BEATS)
            if p < pos or p >= S:
                continue  # overlaps the previous note after snapping
            d = max(1, min((S if last else 2 * S) - p, MAX_SLOTS, round(n.duration_beats / SLOT_BEATS)))
            if id(n) in line_openers:
                out.append("LINE")
            if n.syllable is not None and not n.melisma:
                out.append("SYL")
            out += [f"POS_{p}", f"PITCH_{min(PITCHES[-1], max(PITCHES[0], n.pitch))}", f"DUR_{d}"]
            pos = p + d
    out.append("EOS")
    return out


def decode(tokens: Sequence[str], *, lines: Sequence[LyricLine] = (), title: str = "Untitled",
           tempo_bpm: float | None = None, labels: Sequence[str] | None = None, style_tags: Sequence[str] = (),
           language: str = "en") -> LeadSheet:
    """Parse ``tokens`` (texts) into a lead sheet whose sung notes carry the syllables of ``lines``.

    Key and meter come from the prompt, the tempo too unless ``tempo_bpm`` is given; ``labels``
    name the sections (default: the kind, numbered when it repeats).

    Raises
    ------
    ValueError
        At the first token that breaks the grammar, or when the sung notes do not match the
        syllables of ``lines`` one to one.
    """
    toks = list(tokens)
    i = 0

    def fail(expected: str):
        got = repr(toks[i]) if i < len(toks) else "the end"
        raise ValueError(f"lead-sheet token {i}: expected {expected}, got {got}")

    def take(prefix: str, expected: str) -> str:
        nonlocal i
        if i >= len(toks) or not toks[i].startswith(prefix):
            fail(expected)
        i += 1
        return toks[i - 1]

    if i < len(toks) and toks[i] == "BOS":
        i += 1
    _, tonic, mode = take("KEY_", "KEY_<tonic>_<mode>").split("_")
    _, num, den = take("METER_", "METER_<n>_<d>").split("_")
    tempo_tok = float(take("TEMPO_", "TEMPO_<bpm>").split("_")[1])
    if i < len(toks) and toks[i].startswith("GENRE_"):
        i += 1
    key, meter = Key(tonic, mode), Meter(int(num), int(den))
    bar_beats, S = meter.bar_beats, slots_per_bar(meter)
    sections, chords, melody = [], [], []
    new_lines: list[LyricLine] = []
    bar, line, syl, pos = -1, -1, -1, 0
    kinds_seen: dict[str, int] = {}
    while True:
        if i >= len(toks):
            fail("SECTION_<kind>, BAR, LINE, SYL, POS_<p> or EOS")
        t = toks[i]
        if t == "EOS":
            if pos > S:
                fail("a note that ends within the last bar before EOS")
            break
        if t.startswith("SECTION_"):
            kind = t[len("SECTION_"):]
            if kind not in SECTION_KINDS:
                fail(f"SECTION_ with one of {', '.join(SECTION_KINDS)}")
            kinds_seen[kind] = kinds_seen.get(kind, 0) + 1
            label = (labels[len(sections)] if labels is not None and len(sections) < len(labels)
                     else kind.title() + (f" {kinds_seen[kind]}" if kinds_seen[kind] > 1 else ""))
            sections.append([kind, label, bar + 1, 0])
            i += 1
            if i >= len(toks) or toks[i] != "BAR":
                fail("BAR after a SECTION token")
            continue
        if t == "BAR":
            if not sections:
                fail("SECTION_<kind> before the first BAR")
            bar, pos = bar + 1, max(0, pos - S)
            sections[-1][3] += 1
            i += 1
            sym = chord_symbol(take("CHORD_", "CHORD_<root>_<quality> after BAR"))
            chords.append(Chord(bar * bar_beats, bar_beats, sym))
            continue
        if bar < 0:
            fail("SECTION_<kind> BAR before any note")
        if t == "LINE":
            line, syl = line + 1, -1
            if line >= len(lines):
                fail(f"no more LINE tokens (the lyrics have {len(lines)} lines)")
            new_lines.append(LyricLine(len(sections) - 1, lines[line].text, lines[line].syllables))
            i += 1
            continue
        sung = t == "SYL"
        if sung:
            if line < 0 or syl + 1 >= len(lines[line].syllables):
                n = len(lines[line].syllables) if line >= 0 else 0
                fail(f"no more SYL in lyric line {line + 1} ({n} syllables)" if line >= 0 else "LINE before SYL")
            syl += 1
            i += 1
        p = int(take("POS_", "POS_<p>")[4:])
        if p < pos or p >= S:
            i -= 1
            fail(f"a position from {pos} to {S - 1}")
        m = int(take("PITCH_", "PITCH_<midi>")[6:])
        d = int(take("DUR_", "DUR_<sixteenths>")[4:])
        if p + d > 2 * S:
            i -= 1
            fail(f"a duration of at most {2 * S - p} (a note may last into the next bar only)")
        pos = p + d
        kind = sections[-1][0]
        link = (line, syl) if line >= 0 and syl >= 0 else None
        velocity = _VELOCITY.get(kind, 86) - (0 if sung else 4)
        melody.append(Note(bar * bar_beats + p * SLOT_BEATS, d * SLOT_BEATS, m, velocity, link,
                           melisma=link is not None and not sung))
    for li, l in enumerate(new_lines):
        n_sung = sum(1 for n in melody if n.syllable is not None and n.syllable[0] == li and not n.melisma)
        if n_sung != len(l.syllables):
            raise ValueError(f"lead-sheet tokens: lyric line {li + 1} has {len(l.syllables)} syllables but "
                             f"{n_sung} SYL notes")
    if len(new_lines) != len(lines):
        raise ValueError(f"lead-sheet tokens: {len(new_lines)} LINE tokens for {len(lines)} lyric lines")
    return LeadSheet(
        title=title, key=key, meter=meter, tempo_bpm=float(tempo_bpm if tempo_bpm is not None else tempo_tok),
        sections=[Section(k, lab, start, n) for k, lab, start, n in sections], chords=chords, melody=melody,
        lyrics=new_lines, style_tags=list(style_tags), language=language)
