"""The learned melody model: a small decoder-only transformer over notes.

One step per sung note. The input of step ``t`` is the sum of embeddings of what a planner knows
before choosing that note's pitch — the previous pitch, the note's duration and place in the bar,
meter, mode, chord, accent (syllable stress or metric weight), the rest before it, and its place
in the phrase (notes before and after it) — plus a learned position. The output is a distribution
over pitches (semitones above the tonic, :data:`generators.melody_data.PITCH_RANGE`). Causal
self-attention lets every choice see the melody so far.

:class:`MelodyModelConfig` is the whole configuration; ``save_pretrained(dir)`` writes it as
``config.json`` beside ``model.safetensors``; ``from_pretrained(dir)`` reads both back and rejects
unknown keys. :meth:`MelodyModelConfig.tiny` is the size used in tests. :func:`note_features` turns
a :class:`generators.melody_data.Tune` into the model's inputs.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from representations.errors import BackendUnavailable

from .melody_data import FORMAT, PITCH_RANGE, QUALITIES, TICKS_PER_QUARTER, Tune

MODEL_FORMAT = "songwright.melody_model/1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


N_PITCH = PITCH_RANGE[1] - PITCH_RANGE[0] + 1
BOS_PITCH = N_PITCH  # "no previous note" in the ``prev`` feature
METERS = ("4/4", "3/4", "2/4", "2/2", "6/8", "3/8", "9/8", "12/8", "3/2", "4/2", "6/4")
MAX_TICKS = 96
PHRASE_CAP = 15
FEATURE_SIZES = {"prev": N_PITCH + 1, "dur": MAX_TICKS + 1, "pos": MAX_TICKS + 1, "meter": len(METERS) + 1,
                 "mode": 2, "chord": 1 + 12 * len(QUALITIES), "accent": 3, "gap": 3, "left": PHRASE_CAP + 1,
                 "index": PHRASE_CAP + 1}


def meter_id(meter: str) -> int:
    """Index of ``meter`` (``"6/8"``) among :data:`METERS`; rarer meters share the last index."""
    return METERS.index(meter) if meter in METERS else len(METERS)


def chord_id(chord: str | None) -> int:
    """``0`` for no chord, else ``1 + 3 * root + quality`` for ``"root:quality"`` (root above the tonic)."""
    if chord is None:
        return 0
    root, q = chord.split(":")
    return 1 + (int(root) % 12) * len(QUALITIES) + QUALITIES.index(q)


@functools.lru_cache(maxsize=4096)
def metric_accent(pos_ticks: int, meter: str) -> int:
    """2 on the bar's strong beats, 1 on other beats, 0 between beats (the stress proxy)."""
    from representations.music import Meter

    m = Meter.parse(meter)
    if pos_ticks == 0 or any(pos_ticks == int(b * TICKS_PER_QUARTER) for b in m.strong_beats()):
        return 2
    beat = TICKS_PER_QUARTER * 3 // 2 if m.compound else TICKS_PER_QUARTER * 4 // m.denominator
    return 1 if pos_ticks % beat == 0 else 0


def gap_class(gap_ticks: int) -> int:
    """A rest before a note: 0 none, 1 up to a quarter, 2 longer."""
    return 0 if gap_ticks <= 0 else 1 if gap_ticks <= TICKS_PER_QUARTER else 2


def pitch_index(pitch: int) -> int:
    """Output index of a pitch (semitones above the tonic, within :data:`PITCH_RANGE`)."""
    return pitch - PITCH_RANGE[0]


def note_features(tune: Tune) -> dict[str, list[int]]:
    """Per sounding note the model's input features and its ``target`` pitch index.

    ``prev`` is the previous note's pitch (``BOS_PITCH`` first); ``accent`` the metric accent;
    ``left`` notes left in the phrase after this one and ``index`` notes before it (capped at 15).
    """
    notes = tune.sounding()
    out: dict[str, list[int]] = {k: [] for k in (*FEATURE_SIZES, "target")}
    prev_end, prev, k = None, BOS_PITCH, 0
    ends = [i for i, n in enumerate(notes) if n.phrase_end]
    mid, mode = meter_id(tune.meter), 0 if tune.mode == "major" else 1
    for i, n in enumerate(notes):
        pos = n.onset % tune.bar_ticks
        end = next(e for e in ends if e >= i) if ends and ends[-1] >= i else len(notes) - 1
        row = {"prev": prev, "dur": min(n.dur, MAX_TICKS), "pos": min(pos, MAX_TICKS), "meter": mid, "mode": mode,
               "chord": chord_id(n.chord), "accent": metric_accent(pos, tune.meter),
               "gap": gap_class(n.onset - prev_end if prev_end is not None else 0),
               "left": min(end - i, PHRASE_CAP), "index": min(k, PHRASE_CAP), "target": pitch_index(n.pitch)}
        for name, v in row.items():
            out[name].append(v)
        prev, prev_end = row["target"], n.onset + n.dur
        k = 0 if n.phrase_end else k + 1
    return out


@dataclass(frozen=True)
class MelodyModelConfig:
    """Sizes of :class:`MelodyTransformer`; ``max_len`` is the context in notes."""

    n_layers: int = 4
    d_model: int = 96
    n_heads: int = 4
    d_ff: int = 384
    max_len: int = 64
    dropout: float = 0.1
    chord_dropout: float = 0.2  # share of training windows seen without chords
    seed: int = 0
    data_format: str = FORMAT

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        if self.data_format != FORMAT:
            raise ValueError(f"data_format {self.data_format!r} is not valid (valid: {FORMAT})")

    @classmethod
    def tiny(cls, seed: int = 0) -> "MelodyModelConfig":
        """2 layers, width 16: for tests."""
        return cls(n_layers=2, d_model=16, n_heads=2, d_ff=32, max_len=64, seed=seed)

    def to_dict(self) -> dict:
        return {"format": MODEL_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict) -> "MelodyModelConfig":
        """The config in ``data``; ValueError for an unknown key or another format."""
        data = dict(data)
        fmt = data.pop("format", MODEL_FORMAT)
        if fmt != MODEL_FORMAT:
            raise ValueError(f"format {fmt!r} is not valid (valid: {MODEL_FORMAT})")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(f"unknown config key(s) {', '.join(unknown)} (valid: {', '.join(names)})")
        return cls(**data)


