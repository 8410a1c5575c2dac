"""Quality of the sung vocals, measured: intelligibility, pitch, timing, joins, voice identity, speed.

For each example with lyrics the rule planner plans the lead sheet and the singer sings it (no
accompaniment, no mix). Per vocal stem:

- WER of Whisper tiny.en (the target judge: FINDINGS measured pocketsphinx at 0.45 WER on plain
  Piper speech, so it cannot tell good singing from bad) and of pocketsphinx, on the sung lyrics
  (the whole stem, as the target is stated), and on the same lines spoken by the bundled Piper
  voice (lines concatenated, 0.3 s apart); also Whisper on each line's clip alone ("lines"), which
  varies less with where Whisper's 30 s windows fall; for Mandarin, the syllable error rate of
  Whisper base (multilingual) on each line's clip, sung and spoken by Kokoro (benchmarks/
  mandarin_words.py measures every preset over several songs);
- raw pitch accuracy (voiced frames inside notes within 50 cents, pipeline.quality.pitch_accuracy:
  dio + stonemask, 5 ms frames) and voicing recall; the same windows read by harvest (at 16 kHz),
  whose long window spills over unvoiced consonants (see pipeline.quality.f0_track);
- median |vowel onset - note start| over syllables whose vowel onset is a voicing onset;
- clicks (unexplained sample steps) and spectral-flux spikes within 10 ms of note/line boundaries.

Then resemblyzer similarity between every pair of voice presets (the first two lines of pop.yaml,
planned for each preset's range; other pairs of lines; the whole song), each preset's per-line
WER, and the singer's wall and CPU time for a 3-minute song (the machine is shared: CPU time is
the steadier figure).

Run: .venv/bin/python benchmarks/vocal_quality.py [--only pop,waltz] [--out DIR] [--no-asr]
     [--skip voices,speed] [--only-voices [joe,alto]]
(``--only-voices`` measures just the presets, or the named ones, on the lines they are judged
on: under a minute a preset.)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
EXAMPLES = {"pop": "examples/pop.yaml", "waltz": "examples/waltz.yaml", "ballad_zh": "examples/ballad_zh.yaml"}
SR = 44100


def plan_score(spec, *, voice: str | None = None):
    from generators.rule_planner import RulePlanner
    from generators.style import parse_style
    from voice.presets import resolve_voice
    from voice.score import vocal_score_from_leadsheet

    if voice:
        spec = spec.model_copy(update={"voice": voice})
    sheet = RulePlanner().plan(spec, seed=spec.seed)
    name = resolve_voice(spec.voice, parse_style(sheet.style_tags).vocal).name
    return sheet, vocal_score_from_leadsheet(sheet, voice=name)


def verse_chorus_songs(pairs, *, tags: str, seed: int, only: list[int] | None = None) -> list:
    """Songs of one verse and one chorus each (``pairs``: (verse lines, chorus lines)), titled
    "song 1", "song 2"..., with ``tags`` and ``seed``; ``only``: the indices of those to make."""
    from pipeline import SongSpec

    out = []
    for k, (verse, chorus) in enumerate(pairs):
        if only is not None and k not in only:
            continue
        lyrics = "".join(f"  [{name}]\n" + "".join(f"  {l}\n" for l in lines)
                         for name, lines in (("Verse", verse), ("Chorus", chorus)))
        out.append(SongSpec.from_text(f"title: song {k + 1}\ntags: {tags}\nseed: {seed}\nlyrics: |\n{lyrics}",
                                      source=f"song{k + 1}.yaml"))
    return out


def lyric_lines(specs) -> list[str]:
    """The lyric lines of ``specs`` (section tags left out), in order, repeats included."""
    return [l.strip() for spec in specs for l in spec.lyrics.splitlines() if l.strip() and not l.strip().startswith("[")]


def spoken_reference(lines: list[str]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The lines spoken by the bundled Piper voice, 0.3 s apart, at 44.1 kHz, and each line's
    (start_s, end_s) in it."""
    from piper.config import SynthesisConfig
    from scipy.signal import resample_poly

    from voice.speech import piper_voice

    voice, _ = piper_voice()
    cfg = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    rate = voice.config.sample_rate
    parts, spans, pos = [], [], 0
    for line in lines:
        audio = np.concatenate([c.audio_float_array.astype(np.float64) for c in voice.synthesize(line, syn_config=cfg)])
        spans.append((pos / rate, (pos + len(audio)) / rate))
        parts += [audio, np.zeros(int(0.3 * rate))]
        pos += len(audio) + int(0.3 * rate)
    return resample_poly(np.concatenate(parts), SR, rate), spans


