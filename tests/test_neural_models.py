"""Checkpoint lookup, offline loading, the neural representations and ``songwright doctor``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import models
from representations.errors import BackendUnavailable
from representations.tokens import AudioTokens, Latents

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty models dir and config home; returns (models_dir, config_file)."""
    monkeypatch.setenv("SONGWRIGHT_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "models").mkdir()
    cfg = tmp_path / "config" / "songwright" / "models.yaml"
    cfg.parent.mkdir(parents=True)
    return tmp_path / "models", cfg


def test_lookup_order_spec_then_env_then_config(places, tmp_path):
    models_dir, cfg = places
    for name in ("spec_llm", "env_llm", "cfg_llm"):
        (tmp_path / name).mkdir()
    cfg.write_text(f"llm: {tmp_path / 'cfg_llm'}\nmusicgen: relative/mg\n")
    assert models.locate("llm").path == tmp_path / "cfg_llm"
    (models_dir / "llm").mkdir()
    assert models.locate("llm").path == models_dir / "llm"
    found = models.locate("llm", models={"llm": "spec_llm"}, base_dir=tmp_path)
    assert found.path == tmp_path / "spec_llm" and "spec" in found.source
    assert models.locate("musicgen").path == cfg.parent / "relative" / "mg"  # relative to the config file
    cfg.write_text(f"models_dir: {tmp_path}\n")
    assert models.locate("cfg_llm").path == tmp_path / "cfg_llm"


def test_missing_checkpoint_is_one_line_with_the_places_and_what_to_put(places):
    models_dir, cfg = places
    with pytest.raises(BackendUnavailable) as e:
        models.require_checkpoint("diffusion", backend="diffusion renderer", expects="A UNET FOLDER")
    msg = str(e.value)
    assert "\n" not in msg and "A UNET FOLDER" in msg and str(models_dir / "diffusion") in msg and str(cfg) in msg
    cfg.write_text("- not\n- a mapping\n")
    with pytest.raises(BackendUnavailable, match="must be a YAML mapping"):
        models.locate("diffusion")


def test_safetensors_header_checks(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    good = tmp_path / "w.safetensors"
    save_file({"w": torch.zeros(4, 4)}, str(good))
    assert "w" in models.check_safetensors(good, backend="b", expects="X")
    for bad in (b"", b"\x05\x00\x00\x00\x00\x00\x00\x00{}", good.read_bytes()[:-10]):
        (tmp_path / "bad.safetensors").write_bytes(bad)
        with pytest.raises(BackendUnavailable, match="not a valid safetensors file"):
            models.check_safetensors(tmp_path / "bad.safetensors", backend="b", expects="X")


def test_offline_variables_reach_an_imported_hub(monkeypatch):
    hub = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)
    models.set_offline()
    assert os.environ["HF_HUB_OFFLINE"] == "1" == os.environ["TRANSFORMERS_OFFLINE"] and hub.HF_HUB_OFFLINE is True


def test_importing_the_backends_does_not_import_torch():
    code = ("import sys, pipeline, generators.llm_planner, renderers.diffusion, generators.musicgen, "
            "voice.demucs_separation, pipeline.doctor, representations.tokens; "
            "print(sorted(m for m in ('torch', 'transformers', 'diffusers', 'demucs', 'librosa') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_audio_tokens_round_trip(tmp_path):
    codes = np.random.default_rng(0).integers(0, 64, size=(4, 30))
    t = AudioTokens(codes, "encodec_32khz", 50.0, 32000, 64, audio_channels=2, prompt="pop, piano")
    assert t.duration_s == pytest.approx(0.6) and t.n_codebooks == 4
    back = AudioTokens.from_dict(t.to_dict())
    assert np.array_equal(back.codes, codes) and back.to_dict() == t.to_dict()
    t.save(tmp_path / "t.npz")
    assert AudioTokens.load(tmp_path / "t.npz").to_dict() == t.to_dict()
    with pytest.raises(ValueError, match=r"must lie in \[0, 64\)"):
        AudioTokens(codes + 64, "x", 50.0, 32000, 64)
    with pytest.raises(ValueError, match="format"):
        Latents.load(tmp_path / "t.npz")


def test_latents_round_trip(tmp_path):
    v = np.random.default_rng(1).uniform(-1, 1, size=(1, 16, 40)).astype(np.float32)
    lat = Latents(v, "log-mel", 62.5, 16000, {"n_mels": 16})
    assert lat.frame_of(0.2) == 12 and lat.frame_of(99.0) == 40
    assert np.array_equal(Latents.from_dict(lat.to_dict()).values, v)
    lat.save(tmp_path / "l.npz")
    back = Latents.load(tmp_path / "l.npz")
    assert np.array_equal(back.values, v) and back.params == {"n_mels": 16}
    with pytest.raises(ValueError, match="kind"):
        Latents(v, "wave", 62.5, 16000)
    with pytest.raises(ValueError, match="NaN"):
        Latents(v * np.nan, "log-mel", 62.5, 16000)


def test_doctor_lists_every_backend_of_every_role(places, capsys):
    from pipeline import backends
    from pipeline.cli import main
    from pipeline.doctor import rows

    found = rows()
    by_role = {}
    for r in found:
        by_role.setdefault(r.role, set()).add(r.backend)
    for role in backends.ROLES:
        assert by_role[role] == set(backends.registry(role).names())
    assert {"llm", "vllm"} <= by_role["planner"] and {"diffusion", "musicgen"} <= by_role["renderer"]
    assert "demucs" in by_role["separator"]
    llm = next(r for r in found if r.backend == "llm")
    assert not llm.usable and "no checkpoint 'llm'" in llm.detail
    assert all(r.usable for r in found if r.default)
    assert main(["doctor", "--role", "planner"]) == 0
    out = capsys.readouterr().out
    assert "SONGWRIGHT_MODELS_DIR=" in out and "rules *" in out
    assert main(["doctor", "--role", "nope"]) == 2


def test_doctor_finds_a_checkpoint_in_the_models_dir(places, capsys):
    pytest.importorskip("transformers")
    from generators.llm_planner import LLMPlanner
    from pipeline.doctor import rows

    models_dir, _ = places
    LLMPlanner.make_tiny(models_dir / "llm")
    llm = next(r for r in rows(roles=["planner"]) if r.backend == "llm")
    assert llm.usable and str(models_dir / "llm") in llm.detail
