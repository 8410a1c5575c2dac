"""Standard MIDI files of an arrangement (and the sung vocal line), read back for tests and tools.

The file is type 1 with 480 ticks per quarter beat (960 below 32 BPM, so that a tick stays under
4 ms): a conductor track with the tempo and time signature, then one track per arrangement track
(its name, a program change, volume and pan) on General MIDI channels — drums on channel 9
(0-based), the others on distinct channels that skip 9 — and, when a vocal score is given, a
track named ``"vocals"`` whose notes are timed in seconds as sung, each syllable's text in a lyric
event at its note. Text is UTF-8.
"""

from __future__ import annotations

from pathlib import Path

from .arrangement import Arrangement
from .atomic import atomic_path
from .errors import SongwrightError, SpecError

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9
VOCALS_TRACK = "vocals"
VOCALS_PROGRAM = 53  # General MIDI "Voice Oohs" (0-based)
_MELODIC_CHANNELS = tuple(c for c in range(16) if c != DRUM_CHANNEL)


def ticks_per_beat(tempo_bpm: float) -> int:
    """Resolution used for ``tempo_bpm``: 480 ticks per beat, 960 below 32 BPM."""
    return TICKS_PER_BEAT if tempo_bpm >= 32 else 2 * TICKS_PER_BEAT


def write_midi(path: str | Path, arrangement: Arrangement, *, vocals=None) -> None:
    """Write ``arrangement`` (and ``vocals``) as a type-1 MIDI file.

    Parameters
    ----------
    path : str or Path
        Target file, written atomically.
    arrangement : Arrangement
        Tracks in quarter-note beats at the arrangement's constant tempo.
    vocals : VocalScore, optional
        Sung notes in seconds; they become a track named ``"vocals"`` whose note times are the
        seconds converted to ticks at the arrangement's tempo (rounded to the nearest tick:
        within half a tick, 0.52 ms at 120 BPM), with each syllable's text as a lyric event at
        the note that starts it (melisma continuations carry none).

    Raises
    ------
    SongwrightError
        More than 15 tracks besides drums (General MIDI has 15 melodic channels).
    """
    import mido

    tpb = ticks_per_beat(arrangement.tempo_bpm)
    tempo_us = mido.bpm2tempo(arrangement.tempo_bpm)
    meter = arrangement.meter
    n_melodic = sum(not t.is_drum for t in arrangement.tracks) + (vocals is not None)
    if n_melodic > len(_MELODIC_CHANNELS):
        raise SongwrightError(
            f"arrangement has {n_melodic} melodic tracks "
            f"(valid: at most {len(_MELODIC_CHANNELS)} besides drums in MIDI)"
        )
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb, charset="utf-8")
    total_ticks = round(arrangement.total_beats * tpb)
    click = 24 * 4 // meter.denominator * (3 if meter.compound else 1)
    mid.tracks.append(_track("conductor", [
        (0, 0, mido.MetaMessage("set_tempo", tempo=tempo_us)),
        (0, 0, mido.MetaMessage("time_signature", numerator=meter.numerator, denominator=meter.denominator,
                                clocks_per_click=click, notated_32nd_notes_per_beat=8)),
    ], total_ticks))
    channels = iter(_MELODIC_CHANNELS)
    for t in arrangement.tracks:
        ch = DRUM_CHANNEL if t.is_drum else next(channels)
        volume = max(0, min(127, round(100 * 10 ** (t.gain_db / 40))))
        pan = max(0, min(127, round(64 + 63 * t.pan)))
        events = _setup(mido, ch, t.program, volume, pan)
        for n in t.notes:
            start = round(n.start_beats * tpb)
            end = max(start + 1, round(n.end_beats * tpb))
            events += [(start, 2, mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity)),
                       (end, 0, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0))]
        mid.tracks.append(_track(t.name, events, total_ticks))
    if vocals is not None:
        ch = next(channels)
        events = _setup(mido, ch, VOCALS_PROGRAM, 100, 64)
        per_s = 1e6 / tempo_us * tpb
        for n in vocals.notes:
            start = round(n.start_s * per_s)
            end = max(start + 1, round(n.end_s * per_s))
            if not n.melisma and n.text:
                events.append((start, 1, mido.MetaMessage("lyrics", text=n.text)))
            events += [(start, 2, mido.Message("note_on", channel=ch, note=n.pitch, velocity=n.velocity)),
                       (end, 0, mido.Message("note_off", channel=ch, note=n.pitch, velocity=0))]
        mid.tracks.append(_track(VOCALS_TRACK, events, total_ticks))
    with atomic_path(path) as tmp:
        mid.save(str(tmp))


def _setup(mido, channel: int, program: int, volume: int, pan: int) -> list:
    return [(0, -1, mido.Message("program_change", channel=channel, program=program)),
            (0, -1, mido.Message("control_change", channel=channel, control=7, value=volume)),
            (0, -1, mido.Message("control_change", channel=channel, control=10, value=pan))]


def _track(name: str, events: list, total_ticks: int):
    """A track from ``(tick, order, message)`` events; at one tick note-offs come first, then
    lyrics, then note-ons."""
    import mido

    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    now = 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, total_ticks - now)))
    return track


def read_midi_notes(path: str | Path) -> dict[str, list[tuple[float, float, int, int]]]:
    """Notes of each track of a MIDI file, in seconds.

    Parameters
    ----------
    path : str or Path
        A standard MIDI file (type 0 or 1); tempo changes in any track apply to all.

    Returns
    -------
    dict
        Track name (``"track N"`` when unnamed; a repeated name gets `` (2)``, ...) →
        ``[(start_s, end_s, pitch, velocity), ...]`` in time order, for tracks with notes.

    Raises
    ------
    SpecError
        The file cannot be read as MIDI.
    """
    import mido

    try:
        try:
            mid = mido.MidiFile(str(path), charset="utf-8")
        except UnicodeDecodeError:
            mid = mido.MidiFile(str(path), charset="latin1")
    except (OSError, EOFError, ValueError, KeyError, IndexError) as e:
        raise SpecError(f"{path}: cannot read MIDI ({e}) (valid: a standard MIDI file)") from None
    tempo_changes = sorted(
        (tick, msg.tempo) for track in mid.tracks for tick, msg in _absolute(track) if msg.type == "set_tempo"
    )

    def seconds(tick: int) -> float:
        s, last_tick, tempo = 0.0, 0, 500000
        for t, new in tempo_changes:
            if t >= tick:
                break
            s += (t - last_tick) * tempo / mid.ticks_per_beat / 1e6
            last_tick, tempo = t, new
        return s + (tick - last_tick) * tempo / mid.ticks_per_beat / 1e6

    out: dict[str, list[tuple[float, float, int, int]]] = {}
    for i, track in enumerate(mid.tracks):
        name = next((m.name for m in track if m.type == "track_name"), f"track {i}")
        open_notes: dict[tuple[int, int], list[tuple[int, int]]] = {}
        notes = []
        for tick, msg in _absolute(track):
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes.setdefault((msg.channel, msg.note), []).append((tick, msg.velocity))
            elif msg.type in ("note_off", "note_on") and open_notes.get((msg.channel, msg.note)):
                start, velocity = open_notes[(msg.channel, msg.note)].pop(0)
                notes.append((seconds(start), seconds(tick), msg.note, velocity))
        if notes:
            unique, k = name, 2
            while unique in out:
                unique, k = f"{name} ({k})", k + 1
            out[unique] = sorted(notes)
    return out


def _absolute(track):
    tick = 0
    for msg in track:
        tick += msg.time
        yield tick, msg
