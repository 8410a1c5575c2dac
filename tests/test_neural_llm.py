"""The LLM planner: lead-sheet tokens, the grammar that constrains them, a tiny random causal LM."""

from __future__ import annotations

import importlib.util
import json
import random
from fractions import Fraction

import pytest

from contract import CheckpointContract, PlannerContract
from generators.constrained import LeadSheetGrammar, logits_processor
from generators.leadsheet_tokens import VOCAB, decode, encode
from generators.llm_planner import LLMPlanner, song_frame
from pipeline import SongSpec
from representations.errors import BackendUnavailable
from representations.music import ChordSymbol

SPEC = """\
title: Grammar Song
tags: folk, sad, guitar, 84 BPM
lyrics: |
  [Verse]
  Morning light across the river
  I can hear you calling me
  [Chorus]
  Sing it out, sing it loud
  we are dancing in the crowd
"""


@pytest.fixture(scope="module")
def spec():
    return SongSpec.from_text(SPEC, source="grammar.yaml")


@pytest.fixture(scope="module")
def frame(spec):
    return song_frame(spec, seed=0)


def check_fits(sheet, frame):
    """Everything the grammar promises, measured on the decoded lead sheet."""
    sk = frame.skeleton
    bar = sk.meter.bar_beats
    assert sheet.n_bars == len(sk.bars) and sheet.key == sk.key and sheet.meter == sk.meter
    assert [s.kind for s in sheet.sections] == [b.section_kind for b in sk.bars if b.starts_section]
    # one chord per bar, the last one the tonic triad
    assert [c.start_beats for c in sheet.chords] == [i * bar for i in range(len(sk.bars))]
    last = sheet.chords[-1].parsed
    assert last.root_pc == sk.key.tonic_pc and last.is_minor == (sk.key.mode == "minor")
    # every syllable exactly once, in order, inside its own line's bars
    assert len(sheet.lyrics) == len(frame.lines)
    for li, line in enumerate(sheet.lyrics):
        notes = sheet.sung_notes(li)
        assert [n.syllable[1] for n in notes if not n.melisma] == list(range(len(line.syllables)))
        bars = {i for i, b in enumerate(sk.bars) if b.line == li}
        assert all(int(n.start_beats // bar) in bars and n.end_beats <= (max(bars) + 1) * bar for n in notes)
        assert all(abs(a.pitch - b.pitch) <= 12 for a, b in zip(notes, notes[1:]))  # leaps within an octave
        assert all(sk.sung_range[0] <= n.pitch <= sk.sung_range[1] for n in notes)
    # notes in the key or in the bar's chord; on the sixteenth grid; never overlapping; within the song
    scale = set(sk.key.scale_pcs())
    prev_end = Fraction(0)
    for n in sheet.melody:
        chord = set(ChordSymbol.parse(sheet.chord_at(n.start_beats).symbol).pitch_classes())
        assert n.pitch % 12 in scale | chord, n
        assert (n.start_beats * 4).denominator == 1 and (n.duration_beats * 4).denominator == 1
        assert n.start_beats >= prev_end and n.end_beats <= sheet.total_beats
        prev_end = n.end_beats


def random_walk(grammar, seed):
    rng = random.Random(seed)
    st, ids = grammar.start(), []
    while st.phase != "done":
        tok = rng.choice(grammar.allowed(st))
        ids.append(tok)
        st = grammar.advance(st, tok)
    return ids


@pytest.mark.parametrize("mode", ["major", "minor"])
def test_any_path_through_the_grammar_is_a_valid_song(frame, mode):
    from dataclasses import replace

    from representations.music import Key

    fr = replace(frame, skeleton=replace(frame.skeleton, key=Key("E", mode)))
    grammar = LeadSheetGrammar(fr.skeleton)
    for seed in range(25):
        ids = random_walk(grammar, seed)
        assert len(ids) <= grammar.max_length()
        check_fits(fr.lead_sheet(fr.prompt() + VOCAB.texts(ids)), fr)


def test_grammar_refuses_what_breaks_the_song(frame):
    grammar = LeadSheetGrammar(frame.skeleton)
    st = grammar.run(VOCAB.ids(["SECTION_intro", "BAR"]))
    with pytest.raises(ValueError, match="not allowed"):
        grammar.advance(st, VOCAB["SYL"])  # a chord must come first
    off_key = next(t for t in VOCAB.tokens if t.startswith("CHORD_") and VOCAB[t] not in grammar.chord_ids)
    with pytest.raises(ValueError, match="not allowed"):
        grammar.advance(st, VOCAB[off_key])


def test_encode_decode_round_trip_of_the_rule_planner(spec):
    from generators.rule_planner import RulePlanner

    sheet = RulePlanner().plan(spec, seed=2)
    back = decode(encode(sheet), lines=sheet.lyrics, title=sheet.title, tempo_bpm=sheet.tempo_bpm,
                  labels=[s.label for s in sheet.sections], style_tags=sheet.style_tags)
    a, b = sheet.to_dict(), back.to_dict()
    for key in ("key", "meter", "sections", "chords", "lyrics"):
        assert a[key] == b[key]
    drop = lambda notes: [{k: v for k, v in n.items() if k != "velocity"} for n in notes]  # noqa: E731
    assert drop(a["melody"]) == drop(b["melody"])


def test_decode_names_the_bad_token(frame):
    toks = frame.prompt() + ["SECTION_intro", "BAR", "POS_0"]
    with pytest.raises(ValueError, match=r"token 7: expected CHORD_"):
        decode(toks, lines=frame.lines)
    with pytest.raises(ValueError, match="LINE tokens for"):
        decode(frame.prompt() + ["SECTION_intro", "BAR", "CHORD_C_maj", "EOS"], lines=frame.lines)


def test_logits_processor_masks_everything_the_grammar_forbids(frame):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    grammar = LeadSheetGrammar(frame.skeleton)
    prompt = VOCAB.ids(frame.prompt())
    proc = logits_processor(grammar, prompt_length=len(prompt))
    body = VOCAB.ids(["SECTION_intro", "BAR"])
    scores = proc(torch.tensor([prompt + body]), torch.zeros(1, len(VOCAB) + 5))
    allowed = set(torch.nonzero(torch.isfinite(scores[0])).flatten().tolist())
    assert allowed == set(grammar.chord_ids) and len(allowed) >= 6


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="transformers is not installed")
class TestLLMPlannerContract(PlannerContract, CheckpointContract):
    drop = "songwright_vocab.json"

    @staticmethod
    def make_tiny(folder):
        return LLMPlanner.make_tiny(folder)

    @staticmethod
    def load(folder):
        return LLMPlanner(checkpoint=folder)

    @staticmethod
    def weights(folder):
        return folder / "model.safetensors"

    @staticmethod
    def break_shapes(folder):
        cfg = json.loads((folder / "config.json").read_text())
        cfg["hidden_size"], cfg["intermediate_size"] = 32, 64
        (folder / "config.json").write_text(json.dumps(cfg))

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_tiny_random_model_always_fits_the_lyrics(self, backend, spec, seed):
        check_fits(backend.plan(spec, seed=seed), song_frame(spec, seed=seed))

    def test_gpt2_checkpoint_and_spec_models_section(self, tmp_path, spec):
        folder = LLMPlanner.make_tiny(tmp_path / "gpt2", arch="gpt2")
        with_models = SongSpec.model_validate(spec.model_dump() | {"models": {"llm": str(folder)}})
        sheet = LLMPlanner().plan(with_models, seed=5)
        check_fits(sheet, song_frame(spec, seed=5))

    def test_vocabulary_that_does_not_fit_the_model(self, checkpoint, tmp_path):
        folder = self._copy(checkpoint, tmp_path)
        data = json.loads((folder / "songwright_vocab.json").read_text())
        data["ids"]["EOS"] = 10_000
        (folder / "songwright_vocab.json").write_text(json.dumps(data))
        self._unavailable(folder, "output ids")
        del data["ids"]["EOS"]
        (folder / "songwright_vocab.json").write_text(json.dumps(data))
        self._unavailable(folder, "have no id")

    def test_missing_checkpoint_says_where_it_looked(self, monkeypatch, tmp_path, spec):
        monkeypatch.setenv("SONGWRIGHT_MODELS_DIR", str(tmp_path))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        with pytest.raises(BackendUnavailable, match=r"no checkpoint 'llm'.*SONGWRIGHT_MODELS_DIR/llm: absent"):
            LLMPlanner().plan(spec, seed=0)
