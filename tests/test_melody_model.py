"""The learned melody model: data tokens, splits, the tiny transformer, checkpoints and the planner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from generators.learned_planner import DEFAULT_CHECKPOINT, LearnedPlanner  # noqa: E402
from generators.melody_corpus import normalise, read_abc_file  # noqa: E402
from generators.melody_data import SPLITS, build_dataset, load_split, split_of, tokens_tune, tune_tokens  # noqa: E402
from generators.melody_model import (N_PITCH, MelodyModelConfig, MelodyTransformer, batch_features,  # noqa: E402
                                     note_features)
from pipeline import backends  # noqa: E402
from pipeline.spec import SongSpec  # noqa: E402
from representations.errors import BackendUnavailable  # noqa: E402

# Two phrases (one per line, as in the Essen files) in D major with an upbeat; the second bar of
# each line is completed by the next line's upbeat.
ABC = """X:1
T:Test tune
M:3/4
L:1/8
K:D
A2 | d2 f2 a2 | g2 e2 c2 | d4
A2 | B2 ^c2 d2 | e4 c2 | d4 |]

X:2
T:Second
M:6/8
L:1/8
K:G
D | G2A B2c | d3 B2G | A2B c2A | G3 z2 |]
"""
# semitones above the tonic D, placed so the median lies in the octave above it
EXPECTED = [-5, 0, 4, 7, 5, 2, -1, 0, -5, -3, -1, 0, 2, -1, 0]
SPEC = """\
title: Learned
tags: folk, acoustic guitar, male vocals
seed: 3
lyrics: |
  [Verse]
  The river bends around the mill
  the morning mist is lying still
  [Chorus]
  Carry me home, carry me home
  over the hills where the wild winds roam
  [Chorus]
  Carry me home, carry me home
  over the hills where the wild winds roam
