"""The mastering mixer: per-stem EQ and reverb sends, a produced lead vocal placed a few dB above
the band, bus compression, then loudness to -14 LUFS with true peaks at or below -1 dBTP.

Stem processing follows the stem's role, looked up by its name in
:mod:`generators.instruments` (``drums``, ``bass``, ``piano``...; unknown names are treated as
chord instruments). Track gains and pans are already in the stems (the renderer applies them).

Lead vocals (mono or stereo, padded when shorter than the stems, resampled when at another rate):
high-pass, compression, a presence lift, a reverb send and a slight delay; the dry vocal is set
``vocal_lift_db`` above the accompaniment's integrated loudness.

Mastering: gentle bus compression, gain to the target loudness, and a look-ahead limiter driven by
the 4x-oversampled (true-peak) envelope, repeated until loudness and true peak both hold.
Silent input raises :class:`AudioInputError`: there is nothing to master, and a silent "song" is
always a fault upstream. Same input, same output, sample for sample.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from representations.audio import Audio, StemSet
from representations.dsp import limiter_gain
from representations.errors import AudioInputError

from .base import MIXERS, Mixer, MixParams, MixResult

# role -> (high-pass Hz, reverb send level)
ROLE_PROCESSING = {
    "drums": (30.0, 0.10), "bass": (35.0, 0.0), "chords": (100.0, 0.22), "guitar": (100.0, 0.2),
    "pad": (120.0, 0.3), "strings": (110.0, 0.32), "lead": (120.0, 0.28), "pluck": (110.0, 0.25),
    "timpani": (40.0, 0.25),
}
OVERSAMPLE = 4
THREADED_SAMPLES = 1 << 18  # channels at least this long are measured in threads (6 s at 44.1 kHz)
_MIN_LUFS_S = 0.4  # pyloudnorm's gating block


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _stereo(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` as float32 ``(n, 2)``: mono doubled, extra channels dropped, padded with silence."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape == (n, 2):
        return x
    if x.shape[1] == 1:
        x = np.repeat(x, 2, axis=1)
    out = np.zeros((n, 2), dtype=np.float32)
    out[: min(n, len(x))] = x[:n, :2]
    return out


def each_channel(fn, rows: list[np.ndarray]) -> list[np.ndarray]:
    """``fn`` of each channel's samples, in channel order; long audio in a thread a channel
    (SciPy's filters and resampler run outside the GIL: a 3-minute master 2.2 → 1.5 s)."""
    if len(rows) < 2 or len(rows[0]) < THREADED_SAMPLES:
        return [fn(row) for row in rows]
    with ThreadPoolExecutor(max_workers=len(rows)) as pool:
        return list(pool.map(fn, rows))


def k_weighted_power(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """BS.1770 K-weighted signal power summed over channels (all weighted 1, as for stereo),
    shape ``(n_samples,)``: what integrated loudness averages. ``samples`` is ``(n_samples,
    n_channels)`` or mono ``(n_samples,)``."""
    import pyloudnorm
    from scipy.signal import sosfilt, tf2sos

    x = np.asarray(samples)
    rows = [x] if x.ndim == 1 else [x[:, ch] for ch in range(x.shape[1])]
    stages = list(pyloudnorm.Meter(sample_rate)._filters.values())
    sos = np.concatenate([tf2sos(st.b, st.a) for st in stages])
    gain = float(np.prod([st.passband_gain for st in stages]))

    def squared(row: np.ndarray) -> np.ndarray:
        y = sosfilt(sos, np.ascontiguousarray(row, dtype=np.float64))
        y *= y
        return y

    power = np.zeros(len(x))
    for y in each_channel(squared, rows):  # summed in channel order: the same result every time
        power += y
    return (gain * gain) * power


def gated_loudness(power: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS from :func:`k_weighted_power`: 400 ms blocks every 100 ms,
    absolute gate -70 LUFS, relative gate -10 LU (ITU-R BS.1770-4, block edges as pyloudnorm
    places them); ``-inf`` when every block is below the absolute gate."""
    n = len(power)
    block = _MIN_LUFS_S
    n_blocks = int(np.round((n / sample_rate - block) / (block * 0.25))) + 1
    if n_blocks < 1:
        return float("-inf")
    j = np.arange(n_blocks)
    lo = (block * (j * 0.25) * sample_rate).astype(int)
    hi = np.minimum((block * (j * 0.25 + 1) * sample_rate).astype(int), n)
    cs = np.concatenate([[0.0], np.cumsum(power)])
    z = (cs[hi] - cs[lo]) / (block * sample_rate)
    with np.errstate(divide="ignore"):
        lj = -0.691 + 10 * np.log10(z)
    above = lj >= -70.0
    if not above.any():
        return float("-inf")
    gamma_r = -0.691 + 10 * np.log10(z[above].mean()) - 10.0
    keep = (lj > gamma_r) & above
    if not keep.any():
        return float("-inf")
    return float(-0.691 + 10 * np.log10(z[keep].mean()))


def integrated_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """ITU-R BS.1770 integrated loudness in LUFS (``-inf`` for silence); short audio is padded
    with silence to one 400 ms gating block."""
    x = np.asarray(samples, dtype=np.float64)
    need = int(np.ceil(_MIN_LUFS_S * sample_rate)) + 1
    if len(x) < need:
        x = np.concatenate([x, np.zeros((need - len(x),) + x.shape[1:])])
    return gated_loudness(k_weighted_power(x, sample_rate), sample_rate)


def true_peak_envelope(samples: np.ndarray, *, oversample: int = OVERSAMPLE) -> np.ndarray:
    """Per input sample, the largest absolute value over the channels and over the
    ``oversample`` upsampled points that follow it: the true-peak envelope, shape ``(n_samples,)``."""
    from representations.dsp import resample_poly

    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    env = np.abs(x).max(axis=1)

    def upsampled_peaks(col: np.ndarray) -> np.ndarray:
        up = resample_poly(np.ascontiguousarray(col), oversample, 1)
        np.abs(up, out=up)
        peaks = up[0::oversample].copy()
        for k in range(1, oversample):
            np.maximum(peaks, up[k::oversample], out=peaks)
        return peaks

    for peaks in each_channel(upsampled_peaks, [x[:, ch] for ch in range(x.shape[1])]):
        np.maximum(env, peaks, out=env)
    return env


def true_peak_db(samples: np.ndarray, *, oversample: int = OVERSAMPLE) -> float:
    """True peak in dBTP, measured on the ``oversample``-times upsampled signal."""
    if len(samples) == 0:
        return float("-inf")
    peak = float(true_peak_envelope(samples, oversample=oversample).max())
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


def _true_peak_near(samples: np.ndarray, estimate: np.ndarray, level: float, *, block: int = 4096) -> float:
    """Exact true peak (linear) of ``samples`` ``(n, ch)`` measured only in the blocks where
    ``estimate`` (a close estimate of its true-peak envelope) comes within a few tenths of a dB
    of ``level``; elsewhere the estimate stands."""
    n = len(samples)
    near = estimate > level * 10 ** (-0.6 / 20)
    peak = float(estimate[~near].max()) if (~near).any() else 0.0
    ids = np.unique(np.flatnonzero(near) // block)
    if len(ids) == 0:
        return peak
    breaks = np.flatnonzero(np.diff(ids) > 1)
    starts = np.concatenate([[ids[0]], ids[breaks + 1]])
    ends = np.concatenate([ids[breaks], [ids[-1]]]) + 1
    pad = 64
    for a, b in zip(starts * block, np.minimum(ends * block, n)):
        lo, hi = max(0, a - pad), min(n, b + pad)
        env = true_peak_envelope(samples[lo:hi])
        peak = max(peak, float(env[a - lo:b - lo].max()))
    return peak


@dataclass
class BandMix:
    """The band processed (channel-first ``(2, n)`` float32) and mastered alone
    (``(audio, gains)``, as :meth:`MasteringMixer._master` returns them)."""

    bus: np.ndarray
    sample_rate: int
    master: tuple[np.ndarray, tuple[float, float, float]]


@MIXERS.register("master")
class MasteringMixer(Mixer):
    """EQ, reverb, vocal production, bus compression and loudness mastering.

    Parameters
    ----------
    target_lufs : float
        Integrated loudness of the master in LUFS.
    true_peak_limit_db : float
        Highest true peak of the master in dBTP.
    vocal_lift_db : float
        Loudness of the dry lead vocal above the accompaniment, in dB.
    reverb : bool
        Add the reverb sends (instruments and vocal).
    """

    name = "master"

    def __init__(self, *, target_lufs: float = -14.0, true_peak_limit_db: float = -1.0, vocal_lift_db: float = 3.0,
                 reverb: bool = True):
        if not -40.0 <= target_lufs <= -5.0:
            raise ValueError(f"target_lufs {target_lufs} is not valid (valid: -40 to -5)")
        if not -12.0 <= true_peak_limit_db <= 0.0:
            raise ValueError(f"true_peak_limit_db {true_peak_limit_db} is not valid (valid: -12 to 0)")
        self.target_lufs, self.true_peak_limit_db = target_lufs, true_peak_limit_db
        self.vocal_lift_db, self.reverb = vocal_lift_db, reverb

    # ---- public -------------------------------------------------------------------------------
    def mix(self, stems: StemSet, *, vocals: Audio | None = None) -> Audio:
        """The mastered stereo float32 mix, as long as the longest stem (or the vocals if longer)."""
        return self.mix_song(stems, vocals=vocals, with_accompaniment=False).mix

    def mix_band(self, stems: StemSet) -> BandMix | None:
        """The band processed and mastered alone (the accompaniment), ready for
        :meth:`mix_song` before the vocals are sung; None without stems."""
        if not stems.stems:
            return None
        n = max(len(a.samples) for a in stems.stems.values())
        bus = self._band(stems, 0, n, stems.sample_rate)
        return BandMix(bus, stems.sample_rate, self._master(bus.copy(), stems.sample_rate))

    def mix_song(self, stems: StemSet, *, vocals: Audio | None = None, with_accompaniment: bool = True,
                 band: BandMix | None = None) -> MixResult:
        """Mix, accompaniment (when asked and there are vocals; the band is processed once) and the
        gains each was mastered with. ``band``: :meth:`mix_band` of the same stems (the same
        result, sooner); used when it is as long as the vocals, and taken over (its buffer becomes
        the mix's)."""
        if not stems.stems and vocals is None:
            raise AudioInputError("nothing to mix: no stems and no vocals (valid: at least one stem)")
        sr = stems.sample_rate if stems.stems else vocals.sample_rate
        if vocals is not None and vocals.sample_rate != sr:
            vocals = self._resampled(vocals, sr)
        n = max([len(a.samples) for a in stems.stems.values()] + ([len(vocals.samples)] if vocals is not None else []))
        if band is not None and (band.bus.shape[1] != n or band.sample_rate != sr):
            band = None
        bus = band.bus if band is not None else self._band(stems, 0, n, sr)  # channel-first (2, n) from here on
        accompaniment, acc_params = None, None
        with ThreadPoolExecutor(max_workers=1) as pool:  # both masters at once (3-min song: 7.6 -> 5.4-6.1 s)
            keep_band = with_accompaniment and vocals is not None
            band_master = pool.submit(self._master, bus.copy(), sr) if keep_band and band is None else None
            vocal_gain = None
            if vocals is not None:
                voice, vocal_gain = self._vocal(vocals, 0, n, sr, bus)
                if voice is not None:
                    bus += voice
            y, (pre_gain, master_gain_db, post_gain) = self._master(bus, sr)
            if keep_band:
                y_band, gains = band.master if band is not None else band_master.result()
                accompaniment, acc_params = Audio(np.ascontiguousarray(y_band.T), sr), MixParams(None, *gains)
        mix = Audio(np.ascontiguousarray(y.T), sr)
        params = MixParams(vocal_gain, pre_gain, master_gain_db, post_gain)
        if accompaniment is None:
            accompaniment, acc_params = mix, params
        return MixResult(mix, accompaniment, params, acc_params)

    def remix_region(self, stems: StemSet, *, vocals: Audio | None, start: int, stop: int, params: MixParams,
                     preroll_s: float = 3.0) -> np.ndarray:
        """Samples ``[start, stop)`` of the mix made with ``params``, computed from that region alone.

        Effects run from ``preroll_s`` before ``start`` so their state has settled; the gains are
        the full mix's, so the region matches it up to the limiter's and compressors' memory.
        Returns float32 ``(stop - start, 2)``.
        """
        sr = stems.sample_rate if stems.stems else vocals.sample_rate
        lo = max(0, start - int(preroll_s * sr))
        bus = self._band(stems, lo, stop, sr)
        if vocals is not None and params.vocal_gain is not None:
            voice, _ = self._vocal(vocals, lo, stop, sr, bus, gain=params.vocal_gain)
            if voice is not None:
                bus += voice
        y, _ = self._master(bus, sr, params=params)
        return np.ascontiguousarray(y[:, start - lo:].T)

    # ---- stages (audio is channel-first, (2, n_samples) float32) -------------------------------
    def _band(self, stems: StemSet, lo: int, hi: int, sr: int) -> np.ndarray:
        """Processed instruments and their reverb for samples ``[lo, hi)``."""
        from pedalboard import HighpassFilter, Pedalboard, PeakFilter, Reverb

        from generators.instruments import instrument_for_track

        n = hi - lo

        def process(name: str) -> tuple[np.ndarray, float]:
            x = np.ascontiguousarray(_stereo(stems.stems[name].samples[lo:hi], n).T)
            inst = instrument_for_track(name)
            role = inst.role if inst is not None else "chords"
            hp, send_level = ROLE_PROCESSING.get(role, ROLE_PROCESSING["chords"])
            chain = [HighpassFilter(hp)]
            if role not in ("drums", "bass", "timpani"):
                chain.append(PeakFilter(350.0, -2.0, 1.0))  # a little less low-mid mud
            return Pedalboard(chain)(x, sr), send_level

        names = sorted(stems.stems)
        with ThreadPoolExecutor(max_workers=_workers()) as pool:  # pedalboard runs outside the GIL
            processed = list(pool.map(process, names))
        dry = np.zeros((2, n), dtype=np.float32)
        send = np.zeros((2, n), dtype=np.float32)
        for y, send_level in processed:  # summed in name order: the same result every time
            dry += y
            if send_level:
                send += np.float32(send_level) * y
        if self.reverb and send.any():
            room = Pedalboard([HighpassFilter(200.0), Reverb(room_size=0.45, damping=0.55, wet_level=1.0,
                                                             dry_level=0.0, width=0.9)])
            dry += np.float32(0.5) * room(send, sr)
        return dry

    def _vocal(self, vocals: Audio, lo: int, hi: int, sr: int, band: np.ndarray, *,
               gain: float | None = None) -> tuple[np.ndarray | None, float | None]:
        """The produced lead vocal for samples ``[lo, hi)`` and its gain: ``gain`` when given, else
        the one that sets it ``vocal_lift_db`` above ``band``."""
        from pedalboard import Compressor, Delay, HighpassFilter, HighShelfFilter, Pedalboard, PeakFilter, Reverb

        n = hi - lo
        x = np.asarray(vocals.samples[lo:hi], dtype=np.float32).mean(axis=1)
        mono = np.zeros((1, n), dtype=np.float32)
        mono[0, : min(n, len(x))] = x[:n]
        chain = Pedalboard([HighpassFilter(90.0), Compressor(threshold_db=-20.0, ratio=3.0, attack_ms=5.0, release_ms=80.0),
                            PeakFilter(3000.0, 3.0, 0.8), HighShelfFilter(10000.0, 1.5, 0.7)])
        dry = chain(mono, sr)[0]
        if gain is None:
            loud_v = integrated_lufs(dry, sr) + 10 * np.log10(2)  # as the same signal on both channels
            if not np.isfinite(loud_v):
                return None, None  # a silent vocal adds nothing
            loud_b = integrated_lufs(band.T, sr)
            ref = loud_b if np.isfinite(loud_b) else -20.0
            gain = float(10 ** ((ref + self.vocal_lift_db - loud_v) / 20))
        dry *= np.float32(gain)
        out = np.stack([dry, dry])
        if self.reverb:
            plate = Pedalboard([HighpassFilter(250.0), Reverb(room_size=0.35, damping=0.6, wet_level=1.0, dry_level=0.0, width=1.0)])
            echo = Pedalboard([HighpassFilter(300.0), Delay(delay_seconds=0.27, feedback=0.18, mix=1.0)])
            with ThreadPoolExecutor(max_workers=2) as pool:
                wet = list(pool.map(lambda fx: fx(out, sr), (plate, echo)))
            out += np.float32(0.22) * wet[0] + np.float32(0.1) * wet[1]
        return out, gain

    def _master(self, bus: np.ndarray, sr: int, *, params: MixParams | None = None) -> tuple[np.ndarray, tuple[float, float, float]]:
        """Bus compression, loudness gain and limiting; with ``params``, their recorded gains.

        Returns the mastered ``(2, n)`` audio and ``(pre_gain, master_gain_db, post_gain)``.
        """
        from pedalboard import Compressor, Pedalboard

        n = bus.shape[1]
        need = int(np.ceil(_MIN_LUFS_S * sr)) + 1
        if n < need and params is None:  # shorter than one loudness block: master it padded with silence
            y, gains = self._master(np.pad(bus, ((0, 0), (0, need - n))), sr)
            return y[:, :n], gains
        compressor = Pedalboard([Compressor(threshold_db=-22.0, ratio=2.0, attack_ms=20.0, release_ms=200.0)])
        ceiling = self.true_peak_limit_db - 0.3
        if params is not None:
            x = compressor(bus * np.float32(params.pre_gain), sr)
            gain = 10 ** (params.master_gain_db / 20)
            g = gain * limiter_gain(true_peak_envelope(x.T) * gain, sr, ceiling_db=ceiling)
            y = (x * g.astype(np.float32)[None, :]).astype(np.float32)
            return y * np.float32(params.post_gain), (params.pre_gain, params.master_gain_db, params.post_gain)
        loud = integrated_lufs(bus.T, sr)
        if not np.isfinite(loud):
            raise AudioInputError("the stems and vocals are silent (integrated loudness -inf LUFS): nothing to master "
                                  "(valid: audio with sound in it)")
        pre_gain = float(10 ** ((-20.0 - loud) / 20))  # a known level for the bus compressor
        x = compressor(bus * np.float32(pre_gain), sr)
        # The limiter's gain varies slowly, so the output's K-weighted power and true-peak envelope
        # are the input's scaled by the gain squared and by the gain: iterate on those, then measure.
        power = k_weighted_power(x.T, sr)
        env = true_peak_envelope(x.T)
        gain_db = self.target_lufs - gated_loudness(power, sr)
        bias = 0.0
        for _ in range(3):
            for _ in range(8):
                used_db = gain_db
                g = 10 ** (used_db / 20) * limiter_gain(env * 10 ** (used_db / 20), sr, ceiling_db=ceiling)
                err = self.target_lufs + bias - gated_loudness(power * g * g, sr)
                if abs(err) <= 0.02:
                    break
                gain_db += err
            y = (x * g.astype(np.float32)[None, :]).astype(np.float32)
            miss = self.target_lufs - integrated_lufs(y.T, sr)
            if abs(miss) <= 0.1:
                break
            bias += miss
        limit_lin = 10 ** (self.true_peak_limit_db / 20)
        tp = 20 * np.log10(max(_true_peak_near(y.T, env * g, limit_lin), 1e-12))
        post_gain = 1.0
        if tp > self.true_peak_limit_db:  # the estimate fell short: trade a little loudness for the limit
            post_gain = float(10 ** ((self.true_peak_limit_db - 0.02 - tp) / 20))
            y *= np.float32(post_gain)
        return y, (pre_gain, float(used_db), post_gain)

    @staticmethod
    def _resampled(audio: Audio, sr: int) -> Audio:
        from math import gcd

        from representations.dsp import resample_poly

        g = gcd(audio.sample_rate, sr)
        return Audio(resample_poly(audio.samples, sr // g, audio.sample_rate // g, axis=0).astype(np.float32), sr)
