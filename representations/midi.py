"""Standard MIDI files of an arrangement (and the sung vocal line), read back for tests and tools.

The file is type 1 with 480 ticks per quarter beat (960 below 32 BPM, so that a tick stays under
4 ms): a conductor track with the tempo and time signature, then one track per arrangement track
(its name, a program change, volume and pan) on General MIDI channels — drums on channel 9
(0-based), the others on distinct channels that skip 9 — and, when a vocal score is given, a
track named ``"vocals"`` whose notes are timed in seconds as sung, each syllable's text in a lyric
event at its note. Text is UTF-8.
"""

from __future__ import annotations

import struct
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
    tpb = ticks_per_beat(arrangement.tempo_bpm)
    tempo_us = int(round(60e6 / arrangement.tempo_bpm))
    meter = arrangement.meter
    n_melodic = sum(not t.is_drum for t in arrangement.tracks) + (vocals is not None)
    if n_melodic > len(_MELODIC_CHANNELS):
        raise SongwrightError(
            f"arrangement has {n_melodic} melodic tracks "
            f"(valid: at most {len(_MELODIC_CHANNELS)} besides drums in MIDI)"
        )
    total_ticks = round(arrangement.total_beats * tpb)
    click = 24 * 4 // meter.denominator * (3 if meter.compound else 1)
    chunks = [_track("conductor", [
        (0, 0, _meta(0x51, tempo_us.to_bytes(3, "big"))),
        (0, 0, _meta(0x58, bytes([meter.numerator, meter.denominator.bit_length() - 1, click, 8]))),
    ], total_ticks)]
    channels = iter(_MELODIC_CHANNELS)
    for t in arrangement.tracks:
        ch = DRUM_CHANNEL if t.is_drum else next(channels)
        volume = max(0, min(127, round(100 * 10 ** (t.gain_db / 40))))
        pan = max(0, min(127, round(64 + 63 * t.pan)))
        events = _setup(ch, t.program, volume, pan)
        on, off = 0x90 | ch, 0x80 | ch
        for n in t.notes:
            start = round(n.start_beats * tpb)
            end = max(start + 1, round(n.end_beats * tpb))
            events += [(start, 2, bytes((on, n.pitch, n.velocity))), (end, 0, bytes((off, n.pitch, 0)))]
        chunks.append(_track(t.name, events, total_ticks))
    if vocals is not None:
        chunks.append(vocals_track(vocals, ch=next(channels), tpb=tpb, tempo_us=tempo_us, total_ticks=total_ticks))
    header = b"MThd" + struct.pack(">Lhhh", 6, 1, len(chunks), tpb)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(header + b"".join(chunks))


def vocals_track(vocals, *, ch: int, tpb: int, tempo_us: int, total_ticks: int) -> bytes:
    """The ``"vocals"`` track chunk: the sung notes timed in seconds, lyrics at syllable starts."""
    events = _setup(ch, VOCALS_PROGRAM, 100, 64)
    per_s = 1e6 / tempo_us * tpb
    on, off = 0x90 | ch, 0x80 | ch
    for n in vocals.notes:
        start = round(n.start_s * per_s)
        end = max(start + 1, round(n.end_s * per_s))
        if not n.melisma and n.text:
            events.append((start, 1, _meta(0x05, n.text.encode("utf-8"))))
        events += [(start, 2, bytes((on, n.pitch, n.velocity))), (end, 0, bytes((off, n.pitch, 0)))]
    return _track(VOCALS_TRACK, events, total_ticks)


def replace_vocals(source: str | Path, path: str | Path, vocals) -> None:
    """Write ``path``: the MIDI file ``source`` (written by :func:`write_midi`) with its
    ``"vocals"`` track rebuilt from ``vocals``; every other track is copied byte for byte.

    Raises
    ------
    SongwrightError
        ``source`` is not a MIDI file of this layout (no conductor tempo, no vocals track).
    """
    data = Path(source).read_bytes()
    if data[:4] != b"MThd":
        raise SongwrightError(f"{source}: not a MIDI file (valid: an arrangement.mid written by a render)")
    tpb = struct.unpack(">h", data[12:14])[0]
    chunks, pos = [], 8 + struct.unpack(">L", data[4:8])[0]
    while pos + 8 <= len(data):
        size = struct.unpack(">L", data[pos + 4: pos + 8])[0]
        chunks.append(data[pos: pos + 8 + size])
        pos += 8 + size
    tempo = chunks[0].find(b"\xff\x51\x03") if chunks else -1
    named = [i for i, c in enumerate(chunks) if c[8:11] == b"\x00\xff\x03" and _track_name(c) == VOCALS_TRACK]
    if tempo < 0 or not named:
        raise SongwrightError(f"{source}: no tempo or no {VOCALS_TRACK!r} track (valid: an arrangement.mid written by a render)")
    i = named[0]
    old = chunks[i]
    ch = old[12 + old[11] + 1] & 0x0F  # the program change right after the name
    chunks[i] = vocals_track(vocals, ch=ch, tpb=tpb, tempo_us=int.from_bytes(chunks[0][tempo + 3: tempo + 6], "big"),
                             total_ticks=_end_tick(chunks[0]))
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data[:14] + b"".join(chunks))


def _track_name(chunk: bytes) -> str:
    n = chunk[11]  # names here are shorter than 128 bytes (one length byte)
    return chunk[12: 12 + n].decode("utf-8", "replace")


def _end_tick(chunk: bytes) -> int:
    """Tick of the last event of an ``MTrk`` chunk (its end of track)."""
    i, tick, running = 8, 0, 0
    while i < len(chunk):
        delta, i = _read_varint(chunk, i)
        tick += delta
        status = chunk[i]
        if status == 0xFF or status in (0xF0, 0xF7):  # meta (type byte, then length) or sysex (length)
            n, i = _read_varint(chunk, i + (2 if status == 0xFF else 1))
            i += n
            continue
        if status >= 0x80:
            running, i = status, i + 1
        i += 1 if running & 0xF0 in (0xC0, 0xD0) else 2
    return tick


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    """The variable-length number at ``data[i]`` and the index after it."""
    value = 0
    while True:
        b = data[i]
        i += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i


def _varint(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _meta(kind: int, data: bytes) -> bytes:
    return bytes((0xFF, kind)) + _varint(len(data)) + data


def _setup(channel: int, program: int, volume: int, pan: int) -> list:
    return [(0, -1, bytes((0xC0 | channel, program))),
            (0, -1, bytes((0xB0 | channel, 7, volume))),
            (0, -1, bytes((0xB0 | channel, 10, pan)))]


def _track(name: str, events: list, total_ticks: int) -> bytes:
    """An ``MTrk`` chunk from ``(tick, order, message bytes)`` events; at one tick note-offs come
    first, then lyrics, then note-ons. Channel messages use running status."""
    data = bytearray(b"\x00" + _meta(0x03, name.encode("utf-8")))
    now, running = 0, None
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        data += _varint(tick - now)
        now = tick
        if msg[0] == 0xFF:
            running = None
            data += msg
        else:
            data += msg[1:] if msg[0] == running else msg
            running = msg[0]
    data += _varint(max(0, total_ticks - now)) + _meta(0x2F, b"")
    return b"MTrk" + struct.pack(">L", len(data)) + bytes(data)


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
