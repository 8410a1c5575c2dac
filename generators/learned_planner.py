"""The learned planner: the rule planner's song with pitches chosen by the trained melody model.

Form, syllables, key, rhythm and chords are planned exactly as the rule planner plans them
(:mod:`generators.form`, :mod:`generators.rhythm`, :mod:`generators.harmony`,
:func:`generators.rule_planner.choose_key`). The pitch of each note is then sampled from the melody
model (:mod:`generators.melody_model`), note by note through the song, conditioned on the chord,
meter, mode, the syllable's stress and its place in the line, under constraints:

- one note per syllable, on the rhythm given (so line lengths and bars are kept);
- only pitches in the key (in minor also the leading tone over a chord that holds it), within
  the voice's range and at most an octave from the previous note;
- chord tones favoured by a logit bias on stressed and long notes and at line ends, runs of one
  repeated pitch discouraged; a section that ends on the tonic chord ends on the tonic;
- a line sung again with the same words over the same chords is sung to the same melody.

The weights ship inside the package (``generators/models/melody``); nothing is downloaded.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from representations.errors import BackendUnavailable
from representations.leadsheet import Chord, LeadSheet, LyricLine, Note, Section
from representations.music import ChordSymbol

from .base import PLANNERS, Planner
from .rhythm import line_rhythm, stable_rng, stress_timed
from .rule_planner import _VELOCITY, _chords, choose_key, infer_mode, song_form
from .style import tag_list

DEFAULT_CHECKPOINT = Path(__file__).parent / "models" / "melody"


def chord_label(chord: ChordSymbol, tonic_pc: int) -> str:
    """``"root:quality"`` of ``chord`` with the root counted in semitones above the tonic."""
    q = "dim" if 6 in chord.intervals and 7 not in chord.intervals else "min" if chord.is_minor else "maj"
    return f"{(chord.root_pc - tonic_pc) % 12}:{q}"


class _Decoder:
    """Samples pitches note by note, keeping the song's notes so far as the model's context."""

    def __init__(self, model, *, scale, low: int, high: int, meter, chord_bias: float, temperature: float,
                 repeat_penalty: float):
        from .melody_model import BOS_PITCH, PITCH_RANGE, meter_id

        self.model, self.scale, self.meter = model, scale, meter
        self.low, self.high = max(low, scale.tonic_midi + PITCH_RANGE[0]), min(high, scale.tonic_midi + PITCH_RANGE[1])
        if self.low > self.high:
            raise BackendUnavailable(f"learned planner: the voice range {low}-{high} lies outside the model's "
                                     f"pitches around the tonic {scale.tonic_midi}")
        self.chord_bias, self.temperature, self.repeat_penalty = chord_bias, temperature, repeat_penalty
        self.meter_id, self.mode = meter_id(str(meter)), 0 if scale.key.mode == "major" else 1
        self.rows: list[dict[str, int]] = []
        self.prev, self.prev_end = BOS_PITCH, None

    def _row(self, on: Fraction, dur: Fraction, chord: ChordSymbol, accent: int, left: int, index: int) -> dict:
        from .melody_model import MAX_TICKS, PHRASE_CAP, TICKS_PER_QUARTER as Q, chord_id, gap_class

        pos = int((on % self.meter.bar_beats) * Q)
        gap = int((on - self.prev_end) * Q) if self.prev_end is not None else 0
        return {"prev": self.prev, "dur": min(int(dur * Q), MAX_TICKS), "pos": min(pos, MAX_TICKS),
                "meter": self.meter_id, "mode": self.mode, "chord": chord_id(chord_label(chord, self.scale.key.tonic_pc)),
                "accent": accent, "gap": gap_class(gap), "left": min(left, PHRASE_CAP), "index": min(index, PHRASE_CAP)}

    def _allowed(self, chord: ChordSymbol, prev_midi: int | None) -> dict[int, bool]:
        """Allowed MIDI pitches and whether each is a chord tone."""
        key_pcs = set(self.scale.key.scale_pcs())
        if self.scale.key.mode == "minor":
            lead = (self.scale.key.tonic_pc + 11) % 12
            if lead in chord.pitch_classes():
                key_pcs = (key_pcs - {(lead - 1) % 12}) | {lead}
        pcs = set(chord.pitch_classes())
        out = {m: m % 12 in pcs for m in range(self.low, self.high + 1) if m % 12 in key_pcs}
        if prev_midi is not None:
            near = {m: c for m, c in out.items() if abs(m - prev_midi) <= 12}
            out = near or out
        return out

    def phrase(self, events, *, start_beats: Fraction, gen, force_tonic: bool, fixed: list[int] | None = None) -> list[int]:
        """MIDI pitches for ``events`` ``(onset_beats, dur_beats, chord, accent)`` of one line.

        With ``fixed`` the pitches are given (a repeated line) and only enter the context.
        """
        import torch

        from .melody_model import PITCH_RANGE, pitch_index

        bar = self.meter.bar_beats
        out = []
        for j, (on, dur, chord, accent) in enumerate(events):
            row = self._row(start_beats + on, dur, chord, accent, len(events) - 1 - j, j)
            if fixed is not None:
                midi = fixed[j]
            else:
                ctx = (self.rows + [row])[-self.model.config.max_len:]
                feats = {k: torch.tensor([[r[k] for r in ctx]]) for k in row}
                with torch.no_grad():
                    logits = self.model(feats)[0, -1].double() / self.temperature
                allowed = self._allowed(chord, out[-1] if out else self._last_midi())
                last = j == len(events) - 1
                if last and force_tonic:
                    allowed = {m: c for m, c in allowed.items() if m % 12 == self.scale.key.tonic_pc} or allowed
                strong = accent == 2 or dur >= Fraction(3, 2) or (on % bar) == 0 or last
                cand = sorted(allowed)
                score = torch.stack([logits[pitch_index(m - self.scale.tonic_midi)] for m in cand])
                run = 0  # the same pitch sung this many times just before
                while run < len(out) and out[-1 - run] == out[-1]:
                    run += 1
                bias = torch.tensor([(self.chord_bias if strong else 0.3 * self.chord_bias) * allowed[m]
                                     - (self.repeat_penalty * run if out and m == out[-1] else 0.0)
                                     for m in cand], dtype=torch.double)
                probs = torch.softmax(score + bias, dim=0)
                midi = cand[int(torch.multinomial(probs.float(), 1, generator=gen))]
            out.append(midi)
            row_pitch = midi - self.scale.tonic_midi
            self.rows.append(row)
            self.prev = pitch_index(min(max(row_pitch, PITCH_RANGE[0]), PITCH_RANGE[1]))
            self.prev_end = start_beats + on + dur
        return out

    def nearest_tonic(self, midi: int) -> int:
        """The tonic within the range nearest to ``midi``."""
        tonics = [m for m in range(self.low, self.high + 1) if m % 12 == self.scale.key.tonic_pc]
        return min(tonics, key=lambda m: (abs(m - midi), m)) if tonics else midi

    def _last_midi(self) -> int | None:
        from .melody_model import BOS_PITCH, PITCH_RANGE

        return None if self.prev == BOS_PITCH else self.scale.tonic_midi + self.prev + PITCH_RANGE[0]


@PLANNERS.register("learned")
class LearnedPlanner(Planner):
    """The rule planner's form, rhythm and chords with pitches from the trained melody model.

    Parameters
    ----------
    checkpoint : str or Path, optional
        Folder with ``config.json`` and ``model.safetensors``. Default: the ``"melody"`` entry found
        by :func:`pipeline.models.locate` (a spec's or ``models``' ``melody: folder``,
        ``$SONGWRIGHT_MODELS_DIR/melody``, the models config file), else the weights shipped in
        ``generators/models/melody``.
    models : dict, optional
        A ``models:`` mapping (a spec passed to :meth:`plan` may also carry one).
    temperature : float
        Sampling temperature (> 0); lower is more predictable.
    chord_bias : float
        Logit bonus (nats) for chord tones on stressed and long notes (a third of it elsewhere).
    repeat_penalty : float
        Logit penalty (nats) for repeating the previous pitch, times the number of times it was
        already sung in a row. The defaults were chosen on the validation tunes' pitch and interval
        distributions (``benchmarks/melody_eval.py``).
    """

    name = "learned"

    def __init__(self, *, checkpoint: str | Path | None = None, models: dict | None = None, base_dir=None,
                 temperature: float = 0.9, chord_bias: float = 1.5, repeat_penalty: float = 1.0):
        if not temperature > 0:
            raise ValueError(f"temperature {temperature} is not valid (valid: > 0)")
        self.checkpoint, self.temperature, self.chord_bias = checkpoint, temperature, chord_bias
        self.repeat_penalty, self.models, self.base_dir = repeat_penalty, models, base_dir
        self._loaded: dict[Path, object] = {}

    def folder(self, spec=None) -> Path:
        """The checkpoint folder used for ``spec``."""
        from pipeline.models import locate, spec_base_dir

        if self.checkpoint is not None:
            return Path(self.checkpoint)
        from_spec = dict(getattr(spec, "models", None) or {})
        base = spec_base_dir(spec) if "melody" in from_spec else self.base_dir
        found = locate("melody", models=dict(self.models or {}) | from_spec, base_dir=base)
        return found.path if found.path is not None else DEFAULT_CHECKPOINT

    def check(self) -> str:
        """Where the weights are; BackendUnavailable when torch or the weights are missing or broken."""
        folder = self.folder()
        self._model(folder)
        return f"checkpoint {folder}"

    def _model(self, folder: Path):
        from pipeline.models import package_missing

        if (missing := package_missing("torch", "safetensors")):
            raise BackendUnavailable(f"learned planner: needs the Python package {missing!r}")
        if folder not in self._loaded:
            from .melody_model import MelodyTransformer

            self._loaded[folder] = MelodyTransformer.from_pretrained(folder)
        return self._loaded[folder]

    def plan(self, spec, *, seed: int) -> LeadSheet:
        """The lead sheet of ``spec``; same spec, seed and weights, same result."""
        import torch

        model = self._model(self.folder(spec))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # one note at a time: threads only wait on each other
        try:
            return self._plan(spec, seed=seed, model=model)
        finally:
            torch.set_num_threads(threads)

    def _plan(self, spec, *, seed: int, model) -> LeadSheet:
        import torch

        style, meter, tempo, sections, voice = song_form(spec, seed=seed)
        rng = stable_rng(seed, "plan")
        scale = choose_key(spec.key_obj(), infer_mode(spec, style), voice, rng=rng)
        chords_per_section = _chords(sections, style, scale.key, rng)
        dec = _Decoder(model, scale=scale, low=voice.low, high=voice.high, meter=meter,
                       chord_bias=self.chord_bias, temperature=self.temperature,
                       repeat_penalty=self.repeat_penalty)
        bar = meter.bar_beats
        out_sections, chords, melody, lyrics = [], [], [], []
        sung: dict[tuple, list[int]] = {}  # phrase key -> pitches, so a repeated line repeats its tune
        bar0 = 0
        for si, (sec, bar_chords) in enumerate(zip(sections, chords_per_section)):
            out_sections.append(Section(sec.kind, sec.label, bar0, sec.n_bars))
            chords += [Chord((bar0 + b) * bar, bar, s) for b, s in enumerate(bar_chords)]
            ends_on_tonic = sec.kind != "pre-chorus" or si == len(sections) - 1
            pbar = 0
            for pi, phrase in enumerate(sec.phrases):
                line_index = None
                if sec.sung:
                    line_index = len(lyrics)
                    lyrics.append(LyricLine(si, phrase.text, phrase.syllables))
                rhythm = line_rhythm(phrase.prominences, meter=meter, n_bars=phrase.n_bars,
                                     seed_key=phrase.rhythm_key, word_end=phrase.word_end,
                                     spoken_proportions=stress_timed(phrase.syllables))
                pchords = bar_chords[pbar:pbar + phrase.n_bars]
                events = [(on, dur, ChordSymbol.parse(pchords[int(on // bar)]), phrase.prominences[j])
                          for j, (on, dur) in enumerate(rhythm)]
                last = pi == len(sec.phrases) - 1
                final = last and si == max(i for i, s in enumerate(sections) if s.phrases)
                tonic_ok = scale.key.tonic_pc in events[-1][2].pitch_classes()
                key = (phrase.rhythm_key, tuple(pchords))
                gen = torch.Generator().manual_seed(stable_rng(seed, "learned", *key).getrandbits(62))
                start = (bar0 + pbar) * bar
                fixed = sung.get(key)
                if fixed is not None and final and tonic_ok:
                    fixed = fixed[:-1] + [dec.nearest_tonic(fixed[-1])]
                pitches = dec.phrase(events, start_beats=start, gen=gen,
                                     force_tonic=last and ends_on_tonic and tonic_ok, fixed=fixed)
                sung.setdefault(key, pitches)
                base = _VELOCITY.get(sec.kind, 86)
                for j, ((on, dur), midi) in enumerate(zip(rhythm, pitches)):
                    vel = base + {2: 6, 1: 0, 0: -6}[phrase.prominences[j]]
                    melody.append(Note(start + on, dur, midi, vel, (line_index, j) if line_index is not None else None))
                pbar += phrase.n_bars
            bar0 += sec.n_bars
        return LeadSheet(title=spec.title, key=scale.key, meter=meter, tempo_bpm=tempo, sections=out_sections,
                         chords=chords, melody=melody, lyrics=lyrics, style_tags=tag_list(spec.tags),
                         language=spec.resolved_language())


__all__ = ["LearnedPlanner", "DEFAULT_CHECKPOINT", "chord_label"]
