"""Voice cloning, measured: speaker similarity, pitch accuracy, intelligibility and speed.

Two songs are rendered (a male and a female preset); every song is converted towards every
reference voice, made in code and never downloaded: espeak-ng voices of both sexes at several
pitches, and Piper speech transformed with WORLD (pitch and formants moved). Each reference
voice speaks two different texts: one is the conversion reference, the other is held out, and
similarity is measured against the held-out one.

Per conversion:
* Δsim — resemblyzer cosine similarity of the converted vocals to the held-out utterance,
  minus that of the unconverted vocals (target: at least +0.10 on average);
* pitch accuracy (pipeline.quality.pitch_accuracy, raw pitch accuracy, notes shifted by the
  chosen semitones; audio at 16 kHz for speed) before and after (target: within 5 points);
* word error rate by Whisper tiny.en (temperature 0; capped at 1 per conversion, as it sometimes
  loops on a phrase) and by pocketsphinx, before and after (target: at most 10 points worse);
* speed: song seconds per conversion second (target: at least 20x real time).

Run: .venv/bin/python benchmarks/voice_clone.py [--methods world,no-frame-matching,shift-only,resing] [--quick]
     [--references tuning|validation]  (validation: seven other voices, not used to choose the defaults)
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from representations.audio import Audio  # noqa: E402

TEXT_A = ("The quick brown fox jumps over the lazy dog. A gentle breeze carried the smell of rain across "
          "the quiet fields, and the old farmer smiled as he walked home.")
TEXT_B = ("She sells sea shells by the sea shore. Every morning the baker opens his shop early, and "
          "the whole street wakes up to the smell of fresh bread.")
ESPEAK = [("espeak en+f3 p60", "en+f3", 60), ("espeak en+m3 p40", "en+m3", 40), ("espeak en-us+f2 p70", "en-us+f2", 70),
          ("espeak en+m7 p30", "en+m7", 30), ("espeak en+f4 p55", "en+f4", 55)]
PIPER = [("piper f0x1.75 formant x1.17", 1.75, 1.17), ("piper f0x0.8 formant x0.92", 0.8, 0.92)]
# a second set of voices, not used when the defaults were chosen (``--references validation``)
ESPEAK_VALIDATION = [("espeak en-gb-scotland+f1 p65", "en-gb-scotland+f1", 65), ("espeak en+m1 p45", "en+m1", 45),
                     ("espeak en-us+f5 p50", "en-us+f5", 50), ("espeak en-029+m4 p35", "en-029+m4", 35),
                     ("espeak en-gb-x-rp+f2 p75", "en-gb-x-rp+f2", 75)]
PIPER_VALIDATION = [("piper f0x1.5 formant x1.1", 1.5, 1.1), ("piper f0x1.2 formant x0.96", 1.2, 0.96)]
LYRICS = ["Walking down the empty road tonight", "counting every star above the hill",
          "all the words I never said to you", "Hold me now and never let me go",
          "we are shining brighter than the sun", "every heartbeat tells me what I know"]
SONGS = [("male", "pop, piano, male vocals, 100 BPM"), ("female", "pop, piano, female vocals, 100 BPM")]
METHODS = {
    # the default: octave move, envelope warp, the envelope difference of matched frames (0.15-octave
    # smoothing), half-strength aperiodicity, each frame half-way to its 4 nearest reference frames
    "world": {},
    "former-default": {"envelope_strength": 0.5, "smoothing_octaves": 0.25, "neighbours": 8, "correction": "mean"},
    "no-frame-matching": {"frame_matching": 0.0},  # the same without the frame matching
    "matching-0.6": {"frame_matching": 0.6},  # a little further towards the nearest frames
    "k2": {"neighbours": 2},  # the 2 nearest frames
    # the envelope correction from the difference of the average envelopes, not of matched frames
    "mean-correction": {"correction": "mean"},
    # stronger frame matching: fully above 3 kHz, half below 1 kHz, 4 nearest frames
    "strong-matching": {"frame_matching": 1.0, "low_band_matching": 0.5},
    "high-band-matching": {"frame_matching": 1.0, "low_band_matching": 0.0},  # fully above 3 kHz only
    "semitone-register": {"register": "semitone"},  # the melody moves by any number of semitones
    "shift-only": {"warp": False, "envelope_strength": 0.0, "ap_strength": 0.0, "frame_matching": 0.0},
    "resing": {},  # re-sing the vocal score shifted by the octave, then convert that (no further shift)
}


# ---- references -----------------------------------------------------------------------------
def espeak(voice: str, pitch: int, text: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    out = subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "150", "--stdout", text],
                         capture_output=True, check=True).stdout
    x, sr = sf.read(io.BytesIO(out))
    return np.asarray(x, dtype=np.float64), int(sr)


def piper(text: str) -> tuple[np.ndarray, int]:
    from piper.config import SynthesisConfig

    from voice.speech import piper_voice

    voice, _ = piper_voice()
    chunks = list(voice.synthesize(text, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)))
    return np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64), chunks[0].sample_rate


def world_transform(x: np.ndarray, sr: int, f0_ratio: float, formant_ratio: float) -> np.ndarray:
    import pyworld

    from voice.timbre import warp_envelope

    f0, t = pyworld.harvest(x, sr, f0_floor=60, f0_ceil=600, frame_period=5.0)
    sp, ap = pyworld.cheaptrick(x, f0, t, sr), pyworld.d4c(x, f0, t, sr)
    return pyworld.synthesize(f0 * f0_ratio, np.ascontiguousarray(warp_envelope(sp, formant_ratio)), ap, sr, 5.0)


def references(which: str = "tuning") -> list[tuple[str, Audio, Audio]]:
    """(label, conversion reference, held-out utterance) per reference voice, from the set the
    defaults were chosen on (``"tuning"``) or the other one (``"validation"``)."""
    espeak_voices, piper_voices = (ESPEAK, PIPER) if which == "tuning" else (ESPEAK_VALIDATION, PIPER_VALIDATION)
    out = []
    for label, voice, pitch in espeak_voices:
        (a, sr), (b, _) = espeak(voice, pitch, TEXT_A), espeak(voice, pitch, TEXT_B)
        out.append((label, Audio(a, sr), Audio(b, sr)))
    (a, sr), (b, _) = piper(TEXT_A), piper(TEXT_B)
    for label, f0_ratio, formant_ratio in piper_voices:
        out.append((label, Audio(world_transform(a, sr, f0_ratio, formant_ratio), sr),
                    Audio(world_transform(b, sr, f0_ratio, formant_ratio), sr)))
    return out


# ---- measurements ---------------------------------------------------------------------------
def to_16k(mono: np.ndarray, sr: int) -> np.ndarray:
    from voice.conversion import resample

    return resample(mono, sr, 16000)


def measure(mono: np.ndarray, sr: int, notes, lyrics: str, target_embedding, shift: int) -> dict:
    from pipeline.quality import pitch_accuracy
    from voice.judges import pocketsphinx_transcript, similarity, speaker_embedding, whisper_transcript, word_error_rate

    shifted = [(s, e, p + shift) for s, e, p in notes]
    return {
        "sim": similarity(speaker_embedding(mono, sr), target_embedding),
        "pitch": pitch_accuracy(to_16k(mono, sr), 16000, shifted)["raw_pitch_accuracy"],
        # capped at 1 (every word wrong): a transcript Whisper loops on would otherwise count as
        # 4-7 and outweigh every other conversion in the mean
        "wer_whisper": min(1.0, word_error_rate(lyrics, whisper_transcript(mono, sr))),
        "wer_sphinx": word_error_rate(lyrics, pocketsphinx_transcript(mono, sr)),
    }


def resing(song, shift: int) -> Audio:
    """The song's vocal score sung again with every note moved by ``shift`` semitones."""
    from voice.world_singer import WorldSinger

    score = song.vocal_score
    moved = dataclasses.replace(score, notes=[dataclasses.replace(n, pitch=n.pitch + shift) for n in score.notes])
    return WorldSinger().sing(moved)


