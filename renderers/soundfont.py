"""The soundfont renderer: one stereo stem per track, synthesised offline with FluidSynth.

Each track is rendered alone on a synthesizer of its own, so no track (and no earlier render)
can change another's samples: melodic tracks on MIDI channel 0 with
their GM program, drum tracks on channel 9 with their kit (bank 128, preset = ``Track.program``).
Note events are applied at their exact sample positions (to FluidSynth's 64-sample processing
block, 1.5 ms at 44.1 kHz). FluidSynth's own reverb and chorus are off, so a render is
bit-identical every time; the mixer adds the room. ``Track.gain_db`` scales the stem and
``Track.pan`` balances it with a constant-power law (left gain √2·cos θ, right √2·sin θ,
θ = (pan + 1)·π/4), which keeps the soundfont's own stereo image and is hard left or right at ±1.

Every stem lasts the arrangement plus a 2-second tail for the last notes' release:
``round(duration_s * sample_rate) + 2 * sample_rate`` samples.
"""

from __future__ import annotations

import ctypes
import os
from fractions import Fraction
from pathlib import Path

import numpy as np

from representations.arrangement import Arrangement, Track
from representations.audio import Audio, StemSet
from representations.errors import BackendUnavailable

from .base import RENDERERS, Renderer

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
INSTALL_HINT = "apt-get install fluidsynth fluid-soundfont-gm"
DRUM_CHANNEL, MELODIC_CHANNEL = 9, 0
BLOCK = 64  # FluidSynth renders in blocks of 64 samples


def soundfont_path(soundfont: str | Path | None = None) -> Path:
    """The soundfont to load: the argument, else ``$SONGWRIGHT_SOUNDFONT``, else FluidR3_GM."""
    return Path(soundfont or os.environ.get("SONGWRIGHT_SOUNDFONT") or DEFAULT_SOUNDFONT)


