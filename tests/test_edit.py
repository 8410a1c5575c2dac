"""Editing a rendered song: what changes is measured, and everything else is sample-identical."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from folders import digests
from pipeline.edit import edit_lyric_line, read_pcm, repaint_bars
from pipeline.history import undo
from pipeline.quality import pitch_accuracy
from pipeline.rework import extend_song, restyle_song
from representations.errors import SongFolderError, SpecError
from representations.leadsheet import LeadSheet
from representations.midi import read_midi_notes

ROOT = Path(__file__).resolve().parents[1]
SR = 44100
NEW_TEXT = "golden rivers carry every song"



def differing(a: Path, b: Path) -> np.ndarray:
    x, _ = read_pcm(a)
    y, _ = read_pcm(b)
    assert x.shape == y.shape
    return np.flatnonzero(np.any(x != y, axis=1))


@pytest.fixture(scope="module")
def edited(rendered_song, tmp_path_factory):
    before = digests(rendered_song.folder)
    out = tmp_path_factory.mktemp("edit") / "edited"
    song = edit_lyric_line(rendered_song.folder, 2, NEW_TEXT, out)
    assert digests(rendered_song.folder) == before  # the source is never modified
    return song


def test_lyric_edit_changes_only_its_bars(rendered_song, edited):
    src, dst = rendered_song.folder, edited.folder
    first, last = edited.manifest["last_edit"]["bars"]
    bar_s = 4 * 60 / rendered_song.lead_sheet.tempo_bpm
    lo, hi = int(round((first - 1) * bar_s * SR)), int(round(last * bar_s * SR))
    d = differing(src / "vocals.wav", dst / "vocals.wav")
    assert d.size > 0 and d[0] >= lo and d[-1] < hi
    for stem in (src / "stems").glob("*.wav"):
        assert stem.read_bytes() == (dst / "stems" / stem.name).read_bytes(), stem.name
    assert (src / "accompaniment.wav").read_bytes() == (dst / "accompaniment.wav").read_bytes()
    m = differing(src / "mix.wav", dst / "mix.wav")
    assert m.size > 0 and m[0] >= lo and m[-1] < hi  # crossfades (20 ms) lie inside the edited bars
    assert (hi - lo) / SR <= 2 * 4 * bar_s  # a one-line edit touches at most the line's bars


def test_lyric_edit_sings_the_new_notes(edited):
    sheet = LeadSheet.load(edited.folder / "leadsheet.json")
    assert sheet.lyrics[1].text == NEW_TEXT
    assert [s.text for s in sheet.lyrics[1].syllables][:3] == ["gol", "den", "ri"]
    notes = read_midi_notes(edited.folder / "arrangement.mid")["vocals"]
    starts = {round(float(n.start_beats) * 60 / sheet.tempo_bpm, 3) for n in sheet.sung_notes(1)}
    line_notes = [(s, e, p) for s, e, p, _ in notes if round(s, 3) in starts]
    assert len(line_notes) == len(sheet.sung_notes(1)) == len(sheet.lyrics[1].syllables)
    vocals, sr = read_pcm(edited.folder / "vocals.wav")
    r = pitch_accuracy(vocals[:, 0] / 32767.0, sr, line_notes)
    assert r["raw_pitch_accuracy"] >= 0.90, r
    lrc = (edited.folder / "lyrics.lrc").read_text(encoding="utf-8")
    assert NEW_TEXT in lrc


def test_undo_restores_the_source_exactly(rendered_song, edited, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(edited.folder, copy)
    last = undo(copy)
    assert last["op"] == "lyrics"
    src = digests(rendered_song.folder)
    now = digests(copy)
    assert {k: v for k, v in now.items() if not k.startswith("history")} == src
    with pytest.raises(SongFolderError, match="no edits to undo"):
        undo(copy)


def test_repaint_keeps_everything_outside_the_bars(rendered_song, tmp_path):
    sheet = rendered_song.lead_sheet
    song = repaint_bars(rendered_song.folder, (1, 2), tmp_path / "rp", seed=9)  # the intro: no lyric line
    first, last = song.manifest["last_edit"]["bars"]
    assert (first, last) == (1, 2)
    hi = int(round(last * 4 * 60 / sheet.tempo_bpm * SR))
    changed = song.manifest["last_edit"] and json.loads((song.folder / "history" / "0001-repaint" / "edit.json").read_text())["tracks"]
    assert changed, "the repaint changed no track"
    for stem in (rendered_song.folder / "stems").glob("*.wav"):
        d = differing(stem, song.folder / "stems" / stem.name)
        assert d.size == 0 or d[-1] < hi, stem.name
    assert (rendered_song.folder / "vocals.wav").read_bytes() == (song.folder / "vocals.wav").read_bytes()
    m = differing(rendered_song.folder / "mix.wav", song.folder / "mix.wav")
    assert m.size > 0 and m[-1] < hi


def test_restyle_keeps_vocals_and_changes_the_band(rendered_song, tmp_path):
    song = restyle_song(rendered_song.folder, "jazz, upright bass, brushes, saxophone", tmp_path / "jazz")
    assert (song.folder / "vocals.wav").read_bytes() == (rendered_song.folder / "vocals.wav").read_bytes()
    stems = {p.stem for p in (song.folder / "stems").glob("*.wav")}
    assert {"upright_bass", "saxophone"} <= stems and "acoustic_guitar" not in stems
    assert LeadSheet.load(song.folder / "leadsheet.json").melody == rendered_song.lead_sheet.melody


def test_extend_adds_a_chorus_at_the_end(rendered_song, tmp_path):
    song = extend_song(rendered_song.folder, tmp_path / "ext", add="[Chorus]")
    old, new = rendered_song.lead_sheet, song.lead_sheet
    assert len(new.lyrics) == len(old.lyrics) + 2
    assert [l.text for l in new.lyrics[-2:]] == [l.text for l in old.lyrics[-2:]]
    assert new.n_bars > old.n_bars and new.sections[-1].kind == "outro"
    assert (new.key, new.tempo_bpm, new.meter) == (old.key, old.tempo_bpm, old.meter)


def run(*args):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("args, message", [
    (["edit", "{song}", "--line", "99", "--text", "hi", "-o", "{out}"], "--line 99 is out of range"),
    (["edit", "{song}", "--line", "1", "--text", "  ", "-o", "{out}"], "nothing to sing"),
    (["edit", "{song}", "--line", "1", "--text", "hello 🎉", "-o", "{out}"], "cannot be sung"),
    (["repaint", "{song}", "--bars", "90-99", "-o", "{out}"], "outside the song"),
    (["edit", "{notsong}", "--line", "1", "--text", "hi", "-o", "{out}"], "not a song folder"),
    (["edit", "{song}", "--line", "1", "--text", "hi"], "needs --in-place"),
    (["edit", "{song}", "--line", "1", "--line", "2", "--text", "hi", "-o", "{out}"], "one --text after each --line"),
    (["edit", "{song}", "--line", "2", "--text", "hi", "--line", "2", "--text", "ho", "-o", "{out}"], "given twice"),
])
def test_bad_edits_exit_2_and_write_nothing(rendered_song, tmp_path, args, message):
    before = digests(rendered_song.folder)
    out = tmp_path / "out"
    args = [a.format(song=rendered_song.folder, out=out, notsong=tmp_path) for a in args]
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists() and not list(tmp_path.glob(".*"))
    assert digests(rendered_song.folder) == before


def test_older_folder_format_is_refused(rendered_song, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(rendered_song.folder, old)
    m = json.loads((old / "manifest.json").read_text())
    m["format"] = "songwright.song/0"
    (old / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(SongFolderError, match="not supported"):
        edit_lyric_line(old, 1, "hello", tmp_path / "o")
    with pytest.raises(SpecError):
        edit_lyric_line(rendered_song.folder, 1, "a b c d e f g h i j k l m n o p q r s t u v w x y z " * 3, tmp_path / "o2")


HARMONY_SPEC = """\
title: Backing
tags: pop, piano, harmonies, 104 BPM
seed: 3
lyrics: |
  [Chorus]
  sing it out and sing it loud
  we are dancing in the crowd
  hold the light above the sound
