"""The default planner: a rule-based Lyrics2Leadsheet, with no model weights.

Form from the lyric tags (:mod:`generators.form`), syllables from the lyrics
(:mod:`generators.lyrics`), a stress-aware rhythm per line (:mod:`generators.rhythm`), chords
by genre and mood (:mod:`generators.harmony`) and a melody over them (:mod:`generators.melody`),
in a key and octave that fit the voice. Same spec and seed, same lead sheet.
"""

from __future__ import annotations

import random
import re
from fractions import Fraction

from representations.leadsheet import Chord, LeadSheet, LyricLine, Note, Section
from representations.music import ChordSymbol, Key, Meter
from voice.presets import VoicePreset, resolve_voice

from .base import PLANNERS, Planner
from .form import FormSection, Phrase, fit_duration, sections_from_lyrics
from .harmony import cadence, choose_progressions, roman_to_symbol, section_numerals
from .melody import HARD, Scale, contour_targets, phrase_degrees
from .rhythm import line_rhythm, stable_rng, stress_timed
from .style import Style, parse_style, tag_list

# where the melody writer's notes lie around the tonic (pop, waltz and ballad examples, 5 presets,
# 6 seeds): lowest note the tonic, median 7 semitones above it (5-9), highest 12 (9-14)
PLAN_DEGREES = (0, 8)  # the melody's ambitus in scale degrees above the tonic
MELODY_CENTRE_ST = 7  # the melody's median, in semitones above the tonic
CENTRE_SLACK_ST = 2  # keys whose melody centres this close to the nearest are candidates
COMMON_TONICS = {"major": ("C", "D", "Eb", "E", "F", "G", "A", "Bb"), "minor": ("A", "E", "D", "B", "C", "G", "F#")}
LEAD_RANGE = VoicePreset("lead", "instrument", 60, 81, description="a lead instrument's melody range")
_VELOCITY = {"verse": 84, "pre-chorus": 88, "chorus": 96, "bridge": 90}


def infer_meter(spec, style: Style) -> Meter:
    """The spec's meter, else 3/4 for a waltz (named anywhere in the tags) and 4/4 otherwise."""
    if spec.meter_obj() is not None:
        return spec.meter_obj()
    waltz = style.genre == "waltz" or any(re.search(r"waltz|华尔兹|圆舞曲", t, re.I) for t in tag_list(spec.tags))
    return Meter(3, 4) if waltz else Meter(4, 4)


def infer_tempo(spec, style: Style) -> float:
    """The spec's tempo (BPM), else the style's default (an explicit "92 BPM" tag wins)."""
    bpm = float(spec.tempo) if spec.tempo else style.default_tempo()
    return float(min(300.0, max(30.0, bpm)))


def infer_mode(spec, style: Style) -> str:
    """``"minor"`` for sad or dark moods (or a minor key in the spec), else ``"major"``."""
    key = spec.key_obj()
    if key is not None:
        return key.mode
    if style.minor is None:
        return "minor" if style.genre in ("hiphop", "cinematic") else "major"
    return "minor" if style.minor else "major"


def choose_key(given: Key | None, mode: str, voice: VoicePreset, *, rng: random.Random) -> Scale:
    """A key (the given one's tonic, or a common one) and an octave that fit the voice.

    The melody's ambitus (``PLAN_DEGREES`` above the tonic) must lie within the voice's range.
    Among keys that fit, those whose melody centres (``MELODY_CENTRE_ST`` above the tonic)
    nearest the voice's ``centre`` (within ``CENTRE_SLACK_ST`` of the nearest) are candidates,
    and one is picked at random; with no centre, any key that fits is. A given key takes the
    octave whose melody centres nearest (then the one with most room). If none fits, the one
    that overshoots least.
    """
    tonics = [given.tonic] if given is not None else list(COMMON_TONICS[mode])
    options = []
    for name in tonics:
        key = Key(name, mode)
        for octave in range(2, 7):
            scale = Scale(key, 12 * (octave + 1) + key.tonic_pc)
            lo, hi = scale.pitch(PLAN_DEGREES[0]), scale.pitch(PLAN_DEGREES[1])
            margin = min(lo - voice.low, voice.high - hi)
            off_centre = abs(scale.tonic_midi + MELODY_CENTRE_ST - voice.centre) if voice.centre is not None else 0
            options.append((margin, off_centre, name, octave, scale))
    fitting = [o for o in options if o[0] >= 0]
    if fitting:
        nearest = min(o[1] for o in fitting)
        fitting = [o for o in fitting if o[1] <= nearest + CENTRE_SLACK_ST]
        if given is None:
            return rng.choice(fitting)[4]
        return max(fitting, key=lambda o: (-o[1], o[0], -o[3]))[4]
    return max(options, key=lambda o: (o[0], -o[3]))[4]