def per_line_wer(mono: np.ndarray, spans: list[tuple[float, float]], lines: list[str]) -> float:
    """Whisper WER over all words, each line transcribed from its own clip."""
    from voice import judges

    errors = words = 0.0
    for (a, b), text in zip(spans, lines):
        ref = judges.normalise_words(text)
        clip = mono[int(max(a, 0.0) * SR): int(b * SR)]
        errors += judges.word_error_rate(ref, judges.whisper_transcript(clip, SR)) * len(ref)
        words += len(ref)
    return errors / max(words, 1)


LINE_PAD_S = 0.25  # a sung line is judged from its notes' span and this much either side


def sung_line_wer(mono: np.ndarray, lines) -> float:
    """:func:`per_line_wer` of sung lyric lines (``VocalScore.lines``), each clipped
    ``LINE_PAD_S`` either side of its notes."""
    return per_line_wer(mono, [(l.start_s - LINE_PAD_S, l.end_s + LINE_PAD_S) for l in lines], [l.text for l in lines])


def measure_stem(score, mono: np.ndarray, *, asr: bool) -> dict:
    from pipeline.quality import pitch_accuracy
    from voice import judges

    row: dict = {}
    lines = [l.text for l in score.lines]
    if asr and score.language == "en":
        for judge, fn in (("whisper", judges.whisper_transcript), ("sphinx", judges.pocketsphinx_transcript)):
            row[f"wer_{judge}"] = judges.word_error_rate(" ".join(lines), fn(mono, SR))
        spoken, spans = spoken_reference(lines)
        row["wer_whisper_spoken"] = judges.word_error_rate(" ".join(lines), judges.whisper_transcript(spoken, SR))
        row["wer_sphinx_spoken"] = judges.word_error_rate(" ".join(lines), judges.pocketsphinx_transcript(spoken, SR))
        row["wer_lines"] = sung_line_wer(mono, score.lines)
        row["wer_lines_spoken"] = per_line_wer(spoken, spans, lines)
    if asr and score.language == "zh":  # syllable error rates (Whisper base, multilingual)
        from mandarin_words import spoken

        wrong, total = judges.mandarin_line_errors(
            mono, SR, [(l.start_s - LINE_PAD_S, l.end_s + LINE_PAD_S) for l in score.lines], lines)
        row["ser_lines"], row["ser_lines_spoken"] = wrong / max(total, 1), spoken("kokoro", lines)
    spans = [(n.start_s, n.end_s, n.pitch) for n in score.notes]
    pa = pitch_accuracy(mono, SR, spans)
    row["pitch_acc"], row["voicing"] = pa["raw_pitch_accuracy"], pa["voicing_recall"]
    row["pitch_acc_harvest"] = pitch_accuracy(judges._to_16k(mono, SR), 16000, spans,
                                              method="harvest")["raw_pitch_accuracy"]
    f0, t = judges.f0_dio(mono, SR)
    notes = judges.onset_notes(score)
    errs = judges.vowel_onset_errors(f0, t, notes)
    found = errs[~np.isnan(errs)]
    row["onset_ms"] = float(np.median(np.abs(found)) * 1000) if len(found) else float("nan")
    row["onset_n"] = f"{len(found)}/{len(notes)}"
    row["clicks"] = len(judges.click_positions(mono, SR))
    bounds = sorted({n.start_s for n in score.notes} | {n.end_s for n in score.notes}
                    | {l.start_s for l in score.lines} | {l.end_s for l in score.lines})
    row["flux_spikes"] = judges.flux_spikes(mono, SR, bounds)
    return row


