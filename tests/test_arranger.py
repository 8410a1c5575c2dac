"""The pattern arranger, judged by measuring its notes: who plays, where, on which pitches."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction as F

import numpy as np
import pytest

from generators.instruments import track_name
from generators.pattern_arranger import PatternArranger
from generators.patterns.genres import GENRE_STYLES
from representations.leadsheet import Chord, LeadSheet, LyricLine, Note, Section, Syllable
from representations.music import ChordSymbol, Key, Meter

PROGRESSION = ["C", "G/B", "Am", "F", "C/E", "Dm7", "G7", "C"]
PLAN = (("intro", 2), ("verse", 6), ("pre-chorus", 2), ("chorus", 6), ("outro", 2))
FULL_PLAN = (("intro", 4), ("verse", 8), ("pre-chorus", 4), ("chorus", 8), ("verse", 8), ("chorus", 8), ("outro", 4))
DRUMS_TOMS = set(range(41, 51)) - {42, 44, 46, 49}


def lead_sheet(meter: str = "4/4", tags=("pop",), *, plan=PLAN, sung: bool = True, tempo: float = 100.0) -> LeadSheet:
    """A song built by hand: one chord per bar, a melody line of eighths/quarters over the first
    1.5 bars of every two in sung sections, one lyric line per melody phrase."""
    m = Meter.parse(meter)
    bar = m.bar_beats
    step = F(1, 2) if m.compound else F(1)
    sections, chords, melody, lyrics = [], [], [], []
    b = 0
    for si, (kind, n) in enumerate(plan):
        sections.append(Section(kind, kind.title(), b, n))
        for k in range(n):
            chords.append(Chord((b + k) * bar, bar, PROGRESSION[(b + k) % len(PROGRESSION)]))
        if kind not in ("intro", "outro"):
            for start in range(0, n, 2):
                t0 = (b + start) * bar
                count = int(bar * F(3, 2) / step)
                line = len(lyrics)
                for j in range(count):
                    melody.append(Note(t0 + j * step, step, 64 + (0, 2, 4, 5, 7, 5, 4, 2)[j % 8], 90,
                                       (line, j) if sung else None))
                lyrics.append(LyricLine(si, "la " * count, tuple(Syllable(f"la{j}") for j in range(count))))
        b += n
    return LeadSheet("Test", Key("C"), m, tempo, sections, chords, melody, lyrics if sung else [], list(tags))


def arrange(ls: LeadSheet, seed: int = 1):
    return PatternArranger().arrange(ls, seed=seed)


def bar_of(beats: F, ls: LeadSheet) -> int:
    return int(beats // ls.meter.bar_beats)


@pytest.mark.parametrize("tags", [
    "pop, piano, violin, acoustic guitar, cello",
    "中国风, 古筝, 二胡, 笛子, 琵琶",
    "jazz, saxophone, brushes, upright bass",
    "electronic, synth, 808, pad",
    "waltz, accordion, clarinet, harp",
    "classical, flute, trumpet, oboe, marimba, bells, vibraphone, organ, ukulele, banjo, harmonica, "
    "electric piano, nylon guitar, electric guitar, choir pad, synth bass, strings",
])
def test_every_named_instrument_plays(tags):
    from generators.style import parse_style

    ls = lead_sheet("4/4", [tags])
    arr = arrange(ls)
    final_bar_start = (ls.n_bars - 1) * ls.meter.bar_beats
    named = parse_style(tags).instruments
    assert named, tags
    for name in named:
        track = arr.track(track_name(name))
        body = [n for n in track.notes if n.start_beats < final_bar_start]
        assert len(body) >= 2, f"{name} has {len(body)} notes before the final bar"
    assert "vocals" not in [t.name for t in arr.tracks]
    assert arr.total_beats == ls.total_beats and arr.tempo_bpm == ls.tempo_bpm


def test_drum_kits_follow_tags():
    assert arrange(lead_sheet(tags=["jazz, brushes"])).track("drums").program == 40  # FluidR3 brush kit
    assert arrange(lead_sheet(tags=["hiphop"])).track("drums").program == 25  # TR-808
    assert all(t.is_drum == (t.name == "drums") for t in arrange(lead_sheet(tags=["rock"])).tracks)
    names = [t.name for t in arrange(lead_sheet(tags=["classical"])).tracks]
    assert "drums" not in names and "strings" in names


@pytest.mark.parametrize("meter", ["3/4", "6/8", "2/4", "12/8", "4/4", "5/4", "7/8"])
@pytest.mark.parametrize("genre", ["pop", "rock", "jazz", "waltz", "electronic", "latin", "lofi"])
def test_patterns_fill_whole_bars(meter, genre):
    ls = lead_sheet(meter, [genre])
    arr = arrange(ls)
    bar = ls.meter.bar_beats
    for t in arr.tracks:
        assert t.notes, t.name
        assert min(n.start_beats for n in t.notes) >= 0
        assert max(n.end_beats for n in t.notes) <= arr.total_beats, t.name
    verse = next(s for s in ls.sections if s.kind == "verse")
    inner = range(verse.start_bar + 1, verse.start_bar + verse.n_bars - 1)  # no crash, no fill
    for name in ("drums", "bass", "upright_bass", "synth_bass"):
        if name not in [t.name for t in arr.tracks]:
            continue
        notes = arr.track(name).notes
        shapes = {b: sorted((n.start_beats - b * bar, n.pitch if name == "drums" else 0)
                            for n in notes if bar_of(n.start_beats, ls) == b) for b in inner}
        playing = [s for s in shapes.values() if s]
        assert playing, f"{name} silent in the verse"
        if name == "drums" or genre not in ("jazz",):  # walking lines vary their notes, not their rhythm
            assert all(s == playing[0] for s in playing), f"{name} pattern changes between bars in {meter}"
        # the pattern covers the bar: its last onset is in the bar's second half
        assert max(off for off, _ in playing[0]) >= bar / 2 or len(playing[0]) == 1


@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8"])
def test_bass_downbeats_are_chord_roots(meter):
    for genre in list(GENRE_STYLES):
        ls = lead_sheet(meter, [genre])
        arr = arrange(ls)
        bass = [t for t in arr.tracks if t.name in ("bass", "upright_bass", "synth_bass")]
        bass = bass or [t for t in arr.tracks if t.name == "cello"]  # the cello takes the bass line
        for t in bass:
            down = [n for n in t.notes if n.start_beats % ls.meter.bar_beats == 0]
            ok = sum(n.pitch % 12 == ChordSymbol.parse(ls.chord_at(n.start_beats).symbol).bass_pc for n in down)
            assert down and ok / len(down) >= 0.9, f"{genre} {meter} {t.name}: {ok}/{len(down)} downbeats on the root"


def _bars_notes(arr, ls, kind, *, exclude_drums=False):
    bars = {b for s in ls.sections if s.kind == kind for b in range(s.start_bar, s.start_bar + s.n_bars)}
    return [(t, n) for t in arr.tracks for n in t.notes
            if bar_of(n.start_beats, ls) in bars and not (exclude_drums and t.is_drum)], len(bars)


def test_sections_shape_the_energy():
    ls = lead_sheet("4/4", ["pop"], plan=FULL_PLAN)
    arr = arrange(ls)
    verse, n_verse = _bars_notes(arr, ls, "verse")
    chorus, n_chorus = _bars_notes(arr, ls, "chorus")
    intro, n_intro = _bars_notes(arr, ls, "intro")
    for name in {t.name for t, _ in verse} & {t.name for t, _ in chorus}:  # every instrument plays louder
        v = np.mean([n.velocity for t, n in verse if t.name == name])
        c = np.mean([n.velocity for t, n in chorus if t.name == name])
        assert c >= v + 3, (name, v, c)
    assert len({t.name for t, _ in chorus}) > len({t.name for t, _ in verse}) > len({t.name for t, _ in intro})
    assert len(chorus) / n_chorus > len(verse) / n_verse > len(intro) / n_intro
    bar = ls.meter.bar_beats
    drums = arr.track("drums").notes
    for s in ls.sections:
        if s.kind == "chorus":  # crash on the chorus downbeat
            assert any(n.pitch == 49 and n.start_beats == s.start_bar * bar for n in drums)
    pre = next(s for s in ls.sections if s.kind == "pre-chorus")
    last = pre.start_bar + pre.n_bars - 1
    fill = [n for n in drums if bar_of(n.start_beats, ls) == last and n.start_beats % bar >= bar - 1]
    assert sum(n.pitch in DRUMS_TOMS for n in fill) >= 3
    v = next(s for s in ls.sections if s.kind == "verse")
    mid = [n for n in drums if v.start_bar + 1 <= bar_of(n.start_beats, ls) < v.start_bar + v.n_bars - 1]
    assert not any(n.pitch in DRUMS_TOMS | {49} for n in mid)


def test_song_ends_on_the_final_chord_held():
    ls = lead_sheet("4/4", ["ballad"])
    arr = arrange(ls)
    start = (ls.n_bars - 1) * ls.meter.bar_beats
    pcs = set(ChordSymbol.parse(ls.chords[-1].symbol).pitch_classes())
    for t in arr.tracks:
        last = [n for n in t.notes if n.start_beats >= start]
        assert last, t.name
        assert all(n.start_beats - start < F(1, 8) and n.end_beats == ls.total_beats for n in last), t.name
        if not t.is_drum:
            assert {n.pitch % 12 for n in last} <= pcs, t.name


def test_chord_instruments_play_chord_tones_with_voice_leading():
    ls = lead_sheet("4/4", ["pop, piano, strings"], plan=FULL_PLAN)
    arr = arrange(ls)
    for name in ("piano", "strings", "acoustic_guitar"):
        if name not in [t.name for t in arr.tracks]:
            continue
        notes = arr.track(name).notes
        ok = sum(n.pitch % 12 in ChordSymbol.parse(ls.chord_at(n.start_beats).symbol).pitch_classes() for n in notes)
        assert ok / len(notes) >= 0.99, name
    # the piano's chorus chords move little from one chord to the next (closest inversion)
    chorus = {b for sec in ls.sections if sec.kind == "chorus" for b in range(sec.start_bar, sec.start_bar + sec.n_bars)}
    hits: dict[F, list[int]] = {}
    for n in arr.track("piano").notes:
        if bar_of(n.start_beats, ls) in chorus:
            hits.setdefault(n.start_beats, []).append(n.pitch)
    chords = [sorted(v) for _, v in sorted(hits.items()) if len(v) == 3]
    moves = [np.mean([abs(a - b) for a, b in zip(x, y)]) for x, y in zip(chords, chords[1:]) if x != y]
    assert len(moves) >= 8 and np.mean(moves) <= 2.5, moves


def test_voicer_moves_less_than_root_position():
    from generators.patterns.harmony import Voicer

    voicer = Voicer(Key("C"), low=55, high=79, n_voices=3)
    prog = [ChordSymbol.parse(c) for c in ["C", "Am", "F", "G", "Em", "Am", "Dm", "G", "C"] * 3]
    led = [voicer(c) for c in prog]
    root = [tuple(60 + c.root_pc - (12 if c.root_pc > 7 else 0) + i for i in c.intervals) for c in prog]  # naive

    def motion(vs):
        return np.mean([np.mean([abs(a - b) for a, b in zip(x, y)]) for x, y in zip(vs, vs[1:])])

    assert motion(led) <= 2.0 and motion(led) < 0.6 * motion(root)
    assert all(55 <= p <= 79 for v in led for p in v)
    assert all({p % 12 for p in v} == set(c.pitch_classes()) for v, c in zip(led, prog))


def test_instrumental_gets_a_lead_playing_the_melody():
    ls = lead_sheet("4/4", ["folk, violin, piano"], sung=False)
    arr = arrange(ls)
    lead = arr.track("violin").notes
    onsets = {(n.start_beats, n.pitch % 12) for n in lead}
    assert all((n.start_beats, n.pitch % 12) in onsets for n in ls.melody)
    # no melodic instrument named: the genre's lead takes the melody
    arr2 = arrange(lead_sheet("4/4", ["rock"], sung=False))
    lead2 = {(n.start_beats, n.pitch % 12) for n in arr2.track("electric_guitar").notes}
    assert sum((n.start_beats, n.pitch % 12) in lead2 for n in ls.melody) == len(ls.melody)


def test_sung_melody_is_not_doubled():
    ls = lead_sheet("4/4", ["pop, violin, flute"], sung=True, plan=FULL_PLAN)
    arr = arrange(ls)
    mel = {(n.start_beats, n.pitch % 12) for n in ls.melody}
    for t in arr.tracks:
        if t.is_drum:
            continue
        hits = sum((n.start_beats, n.pitch % 12) in mel for n in t.notes)
        assert hits / len(ls.melody) < 0.3, t.name
    # the solo instruments answer the voice: most of their notes sound where nobody sings
    sung = [(n.start_beats, n.end_beats) for n in ls.melody]
    violin = [n for n in arr.track("violin").notes if n.duration_beats <= 1]
    free = sum(not any(a <= n.start_beats < b for a, b in sung) for n in violin)
    assert violin and free / len(violin) >= 0.8


def test_same_seed_same_arrangement_and_seed_changes_only_dynamics():
    ls = lead_sheet("4/4", ["rock"])
    a, b, c = arrange(ls, 7), arrange(ls, 7), arrange(ls, 8)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != c.to_dict()
    for ta, tc in zip(a.tracks, c.tracks):
        assert [(n.start_beats, n.pitch) for n in ta.notes] == [(n.start_beats, n.pitch) for n in tc.notes]
    spread = Counter(abs(x.velocity - y.velocity) for ta, tc in zip(a.tracks, c.tracks) for x, y in zip(ta.notes, tc.notes))
    assert max(spread) <= 10


def test_balance_and_round_trip(tmp_path):
    arr = arrange(lead_sheet("4/4", ["pop, acoustic guitar, piano"]))
    assert arr.track("bass").pan == 0 and arr.track("drums").pan == 0
    assert arr.track("acoustic_guitar").pan != 0 and arr.track("piano").pan != 0
    arr.save(tmp_path / "a.json")
    from representations.arrangement import Arrangement

    assert Arrangement.load(tmp_path / "a.json").to_dict() == arr.to_dict()


def test_empty_lead_sheet_is_an_error():
    from representations.errors import SongwrightError

    ls = LeadSheet("Empty", Key("C"), Meter(), 100.0, [], [], [])
    with pytest.raises(SongwrightError):
        arrange(ls)