def _chords(sections: list[FormSection], style: Style, key: Key, rng: random.Random) -> list[list[str]]:
    progressions = choose_progressions(style.genre, key.mode, rng=rng)
    cadences = {k: cadence(style.genre, key.mode, k, rng=rng) for k in progressions}
    final = cadence(style.genre, key.mode, "outro", rng=stable_rng("final cadence", *progressions["outro"]))
    out = []
    for i, sec in enumerate(sections):
        pair = final if i == len(sections) - 1 else cadences[sec.kind]
        out.append([roman_to_symbol(n, key) for n in section_numerals(progressions[sec.kind], sec.n_bars, cadence_pair=pair)])
    return out


def _phrase_notes(phrase: Phrase, *, start_beats: Fraction, bar_chords: list[str], kind: str, index: int,
                  last: bool, ends_on_tonic: bool, scale: Scale, domain: list[int], meter: Meter, seed: int,
                  line_index: int | None, motif: list[int] | None = None) -> tuple[list[Note], list[int]]:
    """Notes of one phrase starting at ``start_beats`` and its scale degrees.

    ``bar_chords`` are the chords of its bars; ``motif`` the degrees of a phrase to echo.
    """
    rhythm = line_rhythm(phrase.prominences, meter=meter, n_bars=phrase.n_bars, seed_key=phrase.rhythm_key,
                         word_end=phrase.word_end, spoken_proportions=stress_timed(phrase.syllables))
    strong = set(meter.strong_beats())
    bar = meter.bar_beats
    chords = [ChordSymbol.parse(bar_chords[int(on // bar)]) for on, _ in rhythm]
    long_beats = Fraction(3) if meter.compound else Fraction(3, 2)
    primary = ({Fraction(0), bar / 2} if meter.numerator >= 12 else {Fraction(0)}) if meter.compound else strong
    nonchord = [HARD if (on % bar) in primary or dur >= long_beats or j == len(rhythm) - 1
                else 1.2 if (on % bar) in strong else 0.5
                for j, (on, dur) in enumerate(rhythm)]
    if last and ends_on_tonic and scale.key.tonic_pc in chords[-1].pitch_classes():
        ending = "tonic"
    else:
        ending = "open" if index % 2 == 0 else "any"
    rng = stable_rng(seed, "melody", kind, index, phrase.rhythm_key, ending, *bar_chords, *(motif or ()))
    targets = contour_targets(len(rhythm), kind, index)
    degrees = phrase_degrees(scale=scale, domain=domain, chords=chords, nonchord_cost=nonchord, targets=targets,
                             ending=ending, rng=rng, motif=motif)
    base = _VELOCITY.get(kind, 86)
    notes = []
    for j, ((on, dur), k, ch) in enumerate(zip(rhythm, degrees, chords)):
        vel = base + {2: 6, 1: 0, 0: -6}[phrase.prominences[j]]
        syl = (line_index, j) if line_index is not None else None
        pitch = scale.pitch(k, ch)
        upper = k + 2
        pcs = ch.pitch_classes()
        can_melisma = (j == len(rhythm) - 1 and dur >= Fraction(5, 2) and on % bar + Fraction(3, 2) < bar
                       and upper in domain and k + 1 in domain and scale.pitch(upper, ch) % 12 in pcs)
        if can_melisma and rng.random() < 0.3:  # 3-2-1 descent onto the final note
            sung = syl is not None  # an instrumental line plays the descent as three notes, no melisma
            notes.append(Note(start_beats + on, Fraction(1), scale.pitch(upper, ch), vel, syl))
            notes.append(Note(start_beats + on + 1, Fraction(1, 2), scale.pitch(k + 1, ch), vel - 4, syl, sung))
            notes.append(Note(start_beats + on + Fraction(3, 2), dur - Fraction(3, 2), pitch, vel - 4, syl, sung))
        else:
            notes.append(Note(start_beats + on, dur, pitch, vel, syl))
    return notes, degrees


def song_form(spec, *, seed: int) -> tuple[Style, Meter, float, list[FormSection], VoicePreset]:
    """What every planner decides first, the same way: the style, meter, tempo, the sections with
    their phrases (fitted to ``spec.duration``) and the voice whose range the melody must fit (the
    lead range for an instrumental without a named voice)."""
    style = parse_style(spec.tags)
    meter, tempo = infer_meter(spec, style), infer_tempo(spec, style)
    has_lines = any(s.lines for s in spec.lyric_sections())
    instrumental = bool(spec.instrumental or style.instrumental or not has_lines)
    sections = sections_from_lyrics(spec, meter=meter, tempo_bpm=tempo, seed=seed, instrumental=instrumental,
                                    density=style.energy)
    if spec.duration:
        sections = fit_duration(sections, float(spec.duration), bar_s=float(meter.bar_beats) * 60.0 / tempo,
                                instrumental=instrumental)
    voice = resolve_voice(spec.voice, style.vocal)
    if instrumental and not spec.voice:
        voice = LEAD_RANGE
    return style, meter, tempo, sections, voice


@PLANNERS.register("rules")
class RulePlanner(Planner):
    """Rule-based planner: spec → lead sheet (sections, chords per bar, melody linked to syllables)."""

    name = "rules"

    def plan(self, spec, *, seed: int) -> LeadSheet:
        """Plan the lead sheet of ``spec`` (a :class:`pipeline.spec.SongSpec`).

        Parameters
        ----------
        spec : SongSpec
            Lyrics with section tags, style tags, optional key, tempo (BPM), meter, voice,
            duration (seconds), instrumental flag.
        seed : int
            Same spec and seed give an identical lead sheet.

        Raises
        ------
        SpecError
            For a lyric character no voice can sing or a line too long for its meter
            (the message names the file line).
        """
        style, meter, tempo, sections, voice = song_form(spec, seed=seed)
        rng = stable_rng(seed, "plan")
        scale = choose_key(spec.key_obj(), infer_mode(spec, style), voice, rng=rng)
        key = scale.key
        domain = scale.domain(voice.low, voice.high)
        chords_per_section = _chords(sections, style, key, rng)

        out_sections, chords, melody, lyrics = [], [], [], []
        bar0 = 0
        for si, (sec, bar_chords) in enumerate(zip(sections, chords_per_section)):
            out_sections.append(Section(sec.kind, sec.label, bar0, sec.n_bars))
            for b, symbol in enumerate(bar_chords):
                chords.append(Chord((bar0 + b) * meter.bar_beats, meter.bar_beats, symbol))
            ends_on_tonic = sec.kind != "pre-chorus" or si == len(sections) - 1
            pbar = 0
            shapes: list[list[int]] = []
            for pi, phrase in enumerate(sec.phrases):
                line_index = None
                if sec.sung:
                    line_index = len(lyrics)
                    lyrics.append(LyricLine(si, phrase.text, phrase.syllables))
                notes, degrees = _phrase_notes(
                    phrase, start_beats=(bar0 + pbar) * meter.bar_beats, bar_chords=bar_chords[pbar:pbar + phrase.n_bars],
                    kind=sec.kind, index=pi, last=pi == len(sec.phrases) - 1, ends_on_tonic=ends_on_tonic,
                    scale=scale, domain=domain, meter=meter, seed=seed, line_index=line_index,
                    motif=shapes[pi - 2] if pi >= 2 else None)
                melody += notes
                shapes.append(degrees)
                pbar += phrase.n_bars
            bar0 += sec.n_bars
        return LeadSheet(
            title=spec.title, key=key, meter=meter, tempo_bpm=tempo, sections=out_sections, chords=chords,
            melody=melody, lyrics=lyrics, style_tags=tag_list(spec.tags), language=spec.resolved_language())


__all__ = ["RulePlanner", "choose_key", "infer_meter", "infer_tempo", "infer_mode"]
