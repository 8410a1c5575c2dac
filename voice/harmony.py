"""Backing vocals from the lead: a chorus double and a harmony line a third (or sixth) away.

Style tags "harmonies", "backing vocals" or 和声 ask for them in the choruses; "choir" (合唱) asks
for them everywhere. :func:`harmony_scores` returns vocal scores that any Singer sings like the
lead; :func:`harmony_stem` mixes the sung parts into one stereo stem that sits below the lead.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from representations.audio import Audio
from representations.leadsheet import LeadSheet
from representations.music import ChordSymbol
from representations.vocal_score import VocalLine, VocalNote, VocalScore

DOUBLE_OFFSET_S = 0.012  # the double comes in this late (at most 15 ms) ...
DOUBLE_DETUNE_CENTS = 7.0  # ... and this much sharp
HARMONY_VELOCITY_DROP = 8
PARTNER = {"joe": "tenor", "tenor": "joe", "alto": "soprano", "soprano": "alto", "child": "soprano"}
# level (dB, relative to the lead) and pan (-1 left .. 1 right) of each part in the harmony stem
STEM_MIX = {"double": (-8.0, -0.35), "harmony": (-6.0, 0.35)}


def harmony_scores(vocal_score: VocalScore, lead_sheet: LeadSheet, *, everywhere: bool | None = None,
                   lines: set[int] | None = None, above: bool | None = None) -> list[VocalScore]:
    """The backing parts of ``vocal_score``: a chorus double and a harmony line.

    Parameters
    ----------
    vocal_score : VocalScore
        The lead, as :func:`voice.score.vocal_score_from_leadsheet` makes it from ``lead_sheet``.
    lead_sheet : LeadSheet
        Its sections (which lines are choruses), chords, key and style tags.
    everywhere : bool, optional
        Harmonise every section, not only the choruses. Default: when the tags say "choir".
    lines : set of int, optional
        Only these lyric lines' parts (decided as for the whole song: an edit re-sings a line).
    above : bool, optional
        Put the harmony above the lead (else below); default: decided from the whole song's lead.

    Returns
    -------
    list of VocalScore
        Empty when the tags ask for no harmonies or nothing is sung in a chorus; else
        ``[double, harmony]``: the double sings the lead's notes with the partner preset
        (``extras``: ``part="double"``, ``detune_cents``, ``offset_s``), the harmony sings a
        diatonic third above the lead (below when the lead sits high in its range; a sixth where
        the third would leave the singer's range), taking a chord tone a third or sixth away
        where the third clashes with the chord (``extras``: ``part="harmony"``).
    """
    from generators.style import parse_style

    from .presets import PRESETS, resolve_voice

    style = parse_style(lead_sheet.style_tags)
    if everywhere is None:
        everywhere = style.choir
    if not (style.harmonies or everywhere):
        return []
    lead_preset = resolve_voice(None if vocal_score.voice in ("", "default", None) else vocal_score.voice)
    chosen = [n for n in vocal_score.notes if everywhere or _section_kind(lead_sheet, n.line) == "chorus"]
    if not chosen:
        return []
    partner = PRESETS.get(PARTNER.get(lead_preset.name, ""), lead_preset)

    double_notes = [replace(n, start_s=n.start_s + DOUBLE_OFFSET_S) for n in chosen]
    double = VocalScore(double_notes, _lines(vocal_score, double_notes), vocal_score.language, partner.name,
                        vocal_score.duration_s, {"part": "double", "detune_cents": DOUBLE_DETUNE_CENTS,
                                                 "offset_s": DOUBLE_OFFSET_S})
    if above is None:
        above = harmony_above(chosen, lead_preset)
    singer = partner if above == (partner.low > lead_preset.low) else lead_preset
    harmony_notes = []
    for n in chosen:
        pitch = harmony_pitch(n.pitch, _chord_pcs(lead_sheet, n.start_s), lead_sheet.key.scale_pcs(),
                              above=above, low=singer.low, high=singer.high)
        harmony_notes.append(replace(n, pitch=pitch, velocity=max(1, n.velocity - HARMONY_VELOCITY_DROP)))
    harmony = VocalScore(harmony_notes, _lines(vocal_score, harmony_notes), vocal_score.language, singer.name,
                         vocal_score.duration_s, {"part": "harmony", "above": above})
    if lines is not None:
        double, harmony = (replace(p, notes=[n for n in p.notes if n.line in lines]) for p in (double, harmony))
    return [double, harmony]


def harmony_above(chosen: list[VocalNote], lead_preset) -> bool:
    """Whether the harmony goes above the lead's ``chosen`` notes: unless they sit high in the
    lead voice's range."""
    pitches = sorted(n.pitch for n in chosen)
    return pitches[len(pitches) // 2] + 4 <= (lead_preset.low + lead_preset.high) / 2 + 4


def harmony_pitch(lead: int, chord_pcs: tuple[int, ...], scale_pcs: tuple[int, ...], *, above: bool,
                  low: int = 0, high: int = 127) -> int:
    """The harmony note (MIDI) for one lead note: a diatonic third above (or below).

    Where that third clashes with the chord (it is not a chord tone and lies a semitone from
    one), the nearest chord tone of the key a third or sixth away in the same direction is
    taken instead. A note that leaves ``[low, high]`` moves an octave towards it (a third
    above becomes a sixth below), as long as it stays a third or sixth from the lead.
    """
    sign = 1 if above else -1
    third = _diatonic(lead, 2 * sign, scale_pcs)
    pitch = third
    if chord_pcs and _clashes(third % 12, chord_pcs):
        options = [lead + sign * i for i in (3, 4, 8, 9)]
        tones = [p for p in options if p % 12 in chord_pcs and p % 12 in scale_pcs]
        if tones:
            pitch = min(tones, key=lambda p: abs(p - lead))
    if pitch > high and pitch - 12 >= 0 and abs(pitch - 12 - lead) % 12 in (3, 4, 8, 9):
        pitch -= 12
    elif pitch < low and pitch + 12 <= 127 and abs(pitch + 12 - lead) % 12 in (3, 4, 8, 9):
        pitch += 12
    return int(min(127, max(0, pitch)))


def harmony_stem(parts: list[tuple[VocalScore, Audio]]) -> Audio:
    """The sung backing parts in one stereo stem, levels and pans from ``STEM_MIX``.

    Parameters
    ----------
    parts : list of (VocalScore, Audio)
        Each part's score (its ``extras["part"]`` picks the level and pan) and its sung mono
        audio, all at one sample rate.

    Returns
    -------
    Audio
        Stereo, as long as the longest part; levels are relative to the lead as sung (mix this
        stem at the lead vocal's gain).
    """
    if not parts:
        raise ValueError("harmony_stem needs at least one sung part")
    rate = parts[0][1].sample_rate
    n = max(a.samples.shape[0] for _, a in parts)
    out = np.zeros((n, 2), dtype=np.float64)
    for score, audio in parts:
        if audio.sample_rate != rate:
            raise ValueError(f"harmony parts at {audio.sample_rate} and {rate} Hz (valid: one sample rate)")
        level_db, pan = STEM_MIX.get(score.extras.get("part", ""), (-8.0, 0.0))
        gain = 10 ** (level_db / 20)
        left, right = np.cos((pan + 1) * np.pi / 4), np.sin((pan + 1) * np.pi / 4)  # constant power
        m = audio.mono().astype(np.float64)
        out[: len(m), 0] += gain * left * np.sqrt(2) * m
        out[: len(m), 1] += gain * right * np.sqrt(2) * m
    return Audio(np.clip(out, -1.0, 1.0).astype(np.float32), rate)


def _diatonic(pitch: int, steps: int, scale_pcs: tuple[int, ...]) -> int:
    """``pitch`` moved ``steps`` scale degrees (a chromatic pitch counts from the scale tone below)."""
    scale = sorted(scale_pcs)
    base = pitch
    while base % 12 not in scale:
        base -= 1
    octave, idx = divmod(base, 12)
    k = scale.index(idx) + steps
    return octave * 12 + 12 * (k // len(scale)) + scale[k % len(scale)] + (pitch - base)


def _clashes(pc: int, chord_pcs: tuple[int, ...]) -> bool:
    return pc not in chord_pcs and any((pc - c) % 12 in (1, 11) for c in chord_pcs)


def _section_kind(lead_sheet: LeadSheet, line: int) -> str:
    if not 0 <= line < len(lead_sheet.lyrics):
        return ""
    section = lead_sheet.lyrics[line].section
    return lead_sheet.sections[section].kind if 0 <= section < len(lead_sheet.sections) else ""


def _chord_pcs(lead_sheet: LeadSheet, start_s: float) -> tuple[int, ...]:
    from fractions import Fraction

    beats = Fraction(start_s * lead_sheet.tempo_bpm / 60.0).limit_denominator(960)
    chord = lead_sheet.chord_at(beats)
    return ChordSymbol.parse(chord.symbol).pitch_classes() if chord is not None else ()


def _lines(score: VocalScore, notes: list[VocalNote]) -> list[VocalLine]:
    spans: dict[int, tuple[float, float]] = {}
    for n in notes:
        a, b = spans.get(n.line, (n.start_s, n.end_s))
        spans[n.line] = (min(a, n.start_s), max(b, n.end_s))
    text = {l.index: l.text for l in score.lines}
    return [VocalLine(i, text.get(i, ""), a, b) for i, (a, b) in sorted(spans.items())]
