"""The demucs separator with a tiny random HTDemucs, and the separation role's registry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from contract import CheckpointContract, SeparatorContract, tone_audio
from representations.errors import BackendUnavailable
from voice.separation_base import STEMS, Separator, create_separator, separator_registry

pytest.importorskip("demucs")
from voice.demucs_separation import DemucsSeparator  # noqa: E402


def _rewrite_metadata(path, **changes):
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
    tensors = load_file(str(path))
    for key, value in changes.items():
        if key == "kwargs":
            meta["kwargs"] = json.dumps(json.loads(meta["kwargs"]) | value)
        else:
            meta[key] = value
    save_file(tensors, str(path), metadata=meta)


def test_registry_lists_demucs_and_names_the_valid_ones():
    assert "demucs" in separator_registry().names() and STEMS == ("vocals", "accompaniment")
    assert isinstance(create_separator("demucs", checkpoint="/nonexistent"), Separator)
    with pytest.raises(BackendUnavailable, match="unknown separator backend 'nope'; valid: .*demucs"):
        create_separator("nope")


class TestDemucsContract(SeparatorContract, CheckpointContract):
    drop = "tiny0.safetensors"

    @staticmethod
    def make_tiny(folder):
        return DemucsSeparator.make_tiny(folder)

    @staticmethod
    def load(folder):
        return DemucsSeparator(checkpoint=folder)

    @staticmethod
    def weights(folder):
        return folder / "tiny0.safetensors"

    @staticmethod
    def break_shapes(folder):
        _rewrite_metadata(folder / "tiny0.safetensors", kwargs={"channels": 8})

    def test_parts_add_up_to_the_models_sources(self, backend):
        audio = tone_audio(1.0, 44100, 2)
        out = backend.separate(audio)
        assert np.abs(out["vocals"].samples).max() > 0 and np.abs(out["accompaniment"].samples).max() > 0
        assert not np.allclose(out["vocals"].samples, out["accompaniment"].samples)

    def test_only_demucs_classes_are_loaded(self, checkpoint, tmp_path):
        folder = self._copy(checkpoint, tmp_path)
        _rewrite_metadata(folder / "tiny0.safetensors", klass="os.system")
        self._unavailable(folder, "does not name a demucs model class")

    def test_bag_file_must_list_models(self, checkpoint, tmp_path):
        folder = self._copy(checkpoint, tmp_path)
        (folder / "tiny.yaml").write_text("weights: [1]\n")
        self._unavailable(folder, "is not a demucs bag file")