EXCERPTS = ((0, 2), (4, 6), (12, 14))  # pairs of lines of pop.yaml: the first is the one the test uses


def preset_similarity(spec, *, asr: bool, voices: list[str] | None = None) -> tuple[dict, dict, dict, dict, dict]:
    """Resemblyzer similarity of every pair of presets singing ``spec`` (each planned in its own
    range): on its first two lines, the largest over ``EXCERPTS`` and on the whole song (one
    embedding of the whole stem); each preset's sung range, and (with ``asr``) each preset's
    per-line Whisper WER on the first ten lines. ``voices`` limits the presets (default: all).

    Returns
    -------
    (dict, dict, dict, dict, dict)
        Similarity by "a/b" pair on the first excerpt, the largest over the excerpts and on the
        whole song; sung range and WER by preset."""
    from voice import judges
    from voice.presets import PRESETS
    from voice.world_singer import WorldSinger

    embeddings, songs, ranges, wers = {}, {}, {}, {}
    for name in voices or PRESETS:
        _, score = plan_score(spec, voice=name)
        notes = [n.pitch for n in score.notes]
        ranges[name] = (min(notes), max(notes))
        audio = WorldSinger().sing(score).mono()
        songs[name] = judges.speaker_embedding(audio, SR)
        embeddings[name] = []
        for a, b in EXCERPTS:
            clip = audio[int((score.lines[a].start_s - 0.3) * SR): int((score.lines[b - 1].end_s + 0.3) * SR)]
            embeddings[name].append(judges.speaker_embedding(clip, SR))
        if asr:
            ten = score.lines[:10]
            wers[name] = sung_line_wer(audio, ten)
    first, worst, song = {}, {}, {}
    for a, b in itertools.combinations(embeddings, 2):
        sims = [judges.similarity(x, y) for x, y in zip(embeddings[a], embeddings[b])]
        first[f"{a}/{b}"], worst[f"{a}/{b}"] = sims[0], max(sims)
        song[f"{a}/{b}"] = judges.similarity(songs[a], songs[b])
    return first, worst, song, ranges, wers


def three_minute_singer_time(kind: str = "3min") -> dict:
    """Wall and CPU time of the singer on a 3-minute song (benchmarks/render_speed.py's spec:
    ``kind`` "3min" in English, "3min-zh" in Mandarin), no line of it spoken before. A voice
    model that no earlier song in this process loaded is loaded inside the time, as in a
    render."""
    from pipeline import SongSpec
    from render_speed import spec_text
    from voice.world_singer import WorldSinger

    import voice.kokoro as kokoro
    from voice.speech_store import STORE_ENV

    kokoro._LINES.spoken.clear()  # a new song: no line spoken before (the ballad's lines are these)
    spec = SongSpec.from_text(spec_text(kind), source=f"{kind}.yaml")
    _, score = plan_score(spec)
    singer = WorldSinger()
    with mock.patch.dict(os.environ, {STORE_ENV: "off"}):  # nor read back from the speech store
        t0, c0 = time.perf_counter(), time.process_time()
        singer.sing(score)
    return {"song_s": round(score.duration_s, 1), "sing_s": round(time.perf_counter() - t0, 2),
            "sing_cpu_s": round(time.process_time() - c0, 2),
            "stages_s": {k: round(v, 2) for k, v in singer.last_stats.items()}}


def fmt(v) -> str:
    if isinstance(v, float):
        return "—" if np.isnan(v) else f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
    return str(v)


