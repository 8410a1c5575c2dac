"""Zero-shot voice conversion with WORLD: re-voice a recording in the voice of a short reference.

The default backend ``"world"`` needs no model weights. Both recordings are analysed with WORLD
(dio + stonemask, cheaptrick, d4c; :mod:`voice.conversion_synth`) and summarised as
:class:`~voice.conversion_profile.VoiceProfile`. Then, for every frame of the source:

* F0 is multiplied by ``2 ** (k / 12)`` for one whole-number ``k`` chosen for the whole
  recording (whole octaves by default, and only for a melody 9 semitones or more from the
  reference's comfortable centre), so melody intervals stay exact and the melody moves into the
  reference's comfortable register;
* the spectral envelope is warped along frequency by the ratio that best lines up the two
  average envelopes (vocal tract length), then corrected by the mean difference between each
  source frame and its nearest reference frames, smoothed over 0.15 octave (formant levels and
  spectral tilt; like sounds are compared with like, so a song's held vowels against speech's
  mix of sounds do not read as a difference of voice);
* aperiodicity moves part of the way to the reference's average (breathiness; only when the
  result is re-synthesised, see below).

When the melody moves, the result is synthesised (:func:`voice.conversion_synth.synthesize`);
when it stays, the source itself is filtered by the ratio of new to old envelope
(:func:`voice.conversion_synth.filter_by_envelope`), which keeps its excitation untouched (a WORLD
re-synthesis of sung vocals alone costs about 10 points of Whisper word error rate). Either way
the output has the source's rate, length and loudness. Each voiced frame's envelope also moves
half-way (``frame_matching``) towards the mean of its 4 nearest reference frames (compared by
voice-normalised mel cepstra).

benchmarks/voice_clone.py (full run, 2 songs x 7 references) measures these defaults at +0.109
speaker similarity, +7.0 points of Whisper (worst +16.7) and +7.8 of pocketsphinx word error
rate, at 41x real time; on seven other voices (``--references validation``) +0.121, +4.6 (worst
+11.9) and +8.8. That is with the presets' lines spoken slowly before they are sung (the songs'
own Whisper WER 0.00 / 0.05); before it +0.098 / +0.108, +4.3 / +6.8 Whisper and +7.1 / +10.9
pocketsphinx, with one validation voice (espeak en+m1) losing 48 points of Whisper on the male
song; and before the rhythm that keeps spoken proportions +4.3 / +4.3 Whisper and +9.5 / +13.1
pocketsphinx, the same likeness. Before the singer gave each harmonic its band of the envelope
(:func:`voice.timbre.harmonic_band_envelope`), the same defaults measured +0.106 / +0.120,
Whisper +6.8 / +10.7 and pocketsphinx +5.1 / +6.8: the sung alto became easier for pocketsphinx
(0.83 -> 0.69) while its conversions stayed at 0.81-0.98, and they lost about 0.015 of likeness.
Moving the melody to the nearest octave instead (a move from 6 semitones away) gave +0.101 / +0.099 at +11.4 / +12.9
Whisper points: a re-synthesised octave move costs likeness and words that the filter path keeps.
With that rule and the voices' former placement, the difference of the two average envelopes
instead of matched frames (``correction="mean"``) gave +0.101 and +0.097, and matched frames
+0.105 and +0.103; the defaults before that (half of the mean correction, smoothed over 0.25
octave, 8 neighbours) +0.082 on both; without frame matching the gain is about +0.05. Stronger
matching is closer to the reference and harder to understand: 0.6 of the way gave +0.107 /
+0.101 (mean correction) at +19.9 / +23.0 Whisper points. Most of the word loss comes from
moving a song up or down an octave (benchmarks/FINDINGS.md, "Sung words at high pitch").
A neural backend (``"neural"``, :mod:`voice.conversion_neural`) plugs into the same role.

The plan, with the silence floor, frame-matching offset and level gain found on the whole
recording, can be saved (:meth:`ConversionPlan.to_dict`) and applied later to a part of the same
recording, e.g. a re-sung line, by :meth:`WorldConverter.convert_with_plan`: it analyses only the
span that sounds, on the whole recording's grids, and gives the samples the whole conversion gives
there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd

import numpy as np

from representations.audio import Audio
from representations.errors import AudioInputError

from .base import VOICE_CONVERTERS, VoiceConverter
from .conversion_profile import (VoiceProfile, envelope_correction, estimate_warp, feature_offset, frame_features,
                                 matched_difference, matched_envelopes, matching_weights, register_shift, voice_profile,
                                 warp_log_env, warp_range)
from .conversion_synth import (DIO_SPEED, HOP, WORK_RATE, WorldParams, analyse, filter_by_envelope, filter_size,
                               silence_floor_db, synthesize)

REGISTER_MODES = ("octave", "semitone")
CORRECTIONS = ("mean", "matched")
MAX_SHIFT_ST = 24
MARGIN_S = 0.1  # audio analysed around the sounding span of a part (reach of the analysis windows)


def resample(x: np.ndarray, orig_hz: int, target_hz: int) -> np.ndarray:
    """``x`` (first axis: time) resampled from ``orig_hz`` to ``target_hz`` (polyphase)."""
    if orig_hz == target_hz:
        return np.asarray(x, dtype=np.float64)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(orig_hz), int(target_hz))
    return resample_poly(np.asarray(x, dtype=np.float64), target_hz // g, orig_hz // g, axis=0)


def analyse_audio(audio: Audio) -> WorldParams:
    """WORLD parameters of ``audio`` (mixed to mono, resampled to ``WORK_RATE``)."""
    return analyse(resample(audio.mono(), audio.sample_rate, WORK_RATE))


def reference_profile(reference: Audio, *, name: str = "reference") -> VoiceProfile:
    """The profile of a reference recording; :class:`AudioInputError` when it holds too little
    voice (noise, music without a voice, whispers)."""
    profile = voice_profile(analyse_audio(reference), keep_frames=True)
    if profile is None:
        raise AudioInputError(f"{name}: no voice found (less than 1 s of voiced sound; valid: 3-30 s of speech or "
                              f"singing by one person)")
    return profile


_PROFILE_ARRAYS = ("log_env", "ap_mean")


def _profile_to_dict(p: VoiceProfile) -> dict:
    return {"f0_median_midi": p.f0_median_midi, "f0_low_midi": p.f0_low_midi, "f0_high_midi": p.f0_high_midi,
            "singing": p.singing, "voiced_s": p.voiced_s} | {k: getattr(p, k).tolist() for k in _PROFILE_ARRAYS}


def _profile_from_dict(d: dict) -> VoiceProfile:
    return VoiceProfile(**{k: np.asarray(v, dtype=np.float64) if k in _PROFILE_ARRAYS else v for k, v in d.items()})


@dataclass
class ConversionPlan:
    """How one source is turned towards one reference; summarised in song manifests
    (:meth:`info`) and kept whole beside converted songs (:meth:`to_dict`).

    ``floor_db`` (the silence floor), ``feature_offset`` (the source's mean frame features for
    frame matching) and ``level_gain`` (the gain that matched the output's level to the source)
    are found on the whole source by its conversion and then kept, so that converting a part
    of the source later repeats them instead of measuring the part; ``source_samples`` and
    ``source_rate`` (its length and rate) place the part on the whole one's analysis grid.
    """

    shift_semitones: int
    warp_ratio: float
    envelope_gain: np.ndarray = field(repr=False)  # natural-log power gain per bin
    ap_delta: np.ndarray = field(repr=False)  # added to voiced aperiodicity, per bin
    source: VoiceProfile | None = field(default=None, repr=False)
    reference: VoiceProfile | None = field(default=None, repr=False)
    floor_db: float | None = None
    feature_offset: np.ndarray | None = field(default=None, repr=False)
    level_gain: float | None = None
    source_samples: int | None = None
    source_rate: int | None = None

    def info(self) -> dict:
        out = {"shift_semitones": self.shift_semitones, "warp_ratio": round(self.warp_ratio, 3)}
        if self.reference is not None:
            out["reference"] = self.reference.to_dict()
        return out

    def to_dict(self) -> dict:
        """Everything but the reference profile, JSON-ready (floats round-trip exactly)."""
        arr = lambda a: None if a is None else np.asarray(a, dtype=np.float64).tolist()  # noqa: E731
        return {"shift_semitones": int(self.shift_semitones), "warp_ratio": float(self.warp_ratio),
                "envelope_gain": arr(self.envelope_gain), "ap_delta": arr(self.ap_delta),
                "source": _profile_to_dict(self.source) if self.source is not None else None,
                "floor_db": self.floor_db, "feature_offset": arr(self.feature_offset), "level_gain": self.level_gain,
                "source_samples": self.source_samples, "source_rate": self.source_rate}

    @classmethod
    def from_dict(cls, d: dict, *, reference: VoiceProfile | None = None) -> "ConversionPlan":
        """The plan :meth:`to_dict` wrote, with ``reference`` (the profile of the same reference
        audio, frames included) put back; unknown or missing keys raise ``ValueError``."""
        keys = set(cls.__dataclass_fields__) - {"reference"}
        if set(d) != keys:
            raise ValueError(f"conversion plan keys {sorted(set(d) ^ keys)} are unknown or missing "
                             f"(valid: {', '.join(sorted(keys))})")
        arr = lambda a: None if a is None else np.asarray(a, dtype=np.float64)  # noqa: E731
        return cls(int(d["shift_semitones"]), float(d["warp_ratio"]), arr(d["envelope_gain"]), arr(d["ap_delta"]),
                   _profile_from_dict(d["source"]) if d["source"] is not None else None, reference,
                   d["floor_db"], arr(d["feature_offset"]), d["level_gain"], d["source_samples"], d["source_rate"])


@VOICE_CONVERTERS.register("world")
class WorldConverter(VoiceConverter):
    """WORLD-based timbre and register transfer (no model weights).

    Parameters
    ----------
    register : str
        "octave" (default): the melody moves by whole octaves only, so it stays in the key of
        any accompaniment; "semitone": by any whole number of semitones.
    shift_semitones : int, optional
        A fixed shift instead of the automatic choice (-24 to 24).
    warp : bool
        Warp the envelope along frequency towards the reference.
    envelope_strength : float
        Share (0-1) of the smoothed average-envelope difference applied.
    ap_strength : float
        Share (0-1) of the average aperiodicity difference applied.
    smoothing_octaves : float
        Width of the smoothing of the envelope difference, in octaves.
    frame_matching : float
        Share (0-1) of each voiced frame's log envelope replaced by the mean of its
        ``neighbours`` nearest reference frames: closer to the reference voice, less
        intelligible at 1.
    low_band_matching : float
        Share (0-1) of ``frame_matching`` applied below 1 kHz (the formants that carry the
        words); it rises to all of it at 3 kHz (:func:`~voice.conversion_profile.matching_weights`).
    neighbours : int
        How many nearest reference frames each frame is matched to (1-64): fewer sound more
        like the reference, more are smoother.
    filter_when_unshifted : bool
        With no melody move, filter the source instead of re-synthesising it.
    seed : int
        Seed of the synthesiser's noise.
    correction : str
        "matched" (default): the envelope correction is the mean difference between source
        frames and their nearest reference frames; "mean": the difference of the two average
        envelopes.
    """

    name = "world"

    def __init__(self, *, register: str = "octave", shift_semitones: int | None = None, warp: bool = True,
                 envelope_strength: float = 1.0, ap_strength: float = 0.5, smoothing_octaves: float = 0.15,
                 frame_matching: float = 0.5, low_band_matching: float = 1.0, neighbours: int = 4,
                 filter_when_unshifted: bool = True, seed: int = 0, correction: str = "matched"):
        if correction not in CORRECTIONS:
            raise ValueError(f"correction {correction!r} is not valid (valid: {', '.join(CORRECTIONS)})")
        if register not in REGISTER_MODES:
            raise ValueError(f"register {register!r} is not valid (valid: {', '.join(REGISTER_MODES)})")
        if shift_semitones is not None and not -MAX_SHIFT_ST <= shift_semitones <= MAX_SHIFT_ST:
            raise ValueError(f"shift {shift_semitones} semitones is not valid "
                             f"(valid: -{MAX_SHIFT_ST} to {MAX_SHIFT_ST})")
        for label, v in (("envelope_strength", envelope_strength), ("ap_strength", ap_strength),
                         ("frame_matching", frame_matching), ("low_band_matching", low_band_matching)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{label} {v} is not valid (valid: 0-1)")
        if not 1 <= neighbours <= 64:
            raise ValueError(f"neighbours {neighbours} is not valid (valid: 1-64)")
        self.register, self.shift_semitones, self.warp = register, shift_semitones, warp
        self.envelope_strength, self.ap_strength = envelope_strength, ap_strength
        self.smoothing_octaves, self.seed = smoothing_octaves, seed
        self.frame_matching, self.low_band_matching = frame_matching, low_band_matching
        self.neighbours, self.filter_when_unshifted = int(neighbours), filter_when_unshifted
        self.correction = correction
        self.last_plan: ConversionPlan | None = None

    def config(self) -> dict:
        """The constructor arguments: ``WorldConverter(**c.config())`` converts the same way."""
        return {"register": self.register, "shift_semitones": self.shift_semitones, "warp": self.warp,
                "envelope_strength": self.envelope_strength, "ap_strength": self.ap_strength,
                "smoothing_octaves": self.smoothing_octaves, "frame_matching": self.frame_matching,
                "low_band_matching": self.low_band_matching, "neighbours": self.neighbours,
                "filter_when_unshifted": self.filter_when_unshifted, "seed": self.seed, "correction": self.correction}

    # ---- public -------------------------------------------------------------------------------
    def convert(self, audio: Audio, reference: Audio, *, source_midi: float | None = None) -> Audio:
        """``audio`` re-voiced towards ``reference``: mono, at ``audio``'s rate and length.

        Parameters
        ----------
        audio : Audio
            The recording to convert (one voice, dry).
        reference : Audio
            A few seconds of the target voice, speaking or singing.
        source_midi : float, optional
            Centre of the source's melody (MIDI pitch), e.g. the median sung note; measured from
            the audio when not given.

        The plan used is left in ``self.last_plan``.
        """
        return self.convert_with_profile(audio, reference_profile(reference), source_midi=source_midi)

    def convert_with_profile(self, audio: Audio, profile: VoiceProfile, *, source_midi: float | None = None) -> Audio:
        """As :meth:`convert`, with the reference already summarised by :func:`reference_profile`."""
        src = audio.mono()
        x = resample(src, audio.sample_rate, WORK_RATE)
        floor_db = silence_floor_db(x)
        params = analyse(x, floor_db=floor_db)
        plan = self.plan(params, profile, source_midi=source_midi)
        plan.floor_db = floor_db
        y = self._render(src, audio.sample_rate, x, params, plan, frame_offset=0)
        plan.level_gain = _level_gain(y, src, params, sample_rate=audio.sample_rate)
        plan.source_samples, plan.source_rate = len(src), audio.sample_rate
        self.last_plan = plan
        return Audio(np.clip(y * plan.level_gain, -1.0, 1.0).astype(np.float32)[:, None], audio.sample_rate)

    def convert_with_plan(self, audio: Audio, plan: ConversionPlan) -> Audio:
        """Part of a recording converted by the plan its whole conversion left in ``last_plan``.

        Parameters
        ----------
        audio : Audio
            Mono, at the whole recording's rate, from its start (at most as long as it): the
            part (e.g. one sung line) where it sounds, zeros elsewhere.
        plan : ConversionPlan
            A plan from :meth:`convert_with_profile` (or :meth:`ConversionPlan.from_dict`);
            its silence floor, level gain and source length are used, nothing is measured again.

        Returns
        -------
        Audio
            Mono float32, ``audio``'s rate and length: zeros outside the sounding span plus
            ``MARGIN_S``; inside it, the samples the whole conversion gave where only this part
            sounded (analysis and synthesis run on the whole recording's grids).
        """
        if plan.level_gain is None or plan.source_samples is None:
            raise ValueError("the plan has no level gain or source length (valid: a plan left by convert_with_profile)")
        sr, n = audio.sample_rate, plan.source_samples
        if sr != plan.source_rate or audio.samples.shape[0] > n:
            raise ValueError(f"audio of {audio.samples.shape[0]} samples at {sr} Hz does not fit the plan's source "
                             f"(valid: at most {n} samples at {plan.source_rate} Hz)")
        x = audio.mono()
        out = np.zeros(len(x), np.float32)
        sounding = np.flatnonzero(x)
        if sounding.size:
            start_unit, end_unit = _grid_units(sr, filtered=self._filters(plan))
            margin = int(MARGIN_S * sr)
            a = max(0, int(sounding[0]) - margin) // start_unit * start_unit
            b = n - (n - min(n, int(sounding[-1]) + 1 + margin)) // end_unit * end_unit  # dio decimates from the end
            part = np.zeros(b - a, np.float32)
            part[: min(b, len(x)) - a] = x[a:b]
            frame_offset = a * WORK_RATE // sr // HOP
            xw = resample(part, sr, WORK_RATE)
            params = analyse(xw, floor_db=plan.floor_db, frame_offset=frame_offset)
            y = self._render(part, sr, xw, params, plan, frame_offset=frame_offset)
            m = min(b, len(x)) - a
            out[a:a + m] = np.clip(y[:m] * plan.level_gain, -1.0, 1.0)
        return Audio(out[:, None], sr)

    def _filters(self, plan: ConversionPlan) -> bool:
        return plan.shift_semitones == 0 and self.filter_when_unshifted

    def _render(self, src: np.ndarray, sample_rate: int, x: np.ndarray, params: WorldParams, plan: ConversionPlan, *,
                frame_offset: int) -> np.ndarray:
        """The converted source before level matching, at ``sample_rate``, as long as ``src``
        (``x`` is ``src`` at ``WORK_RATE`` and ``params`` its analysis)."""
        converted = self.apply(params, plan, frame_matching=self.frame_matching,
                               low_band_matching=self.low_band_matching, neighbours=self.neighbours)
        if self._filters(plan):
            # the melody stays: change the timbre by filtering the source itself (no re-synthesis)
            log_gain = np.log(np.maximum(converted.sp, 1e-20)) - np.log(np.maximum(params.sp, 1e-20))
            log_gain[~params.active] = 0.0
            return filter_by_envelope(src, sample_rate, log_gain)
        y = resample(synthesize(converted, seed=self.seed, frame_offset=frame_offset), WORK_RATE, sample_rate)
        return np.pad(y[:len(src)], (0, max(0, len(src) - len(y))))

    def plan(self, params: WorldParams, reference: VoiceProfile, *, source_midi: float | None = None) -> ConversionPlan:
        """The conversion of analysed source ``params`` towards ``reference``."""
        source = voice_profile(params)
        n_bins = params.sp.shape[1]
        if source is None:  # nothing voiced to convert: leave the timbre, shift nothing
            return ConversionPlan(self.shift_semitones or 0, 1.0, np.zeros(n_bins), np.zeros(n_bins), None, reference)
        if self.shift_semitones is not None:
            shift = self.shift_semitones
        else:
            centre = source.f0_median_midi if source_midi is None else source_midi
            shift = register_shift(centre, reference.comfortable_midi, mode=self.register)
            shift = int(np.clip(shift, -MAX_SHIFT_ST, MAX_SHIFT_ST))
        ratio = 1.0
        if self.warp:
            ratio = estimate_warp(source.log_env, reference.log_env, ratio_range=warp_range(source, reference))
        warped = warp_log_env(source.log_env, ratio)
        if self.correction == "matched" and reference.frames is not None:
            frames = warp_log_env(np.log(np.maximum(params.sp[params.voiced], 1e-20)), ratio)
            target = warped + matched_difference(frames, warped, reference, k=self.neighbours)
        else:
            target = reference.log_env
        gain = envelope_correction(warped, target, octaves=self.smoothing_octaves) * self.envelope_strength
        ap_delta = np.asarray((reference.ap_mean - source.ap_mean) * self.ap_strength, dtype=np.float64)
        return ConversionPlan(shift, ratio, gain, ap_delta, source, reference)

    @staticmethod
    def apply(params: WorldParams, plan: ConversionPlan, *, frame_matching: float = 0.0,
              low_band_matching: float = 1.0, neighbours: int = 8) -> WorldParams:
        """Source parameters with the plan applied (F0 shift, warp, envelope gain, aperiodicity).

        Frame matching compares frames with the source's mean features removed: the first
        conversion with a plan measures them (``plan.feature_offset``), later ones reuse them.
        """
        f0 = params.f0 * 2.0 ** (plan.shift_semitones / 12.0)
        active = params.active
        log_sp = np.log(np.maximum(params.sp[active], 1e-20))
        if plan.warp_ratio != 1.0:
            log_sp = warp_log_env(log_sp, plan.warp_ratio)
        sp = params.sp.copy()
        log_sp = log_sp + plan.envelope_gain[None, :]
        if frame_matching > 0 and plan.source is not None and plan.reference is not None \
                and plan.reference.frames is not None:
            vin = params.voiced[active]
            mean = warp_log_env(plan.source.log_env, plan.warp_ratio) + plan.envelope_gain
            features = frame_features(log_sp[vin])
            if plan.feature_offset is None:
                plan.feature_offset = feature_offset(features, mean)
            knn = matched_envelopes(log_sp[vin], mean, plan.reference, offset=plan.feature_offset,
                                    source_features=features, positions=np.flatnonzero(params.voiced), k=neighbours)
            share = frame_matching * matching_weights(low_share=low_band_matching)
            log_sp[vin] = (1 - share) * log_sp[vin] + share * knn
        sp[active] = np.exp(log_sp)
        ap = params.ap.copy()
        v = params.voiced
        ap[v] = np.clip(ap[v] + plan.ap_delta[None, :], 0.001, 0.999)
        return WorldParams(f0, sp, ap, active, params.n_samples)


def _grid_units(sample_rate: int, *, filtered: bool) -> tuple[int, int]:
    """Steps (samples at ``sample_rate``) for the start and the end of a part analysed alone.

    A start on a multiple of the first lines up the WORLD frame grid and the resampler's phase
    with the whole recording's (440 at 44.1 kHz), and when the source is ``filtered`` also the
    filter's STFT grid (28160); an end that many multiples of the second before the whole's end
    keeps dio's decimation, which counts from the end, on the same samples (8 at 44.1 kHz).
    """
    from fractions import Fraction

    g = gcd(sample_rate, WORK_RATE)
    up, down = WORK_RATE // g, sample_rate // g
    frame = Fraction(HOP * sample_rate, WORK_RATE).numerator  # a whole number of frames and of samples
    unit = frame * down // gcd(frame, down)
    if filtered:
        hop = filter_size(sample_rate) // 4
        unit = unit * hop // gcd(unit, hop)
    return unit, down * DIO_SPEED // gcd(up, DIO_SPEED)


def _level_gain(y: np.ndarray, x: np.ndarray, params: WorldParams, *, sample_rate: int) -> float:
    """The gain that makes the RMS of ``y`` over the sounding frames equal that of ``x`` (both at
    ``sample_rate``; 1 when nothing sounds)."""
    frame = np.arange(len(x)) * (WORK_RATE / sample_rate) // HOP
    mask = params.active[np.minimum(frame.astype(int), len(params.active) - 1)]
    if not mask.any():
        return 1.0
    rx = np.sqrt(np.mean(np.asarray(x, dtype=np.float64)[mask] ** 2))
    ry = np.sqrt(np.mean(np.asarray(y, dtype=np.float64)[: len(mask)][mask[: len(y)]] ** 2))
    return float(rx / ry) if ry > 1e-9 else 1.0


def _match_level(y: np.ndarray, x: np.ndarray, params: WorldParams, *, sample_rate: int = WORK_RATE) -> np.ndarray:
    """``y`` scaled so that its RMS over the sounding frames equals that of ``x`` (both at ``sample_rate``)."""
    return y * _level_gain(y, x, params, sample_rate=sample_rate)


from . import conversion_neural  # noqa: E402,F401  (registers the "neural" backend on the same role)