def render_songs(folder: Path, n_lines: int):
    from pipeline import SongPipeline, SongSpec

    lyrics = "\n".join(f"  {line}" for line in LYRICS[:n_lines])
    songs = []
    for name, tags in SONGS:
        spec = SongSpec.from_text(f"title: Clone {name}\ntags: {tags}\nseed: 3\nlyrics: |\n  [Verse]\n{lyrics}\n",
                                  source=f"{name}.yaml")
        songs.append((name, SongPipeline().render(spec, folder / name)))
    return songs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="world,no-frame-matching,shift-only",
                    help=f"comma-separated, from {', '.join(METHODS)}")
    ap.add_argument("--quick", action="store_true", help="three references, four lyric lines")
    ap.add_argument("--references", choices=("tuning", "validation"), default="tuning",
                    help="the reference voices the defaults were chosen on, or a second set")
    ap.add_argument("--lines", type=int, default=6, help="lyric lines per song")
    args = ap.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in METHODS:
            sys.exit(f"unknown method {m!r} (valid: {', '.join(METHODS)})")
    from voice.conversion import WorldConverter, analyse_audio, reference_profile
    from voice.judges import speaker_embedding

    refs = references(args.references)
    if args.quick:
        refs = [refs[0], refs[3], refs[-1]]
    rows, speeds = [], {m: [] for m in methods}
    with tempfile.TemporaryDirectory() as tmp:
        songs = render_songs(Path(tmp), 4 if args.quick else args.lines)
        for song_name, song in songs:
            vocals = Audio.load(song.path("vocals"))
            mono, sr = vocals.mono(), vocals.sample_rate
            notes = [(n.start_s, n.end_s, n.pitch) for n in song.vocal_score.notes]
            lyrics = " ".join(line.text for line in song.vocal_score.lines)
            centre = float(np.median([n.pitch for n in song.vocal_score.notes]))
            for label, ref, held in refs:
                target = speaker_embedding(held.mono(), held.sample_rate)
                before = measure(mono, sr, notes, lyrics, target, 0)
                for method in methods:
                    conv = WorldConverter(**METHODS[method])
                    t0 = time.perf_counter()
                    profile = reference_profile(ref)
                    if method == "resing":
                        shift = conv.plan(analyse_audio(vocals), profile, source_midi=centre).shift_semitones
                        t0 = time.perf_counter()
                        source = resing(song, shift)
                        out = WorldConverter(shift_semitones=0).convert_with_profile(source, profile)
                    else:
                        out = conv.convert_with_profile(vocals, profile, source_midi=centre)
                        shift = conv.last_plan.shift_semitones
                    dt = time.perf_counter() - t0
                    speeds[method].append(vocals.duration_s / dt)
                    after = measure(out.mono(), out.sample_rate, notes, lyrics, target, shift)
                    rows.append((song_name, label, method, shift, before, after, vocals.duration_s / dt))
                    print(f"{song_name:6s} {label:28s} {method:10s} {shift:+3d}  "
                          f"sim {before['sim']:.3f}->{after['sim']:.3f} ({after['sim'] - before['sim']:+.3f})  "
                          f"pitch {before['pitch']:.3f}->{after['pitch']:.3f}  "
                          f"WER whisper {before['wer_whisper']:.2f}->{after['wer_whisper']:.2f}  "
                          f"sphinx {before['wer_sphinx']:.2f}->{after['wer_sphinx']:.2f}  "
                          f"{vocals.duration_s / dt:5.1f}x",
                          flush=True)
    print()
    print("| method | Δsim mean | Δsim min | Δpitch acc mean (worst) | ΔWER Whisper mean (worst) "
          "| ΔWER pocketsphinx mean | speed (x real time, median) |")
    print("|---|---|---|---|---|---|---|")
    for method in methods:
        r = [x for x in rows if x[2] == method]
        d = lambda key: np.array([a[key] - b[key] for _, _, _, _, b, a, _ in r])  # noqa: E731
        print(f"| {method} | {d('sim').mean():+.3f} | {d('sim').min():+.3f} | {100 * d('pitch').mean():+.1f} "
              f"({100 * d('pitch').min():+.1f}) | {100 * d('wer_whisper').mean():+.1f} "
              f"({100 * d('wer_whisper').max():+.1f}) "
              f"| {100 * d('wer_sphinx').mean():+.1f} | {np.median(speeds[method]):.1f} |")


if __name__ == "__main__":
    main()