"""


def test_lyric_edit_re_sings_the_backing_vocals_of_its_line(tmp_path, monkeypatch):
    """A song with harmonies: the edited line's double and harmony are sung with the new words,
    only inside its bars; the fast path (old line cleared) equals the long one (old line sung
    again and subtracted)."""
    from pipeline import SongPipeline, SongSpec

    src = SongPipeline().render(SongSpec.from_text(HARMONY_SPEC, source="backing.yaml"), tmp_path / "src").folder
    fast = edit_lyric_line(src, 2, "we go walking through the town", tmp_path / "fast")
    first, last = fast.manifest["last_edit"]["bars"]
    bar_s = 4 * 60 / 104
    lo, hi = int(round((first - 1) * bar_s * SR)), int(round(last * bar_s * SR))
    for name in ("stems/harmony_vocals.wav", "vocals.wav", "accompaniment.wav", "mix.wav"):
        d = differing(src / name, fast.folder / name)
        assert d.size > 0 and d[0] >= lo and d[-1] < hi, name
    monkeypatch.setattr("pipeline.edit._lone_span", lambda *args: None)
    slow = edit_lyric_line(src, 2, "we go walking through the town", tmp_path / "slow")
    a, _ = read_pcm(fast.folder / "stems/harmony_vocals.wav")
    b, _ = read_pcm(slow.folder / "stems/harmony_vocals.wav")
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 2
    undo(fast.folder)
    assert (fast.folder / "stems/harmony_vocals.wav").read_bytes() == (src / "stems/harmony_vocals.wav").read_bytes()


def test_several_lines_in_one_edit(rendered_song, tmp_path):
    """Two lines edited by one command: each is re-sung, the bars between them stay identical,
    and one history entry undoes both."""
    src, out = rendered_song.folder, tmp_path / "two"
    r = run("edit", str(src), "--line", "1", "--text", "evening rain upon the water", "--line", "4", "--text",
            "we are singing to the crowd", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "lines 1, 4 re-sung" in r.stdout
    regions = json.loads(next((out / "history").glob("*/edit.json")).read_text())["regions"]
    assert len(regions) == 2 and regions[0][1] < regions[1][0]  # two separate re-mixed regions
    bar_s = 4 * 60 / rendered_song.lead_sheet.tempo_bpm
    d = differing(src / "vocals.wav", out / "vocals.wav")
    gap = (int(round(regions[0][1] * bar_s * SR)), int(round((regions[1][0] - 1) * bar_s * SR)))
    assert d.size and not ((d >= gap[0]) & (d < gap[1])).any()  # nothing moved between the two lines
    m = differing(src / "mix.wav", out / "mix.wav")
    assert not ((m >= gap[0]) & (m < gap[1])).any()
    sheet = LeadSheet.load(out / "leadsheet.json")
    assert [sheet.lyrics[0].text, sheet.lyrics[3].text] == ["evening rain upon the water", "we are singing to the crowd"]
    undo(out)
    assert (out / "vocals.wav").read_bytes() == (src / "vocals.wav").read_bytes()
