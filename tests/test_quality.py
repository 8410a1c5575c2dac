"""The pitch judge (pipeline.quality.pitch_accuracy) on audio whose pitch is known exactly."""

import numpy as np
import pytest

from pipeline.quality import pitch_accuracy

SR = 16000


def sung(notes, *, detune_cents: float = 0.0, gap_s: float = 0.06, seed: int = 0) -> np.ndarray:
    """WORLD-synthesised notes on a vowel-like envelope, each starting with ``gap_s`` of unvoiced
    noise (a consonant before the beat)."""
    import pyworld

    fp = 0.005
    total = max(e for _, e, _ in notes)
    n = int(total / fp) + 1
    t = np.arange(n) * fp
    f0 = np.zeros(n)
    for start, end, pitch in notes:
        on = (t >= start) & (t < end)
        f0[on] = 440.0 * 2 ** ((pitch - 69 + detune_cents / 100) / 12)
        f0[(t >= start - gap_s) & (t < start)] = 0.0
    freqs = np.linspace(0, SR / 2, 513)
    env = sum(np.exp(-0.5 * ((freqs - fc) / bw) ** 2) * g for fc, bw, g in ((700, 120, 1.0), (1200, 150, 0.5),
                                                                            (2600, 250, 0.2))) + 1e-3
    sp = np.tile(env * 1e-3, (n, 1))
    ap = np.where(f0[:, None] > 0, 0.01, 1.0) * np.ones((n, 513))
    rng = np.random.default_rng(seed)
    sp *= np.exp(rng.normal(0, 0.05, (n, 1)))
    return pyworld.synthesize(f0, sp, ap, SR, fp * 1000)


NOTES = [(0.3 + 0.4 * i, 0.3 + 0.4 * (i + 1), p) for i, p in enumerate([57, 60, 64, 62, 67, 65, 60, 69, 72, 64])]


def test_in_tune_notes_with_consonants_between_read_in_tune():
    r = pitch_accuracy(sung(NOTES), SR, NOTES)
    assert r["raw_pitch_accuracy"] >= 0.97, r
    assert r["voicing_recall"] >= 0.8, r


def test_out_of_tune_notes_read_out_of_tune():
    assert pitch_accuracy(sung(NOTES, detune_cents=80), SR, NOTES)["raw_pitch_accuracy"] < 0.1
    assert pitch_accuracy(sung(NOTES, detune_cents=30), SR, NOTES)["raw_pitch_accuracy"] >= 0.9


def test_unknown_tracker_is_refused():
    with pytest.raises(ValueError, match="valid: dio, harvest"):
        pitch_accuracy(sung(NOTES[:2]), SR, NOTES[:2], method="yin")


def test_harvest_reads_across_consonants_more_than_dio():
    """Why dio is the default judge: harvest calls more of the unvoiced onsets voiced, off the note."""
    x = sung(NOTES, gap_s=0.1)
    dio = pitch_accuracy(x, SR, NOTES, skip_s=0.0)
    harvest = pitch_accuracy(x, SR, NOTES, skip_s=0.0, method="harvest")
    assert dio["raw_pitch_accuracy"] > harvest["raw_pitch_accuracy"], (dio, harvest)