def print_voices(args, voices: list[str] | None) -> dict:
    """Measure the presets (``preset_similarity``), print the tables and return them."""
    from pipeline import SongSpec

    t0 = time.process_time()
    pairs, worst, song, ranges, wers = preset_similarity(SongSpec.from_yaml(ROOT / EXAMPLES["pop"]),
                                                         asr=not args.no_asr, voices=voices)
    if pairs:
        print(f"\nresemblyzer similarity between presets (target <= 0.80): first two lines of pop.yaml, "
              f"the largest over lines {EXCERPTS}, and the whole song")
        for pair, s in sorted(pairs.items(), key=lambda kv: -kv[1]):
            print(f"  {pair:<20} {s:.3f}   {worst[pair]:.3f}   {song[pair]:.3f}")
        print(f"  max {max(pairs.values()):.3f} / {max(worst.values()):.3f} / {max(song.values()):.3f}")
    print(f"  sung ranges (MIDI): {ranges}")
    if wers:
        print("  per-line Whisper WER, first ten lines of pop.yaml, by preset: "
              + ", ".join(f"{k} {v:.2f}" for k, v in wers.items()))
    print(f"  ({time.process_time() - t0:.0f} s CPU)")
    return {"similarity": pairs, "similarity_worst": worst, "similarity_song": song, "wer_by_voice": wers}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", help="comma-separated examples (default: all with lyrics)")
    ap.add_argument("--out", help="folder to write <example>.wav vocal stems into")
    ap.add_argument("--no-asr", action="store_true", help="skip the speech recognisers")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: voices,speed")
    ap.add_argument("--only-voices", nargs="?", const="", default=None, metavar="NAMES",
                    help="measure only the presets (comma-separated names; default all): no examples, no speed")
    args = ap.parse_args()
    if args.only_voices is not None:
        from voice.presets import resolve_voice

        voices = [resolve_voice(v).name for v in args.only_voices.split(",") if v] or None
        print_voices(args, voices)
        return
    from pipeline import SongSpec
    from representations.audio import Audio
    from voice.speech import piper_voice
    from voice.world_singer import WorldSinger

    t0 = time.perf_counter()
    piper_voice()
    load_s = time.perf_counter() - t0
    names = args.only.split(",") if args.only else list(EXAMPLES)
    rows = {}
    for name in names:
        spec = SongSpec.from_yaml(ROOT / EXAMPLES[name])
        _, score = plan_score(spec)
        singer = WorldSinger()
        t0 = time.perf_counter()
        audio = singer.sing(score)
        sing_s = time.perf_counter() - t0
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            Audio(audio.samples, SR).save(Path(args.out) / f"{name}.wav")
        rows[name] = {"voice": score.voice, "song_s": round(score.duration_s, 1), "sing_s": sing_s,
                      **measure_stem(score, audio.mono(), asr=not args.no_asr)}
    cols = ["voice", "song_s", "sing_s", "wer_whisper", "wer_whisper_spoken", "wer_lines", "wer_lines_spoken",
            "wer_sphinx", "wer_sphinx_spoken", "ser_lines", "ser_lines_spoken", "pitch_acc", "pitch_acc_harvest",
            "voicing", "onset_ms", "onset_n", "clicks", "flux_spikes"]
    print(f"Piper voice load: {load_s:.2f} s")
    print("| example | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, row in rows.items():
        print(f"| {name} | " + " | ".join(fmt(row.get(c, float("nan"))) for c in cols) + " |")
    result = {"examples": rows}
    skip = set(args.skip.split(","))
    if "voices" not in skip:
        result.update(print_voices(args, None))
    if "speed" not in skip:
        speed = {kind: three_minute_singer_time(kind) for kind in ("3min", "3min-zh")}
        for kind, figures in speed.items():
            print(f"\nsinger time, 3-minute song ({'Mandarin' if kind.endswith('zh') else 'English'}): {figures}")
        result["speed"] = speed
    print("\n" + json.dumps(result, default=str))


if __name__ == "__main__":
    main()