class _Block(nn.Module):
    def __init__(self, c: MelodyModelConfig):
        super().__init__()
        self.n_heads, self.dropout = c.n_heads, c.dropout
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.qkv, self.proj = nn.Linear(c.d_model, 3 * c.d_model), nn.Linear(c.d_model, c.d_model)
        self.ff = nn.Sequential(nn.Linear(c.d_model, c.d_ff), nn.GELU(), nn.Linear(c.d_ff, c.d_model))
        self.drop = nn.Dropout(c.dropout)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        x = x + self.drop(self.proj(a.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.ff(self.ln2(x)))


class MelodyTransformer(nn.Module):
    """Decoder-only transformer: note features ``(batch, notes)`` → pitch logits ``(batch, notes, N_PITCH)``."""

    def __init__(self, config: MelodyModelConfig):
        super().__init__()
        self.config = config
        with torch.random.fork_rng(devices=[]):  # seeded weights, the global generator left as it was
            torch.manual_seed(config.seed)
            self.embed = nn.ModuleDict({k: nn.Embedding(n, config.d_model) for k, n in FEATURE_SIZES.items()})
            self.position = nn.Embedding(config.max_len, config.d_model)
            self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layers))
            self.norm = nn.LayerNorm(config.d_model)
            self.head = nn.Linear(config.d_model, N_PITCH)
            for p in self.parameters():
                if p.dim() > 1:
                    nn.init.normal_(p, std=0.02)

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Logits for each step; ``features`` maps every name of ``FEATURE_SIZES`` to ``(batch, notes)`` ids."""
        t = features["prev"].shape[1]
        if t > self.config.max_len:
            raise ValueError(f"{t} notes exceed the context of {self.config.max_len}")
        x = self.position(torch.arange(t, device=features["prev"].device))[None]
        for k, emb in self.embed.items():
            x = x + emb(features[k])
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``folder``."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG).write_text(json.dumps(self.config.to_dict(), indent=1) + "\n", encoding="utf-8")
        save_file({k: v.detach().contiguous() for k, v in self.state_dict().items()}, str(folder / WEIGHTS))
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "MelodyTransformer":
        """The model saved in ``folder``, in eval mode.

        Raises
        ------
        BackendUnavailable
            When ``config.json`` or ``model.safetensors`` is missing, unreadable, has unknown keys
            or does not match the config.
        """
        from safetensors.torch import load_file

        folder = Path(folder)
        expects = f"put {CONFIG} and {WEIGHTS} written by MelodyTransformer.save_pretrained there"
        for name in (CONFIG, WEIGHTS):
            if not (folder / name).is_file():
                raise BackendUnavailable(f"melody model: {folder / name} is missing; {expects}")
        try:
            config = MelodyModelConfig.from_dict(json.loads((folder / CONFIG).read_text(encoding="utf-8")))
            model = cls(config)
            model.load_state_dict(load_file(str(folder / WEIGHTS)), strict=True)
        except Exception as e:  # json, safetensors and torch raise many types for a broken file
            msg = " ".join(str(e).split())[:300]
            raise BackendUnavailable(f"melody model: {folder}: cannot load ({msg}); {expects}") from None
        return model.eval()


def batch_features(rows: list[dict[str, list[int]]], *, chords: bool = True) -> tuple[dict, torch.Tensor]:
    """Pad feature rows (from :func:`generators.melody_data.note_features`) into tensors.

    Returns the features ``(batch, notes)`` and the targets, ``-100`` where padded.
    """
    t = max(len(r["prev"]) for r in rows)
    out = {}
    for k in (*FEATURE_SIZES, "target"):
        pad = -100 if k == "target" else 0
        out[k] = torch.tensor([r[k] + [pad] * (t - len(r[k])) for r in rows], dtype=torch.long)
    if not chords:
        out["chord"] = torch.zeros_like(out["chord"])
    return out, out.pop("target")


@torch.no_grad()
def nll_per_note(model: MelodyTransformer, rows: list[dict[str, list[int]]], *, chords: bool = True,
                 batch_size: int = 32) -> float:
    """Mean negative log-likelihood (nats) per note of ``rows``; tunes longer than the context are
    read in windows that each predict their second half with the first half as context."""
    model.eval()
    L = model.config.max_len
    pieces = []  # (features of a window, leading steps that are context only)
    for r in rows:
        n, s = len(r["prev"]), 0
        pieces.append(({k: v[:L] for k, v in r.items()}, 0))
        while s + L < n:
            s += L // 2
            pieces.append(({k: v[s:s + L] for k, v in r.items()}, L // 2))
    total, count = 0.0, 0
    for i in range(0, len(pieces), batch_size):
        chunk = pieces[i:i + batch_size]
        feats, target = batch_features([p for p, _ in chunk], chords=chords)
        logp = F.log_softmax(model(feats).float(), dim=-1)
        for j, (p, skip) in enumerate(chunk):
            n = len(p["prev"])
            total -= float(logp[j, skip:n].gather(-1, target[j, skip:n, None]).sum())
            count += n - skip
    return total / max(1, count)