"""


@pytest.fixture(scope="module")
def tunes(tmp_path_factory):
    path = tmp_path_factory.mktemp("abc") / "test.abc"
    path.write_text(ABC, encoding="latin-1")
    return [normalise(raw) for raw in read_abc_file("essen", path)]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    return MelodyTransformer(MelodyModelConfig.tiny(seed=1)).save_pretrained(tmp_path_factory.mktemp("tiny") / "melody")


def test_abc_tune_is_key_normalised_with_phrases_and_bars(tunes):
    t = tunes[0]
    assert (t.mode, t.meter) == ("major", "3/4")
    assert [n.pitch for n in t.sounding()] == EXPECTED
    assert [i for i, n in enumerate(t.sounding()) if n.phrase_end] == [7, 14]  # one phrase per ABC line
    assert t.sounding()[0].onset == 24 and t.sounding()[1].onset == 36  # upbeat on beat 3, then bar 2
    tokens = tune_tokens(t)
    assert tokens[:3] == ["mode:major", "meter:3/4", "bar"] and tokens[4] == "pos:24"
    assert tokens.count("phrase") == 2 and tokens[-1] == "end"
    second = tunes[1]  # 6/8 in G: the final note is the tonic; an eighth is 6 ticks
    assert (second.mode, second.meter, second.sounding()[-1].pitch % 12) == ("major", "6/8", 0)
    assert second.sounding()[0].dur == 6 and second.sounding()[0].onset == 30


def test_tokens_round_trip(tunes):
    for t in tunes:
        back = tokens_tune(tune_tokens(t), id=t.id, source=t.source)
        assert back == t
        assert tune_tokens(back) == tune_tokens(t)
    with pytest.raises(ValueError, match="unknown melody token"):
        tokens_tune(["mode:major", "meter:4/4", "bar", "pos:0", "nonsense:1", "end"])


def test_split_is_a_fixed_hash_of_the_id():
    ids = [f"essen/file#{i}" for i in range(3000)]
    first = [split_of(i) for i in ids]
    assert first == [split_of(i) for i in ids]
    share = {s: first.count(s) / len(ids) for s in SPLITS}
    assert abs(share["train"] - 0.90) < 0.02 and abs(share["test"] - 0.05) < 0.015, share
    assert split_of("essen/file#0") == split_of("essen/file#0") and set(first) == set(SPLITS)


def test_tiny_model_forward_backward_and_seed_determinism(tunes):
    rows = [note_features(t) for t in tunes]
    feats, target = batch_features(rows)
    a, b = MelodyTransformer(MelodyModelConfig.tiny(seed=0)), MelodyTransformer(MelodyModelConfig.tiny(seed=0))
    state = torch.random.get_rng_state()
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    assert torch.equal(torch.random.get_rng_state(), state)  # building a model leaves the global generator alone
    with torch.no_grad():
        assert torch.equal(a.eval()(feats), b.eval()(feats))
        assert not torch.equal(a(feats), MelodyTransformer(MelodyModelConfig.tiny(seed=1)).eval()(feats))
    logits = a.train()(feats)
    assert logits.shape == (2, max(len(r["target"]) for r in rows), N_PITCH)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, N_PITCH), target.reshape(-1))
    loss.backward()
    assert torch.isfinite(loss) and 3.0 < float(loss.detach()) < 4.5  # about log(43) = 3.76 before training
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in a.parameters())
    assert a.n_parameters() < 50_000 and MelodyTransformer(MelodyModelConfig()).n_parameters() <= 5_000_000


def test_training_is_deterministic(tunes, tmp_path):
    from generators.melody_train import train_melody

    data = tmp_path / "data"
    data.mkdir()
    rows = [json.dumps({"id": f"t{i}", "source": "essen", "tokens": " ".join(tune_tokens(t))})
            for i in range(12) for t in tunes]
    for split in SPLITS:
        (data / f"{split}.jsonl").write_text("\n".join(rows) + "\n")
    runs = [train_melody(data, tmp_path / f"m{k}", config=MelodyModelConfig.tiny(), steps=3, batch_size=4,
                         eval_every=3, log=lambda *_: None) for k in range(2)]
    losses = [[(h["step"], h["train_loss"], h["valid_nll"]) for h in r["history"]] for r in runs]
    assert losses[0] == losses[1] and len(losses[0]) == 1
    w = [MelodyTransformer.from_pretrained(tmp_path / f"m{k}").state_dict() for k in range(2)]
    assert all(torch.equal(w[0][k], w[1][k]) for k in w[0])


def test_save_load_round_trip_and_unknown_config_keys(tunes, tmp_path):
    model = MelodyTransformer(MelodyModelConfig.tiny(seed=2))
    model.save_pretrained(tmp_path / "m")
    back = MelodyTransformer.from_pretrained(tmp_path / "m")
    assert back.config == model.config
    feats, _ = batch_features([note_features(tunes[0])])
    assert torch.equal(model.eval()(feats), back(feats))
    with pytest.raises(ValueError, match="unknown config key.*bogus"):
        MelodyModelConfig.from_dict({**model.config.to_dict(), "bogus": 1})
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    (tmp_path / "m" / "config.json").write_text(json.dumps({**cfg, "bogus": 1}))
    with pytest.raises(BackendUnavailable, match="bogus"):
        MelodyTransformer.from_pretrained(tmp_path / "m")


def _checkpoint(tiny_checkpoint) -> Path:
    return DEFAULT_CHECKPOINT if (DEFAULT_CHECKPOINT / "model.safetensors").is_file() else tiny_checkpoint


def test_learned_planner_one_note_per_syllable_in_range_and_key(tiny_checkpoint):
    from voice.presets import resolve_voice

    spec = SongSpec.from_text(SPEC, source="learned.yaml")
    planner = backends.create("planner", "learned", checkpoint=_checkpoint(tiny_checkpoint))
    sheet = planner.plan(spec, seed=3)
    rules = backends.create("planner", "rules").plan(spec, seed=3)
    assert [l.text for l in sheet.lyrics] == [l.text for l in rules.lyrics] and sheet.chords == rules.chords
    voice = resolve_voice(None, "male")
    scale = set(sheet.key.scale_pcs()) | ({(sheet.key.tonic_pc + 11) % 12} if sheet.key.mode == "minor" else set())
    for li, line in enumerate(sheet.lyrics):
        notes = sheet.sung_notes(li)
        assert [n.syllable for n in notes] == [(li, j) for j in range(len(line.syllables))]
        assert all(voice.low <= n.pitch <= voice.high and n.pitch % 12 in scale for n in notes)
        # the rule planner's rhythm, note for note (melismas aside)
        assert [n.start_beats for n in notes] == [n.start_beats for n in rules.sung_notes(li) if not n.melisma]
    assert sheet.melody[-1].pitch % 12 == sheet.key.tonic_pc
    pitches = [[n.pitch for n in sheet.sung_notes(li)] for li in range(len(sheet.lyrics))]
    assert pitches[2] == pitches[4]  # the repeated chorus line keeps its melody
    again = LearnedPlanner(checkpoint=_checkpoint(tiny_checkpoint)).plan(spec, seed=3)
    assert again.to_dict() == sheet.to_dict()


def test_missing_or_corrupt_weights_are_backend_unavailable(tmp_path, tiny_checkpoint):
    spec = SongSpec.from_text(SPEC, source="learned.yaml")
    with pytest.raises(BackendUnavailable, match="missing"):
        LearnedPlanner(checkpoint=tmp_path / "nothing").plan(spec, seed=0)
    chosen = SongSpec.from_text(f"models: {{melody: {tmp_path / 'elsewhere'}}}\n" + SPEC, source="learned.yaml")
    assert LearnedPlanner().folder(chosen) == tmp_path / "elsewhere"
    with pytest.raises(BackendUnavailable, match="elsewhere"):
        LearnedPlanner().plan(chosen, seed=0)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((tiny_checkpoint / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(BackendUnavailable, match="cannot load"):
        LearnedPlanner(checkpoint=broken).plan(spec, seed=0)


def test_train_cli_names_a_missing_data_set(tmp_path, capsys):
    from pipeline.cli import main

    assert main(["train", "melody", "--data", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no melody data set" in err[0] and "songwright train data" in err[0]


def test_build_dataset_writes_splits_and_manifest(tmp_path):
    m = build_dataset(tmp_path / "d", workers=1, collections=["ryans"], max_files=6, log=lambda *_: None)
    total = sum(c["ryans"]["tunes"] for c in m["counts"].values())
    assert total + sum(m["dropped"].values()) == m["tunes_read"] == 6
    assert sum(len(load_split(tmp_path / "d", s)) for s in SPLITS) == total