@RENDERERS.register("fluidsynth")
class FluidSynthRenderer(Renderer):
    """Render arrangements with FluidSynth and a General MIDI soundfont.

    Parameters
    ----------
    soundfont : str or Path, optional
        SF2 file; default ``$SONGWRIGHT_SOUNDFONT`` or Debian's FluidR3_GM.sf2.
    sample_rate : int
        Output rate in Hz.
    tail_s : float
        Seconds added after the arrangement's end for releases to ring out.
    synth_gain : float
        FluidSynth's master gain (0.5 keeps a full band's stems below full scale).
    workers : int, optional
        Tracks rendered at once (each on its own synthesizer); default: the CPU count, at most 4.
        The stems do not depend on it.
    """

    name = "fluidsynth"

    def __init__(self, *, soundfont: str | Path | None = None, sample_rate: int = 44100, tail_s: float = 2.0,
                 synth_gain: float = 0.5, workers: int | None = None):
        path = soundfont_path(soundfont)
        if not path.is_file():
            raise BackendUnavailable(f"soundfont {path} not found (install it: {INSTALL_HINT}, or set SONGWRIGHT_SOUNDFONT)")
        try:
            import fluidsynth
        except (ImportError, OSError) as e:
            raise BackendUnavailable(f"FluidSynth is not available ({e}; install it: {INSTALL_HINT} and pip install pyfluidsynth)") from None
        if not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample_rate {sample_rate} is not valid (valid: 8000-192000)")
        self.sample_rate = sample_rate
        self.tail_s = tail_s
        self.soundfont = path
        self.workers = max(1, workers if workers is not None else min(4, os.cpu_count() or 1))
        self._fluidsynth = fluidsynth
        self._synth_gain = float(synth_gain)
        # This synth only holds the soundfont: FluidSynth shares loaded sample data between synths,
        # so the fresh synth each track gets (for a render that no earlier track can influence)
        # loads it in milliseconds.
        self._holder, self._sfid = self._new_synth()
        write = fluidsynth._fl.fluid_synth_write_float
        write.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                          ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        write.restype = ctypes.c_int
        self._write = write

    def _new_synth(self):
        synth = self._fluidsynth.Synth(gain=self._synth_gain, samplerate=float(self.sample_rate), channels=16, **{
            "synth.reverb.active": 0, "synth.chorus.active": 0, "synth.cpu-cores": 1, "synth.polyphony": 512,
        })
        sfid = synth.sfload(str(self.soundfont))
        if sfid < 0:
            synth.delete()
            raise BackendUnavailable(f"soundfont {self.soundfont} could not be loaded by FluidSynth (valid: an SF2 file)")
        return synth, sfid

    def n_samples(self, arrangement: Arrangement) -> int:
        """Length in samples of every stem of ``arrangement``."""
        return round(arrangement.duration_s * self.sample_rate) + round(self.tail_s * self.sample_rate)

    def render(self, arrangement: Arrangement) -> StemSet:
        """One stereo float32 stem per track, named after the track."""
        n = self.n_samples(arrangement)

        def one(track: Track) -> np.ndarray:
            return self.render_track(track, arrangement.tempo_bpm, n)

        if self.workers > 1 and len(arrangement.tracks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=self.workers) as pool:  # FluidSynth runs outside the GIL
                samples = list(pool.map(one, arrangement.tracks))
        else:
            samples = [one(t) for t in arrangement.tracks]
        return StemSet({t.name: Audio(x, self.sample_rate) for t, x in zip(arrangement.tracks, samples)})

    def _events(self, track: Track, tempo_bpm: float) -> list[tuple[int, int, int, int]]:
        """(sample, kind, pitch, velocity) with kind 0 = note off, 1 = note on; a note is cut where
        the next note of the same pitch starts, so the later one is not silenced early."""
        sr = self.sample_rate

        def at(beats: Fraction) -> int:
            return round(beats * 60 * sr / Fraction(tempo_bpm).limit_denominator(10**6))

        events = []
        by_pitch: dict[int, list] = {}
        for note in track.notes:
            by_pitch.setdefault(note.pitch, []).append(note)
        for pitch, notes in by_pitch.items():
            notes.sort(key=lambda x: x.start_beats)
            for i, note in enumerate(notes):
                end = note.end_beats
                if i + 1 < len(notes):
                    end = min(end, notes[i + 1].start_beats)
                on, off = at(note.start_beats), at(end)
                if off <= on:
                    off = on + 1
                events.append((on, 1, pitch, note.velocity))
                events.append((off, 0, pitch, 0))
        events.sort()
        return events

    def render_track(self, track: Track, tempo_bpm: float, n_samples: int) -> np.ndarray:
        """Samples ``(n_samples, 2)`` float32 of one track, on a synthesizer of its own."""
        if self._holder is None:
            raise BackendUnavailable("this renderer was closed (valid: create a new FluidSynthRenderer)")
        synth, sfid = self._new_synth()
        try:
            return self._render_on(synth, sfid, track, tempo_bpm, n_samples)
        finally:
            synth.delete()

    def _render_on(self, synth, sfid: int, track: Track, tempo_bpm: float, n_samples: int) -> np.ndarray:
        chan = DRUM_CHANNEL if track.is_drum else MELODIC_CHANNEL
        synth.program_select(chan, sfid, 128 if track.is_drum else 0, track.program)
        synth.cc(chan, 7, 100)
        synth.cc(chan, 91, 0)
        synth.cc(chan, 93, 0)
        padded = -(-n_samples // BLOCK) * BLOCK
        out = np.zeros((padded, 2), dtype=np.float32)
        base = out.ctypes.data
        pos = 0

        def render_to(target: int) -> None:
            nonlocal pos
            target = min(target, padded)
            while pos < target:
                k = min(target - pos, 8192)
                self._write(synth.synth, k, base, 2 * pos, 2, base, 2 * pos + 1, 2)
                pos += k

        for sample, kind, pitch, vel in self._events(track, tempo_bpm):
            if sample >= padded:
                break
            render_to(sample)
            if kind:
                synth.noteon(chan, pitch, vel)
            else:
                synth.noteoff(chan, pitch)
        render_to(padded)
        out = out[:n_samples]
        theta = (max(-1.0, min(1.0, track.pan)) + 1) * np.pi / 4  # constant-power balance of the stereo sound
        gain = 10 ** (track.gain_db / 20) * np.sqrt(2)
        out *= np.array([gain * np.cos(theta), gain * np.sin(theta)], dtype=np.float32)
        return out

    def close(self) -> None:
        """Free the synthesizer holding the soundfont (also done on garbage collection)."""
        if getattr(self, "_holder", None) is not None:
            self._holder.delete()
            self._holder = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
