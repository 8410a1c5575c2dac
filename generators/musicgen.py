"""The ``"musicgen"`` renderer: accompaniment audio generated as codec tokens by MusicGen.

A local transformers MusicGen checkpoint (``MusicgenForConditionalGeneration``, or
``MusicgenMelodyForConditionalGeneration``, which is also conditioned on a chromagram) writes
EnCodec tokens from a text prompt made of the style tags and tempo; the melody checkpoints get
the lead sheet's melody as a one-hot chromagram (the chord root where no note sounds). The
tokens are kept as :class:`~representations.tokens.AudioTokens` and decoded with the
checkpoint's own EnCodec. Songs longer than ``window_s`` are generated window by window, each
continuing from the last ``context_s`` seconds of tokens of the previous one.

The result is one stereo stem, ``"accompaniment"``, at 44.1 kHz and the arrangement's length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.models import (check_weights, import_offline, load_failure, package_missing, require_checkpoint,
                             require_files, torch_device)
from renderers.base import RENDERERS, Renderer
from renderers.repaint import fit, resample
from representations.arrangement import Arrangement
from representations.audio import Audio, StemSet
from representations.errors import BackendUnavailable
from representations.tokens import AudioTokens

EXPECTS = ("a transformers MusicGen folder (config.json of model_type musicgen or musicgen_melody, *.safetensors, "
           "the T5 tokenizer files tokenizer.json or spiece.model; MusicgenRenderer.make_tiny(folder) writes "
           "a tiny one)")
STEM = "accompaniment"
MELODY_WINDOW_S = 30.0  # the span MusicGen-melody's chroma_length covers


def chromagram(arrangement: Arrangement, *, frame_rate_hz: float, lead_sheet=None) -> np.ndarray:
    """One-hot chroma ``(n_frames, 12)`` of the melody: the lead sheet's (else the highest pitched
    non-drum note sounding), the lowest note or chord root where no melody note sounds."""
    n = max(1, int(np.ceil(arrangement.duration_s * frame_rate_hz)))
    times_beats = np.minimum((np.arange(n) + 0.5) / frame_rate_hz * arrangement.tempo_bpm / 60.0,
                             float(arrangement.total_beats) - 1e-6)  # a last partial frame: the song's end
    top = np.full(n, -1)
    low = np.full(n, 128)
    if lead_sheet is not None:
        melody = [(float(x.start_beats), float(x.end_beats), x.pitch) for x in lead_sheet.melody]
        bass = [(float(c.start_beats), float(c.end_beats), c.parsed.root_pc) for c in lead_sheet.chords]
    else:
        notes = [(float(x.start_beats), float(x.end_beats), x.pitch) for t in arrangement.tracks if not t.is_drum
                 for x in t.notes]
        melody, bass = notes, notes
    for a, b, p in melody:
        sel = (times_beats >= a) & (times_beats < b)
        top[sel] = np.maximum(top[sel], p)
    for a, b, p in bass:
        sel = (times_beats >= a) & (times_beats < b)
        low[sel] = np.minimum(low[sel], p)
    pc = np.where(top >= 0, top % 12, np.where(low < 128, low % 12, 0))
    out = np.zeros((n, 12), np.float32)
    out[np.arange(n), pc] = 1.0
    return out


def style_text(arrangement: Arrangement, lead_sheet=None) -> str:
    """The text prompt: style tags (or the instruments) and the tempo."""
    if lead_sheet is not None and lead_sheet.style_tags:
        words = list(lead_sheet.style_tags)
    else:
        words = [t.name.replace("_", " ") for t in arrangement.tracks]
    if not any("bpm" in w.lower() for w in words):
        words.append(f"{arrangement.tempo_bpm:g} bpm")
    return ", ".join(words)


@RENDERERS.register("musicgen")
class MusicgenRenderer(Renderer):
    """Accompaniment from a local MusicGen checkpoint (see the module docstring).

    Parameters
    ----------
    checkpoint : str or Path, optional
        The checkpoint folder; default: the ``"musicgen"`` entry found by :mod:`pipeline.models`.
    seed : int
        Sampling seed: same arrangement and seed, same audio.
    guidance_scale : float
        Classifier-free guidance (1 switches it off).
    window_s, context_s : float
        Seconds generated per call, and seconds of the previous window continued from.
    tail_s : float
        Seconds added after the arrangement's end.
    """

    name = "musicgen"

    def __init__(self, *, checkpoint: str | Path | None = None, models: dict | None = None, base_dir=None,
                 device: str | None = None, seed: int = 0, guidance_scale: float = 3.0, temperature: float = 1.0,
                 window_s: float = 30.0, context_s: float = 10.0, sample_rate: int = 44100, tail_s: float = 2.0):
        if not 0 <= context_s < window_s:
            raise ValueError(f"context_s {context_s} must be >= 0 and below window_s {window_s}")
        self.checkpoint, self.models, self.base_dir, self.device = checkpoint, models, base_dir, device
        self.seed, self.guidance_scale, self.temperature = seed, guidance_scale, temperature
        self.window_s, self.context_s, self.sample_rate, self.tail_s = window_s, context_s, sample_rate, tail_s
        self._loaded = None

    def folder(self) -> Path:
        folder = require_checkpoint("musicgen", backend="musicgen renderer", expects=EXPECTS, models=self.models,
                                    base_dir=self.base_dir, checkpoint=self.checkpoint)
        require_files(folder, ["config.json", ("tokenizer.json", "spiece.model")], backend="musicgen renderer",
                      expects=EXPECTS)
        check_weights(folder, backend="musicgen renderer", expects=EXPECTS)
        return folder

    def check(self) -> str:
        if (missing := package_missing("torch", "transformers")):
            raise BackendUnavailable(f"musicgen renderer: needs the Python package {missing!r}")
        return f"checkpoint {self.folder()}"

    def _model(self):
        if self._loaded is None:
            folder = self.folder()
            tf = import_offline("transformers", backend="musicgen renderer")
            try:
                config = tf.AutoConfig.from_pretrained(str(folder), local_files_only=True)
                classes = {"musicgen": tf.MusicgenForConditionalGeneration,
                           "musicgen_melody": tf.MusicgenMelodyForConditionalGeneration}
                if config.model_type not in classes:
                    raise ValueError(f"model_type {config.model_type!r} (valid: {', '.join(classes)})")
                model = classes[config.model_type].from_pretrained(str(folder), local_files_only=True)
                tokenizer = tf.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            except Exception as e:  # transformers raises many types for a bad checkpoint
                raise load_failure(e, backend="musicgen renderer", folder=folder, expects=EXPECTS) from None
            device = torch_device(self.device)
            self._loaded = (model.to(device).eval(), tokenizer, device, config.model_type == "musicgen_melody")
        return self._loaded

    # ---- tokens ---------------------------------------------------------------------------------
    def generate_tokens(self, arrangement: Arrangement, *, lead_sheet=None, prompt: str | None = None) -> AudioTokens:
        """Codec tokens for the arrangement's duration (plus the tail)."""
        import torch

        model, tokenizer, device, melody = self._model()
        enc = model.config.audio_encoder
        fps, sr = float(enc.frame_rate), int(enc.sampling_rate)
        k = model.decoder.config.num_codebooks
        delay = k // model.decoder.config.audio_channels - 1  # steps the codebook delay pattern costs
        prompt = prompt or style_text(arrangement, lead_sheet)
        total = int(np.ceil((arrangement.duration_s + self.tail_s) * fps))
        window, context = max(1, int(self.window_s * fps)), int(self.context_s * fps)
        inputs = tokenizer([prompt], return_tensors="pt", padding=True).to(device)
        chroma = chromagram(arrangement, frame_rate_hz=model.config.chroma_length / MELODY_WINDOW_S,
                            lead_sheet=lead_sheet) if melody else None
        codes = np.zeros((k, 0), np.int64)
        cuda = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda), torch.no_grad():
            torch.manual_seed(self.seed)
            while codes.shape[1] < total:
                ctx = min(context, codes.shape[1])
                new = min(window - ctx, total - codes.shape[1])
                kwargs = dict(inputs)
                if ctx:  # continue from the previous window's last frames
                    kwargs["decoder_input_ids"] = torch.from_numpy(codes[:, -ctx:]).to(device)
                if chroma is not None:
                    start_s = (codes.shape[1] - ctx) / fps
                    c0 = int(start_s * model.config.chroma_length / MELODY_WINDOW_S)
                    part = chroma[c0:c0 + model.config.chroma_length]
                    kwargs["input_features"] = torch.from_numpy(part[None]).to(device)
                out = self._generate(model, kwargs, new + delay)
                if out.shape[1] != ctx + new:
                    raise BackendUnavailable(f"musicgen renderer: the checkpoint returned {out.shape[1] - ctx} frames "
                                             f"for {new} asked (is it a MusicGen decoder with {k} codebooks?)")
                codes = np.concatenate([codes, out[:, ctx:]], axis=1)
        return AudioTokens(codes[:, :total], f"encodec_{sr // 1000}khz", fps, sr, int(enc.codebook_size),
                           int(model.decoder.config.audio_channels), prompt)

    def _generate(self, model, kwargs: dict, max_new_tokens: int) -> np.ndarray:
        captured = []
        decode = model.audio_encoder.decode

        def capture(codes, *args, **kw):  # the codes generate() hands to its codec (per channel)
            captured.append(codes[0, 0].cpu().numpy().astype(np.int64))
            return decode(codes, *args, **kw)

        model.audio_encoder.decode = capture
        try:
            model.generate(**kwargs, do_sample=True, temperature=self.temperature, top_k=0, top_p=1.0,
                           guidance_scale=self.guidance_scale if self.guidance_scale > 1 else None,
                           max_new_tokens=max_new_tokens)
        finally:
            del model.audio_encoder.decode
        if len(captured) == 1:
            return captured[0]
        left, right = captured  # stereo checkpoints: codebooks interleaved left, right
        out = np.empty((left.shape[0] * 2, left.shape[1]), np.int64)
        out[0::2], out[1::2] = left, right
        return out

    def _decode_codes(self, model, codes: np.ndarray) -> np.ndarray:
        """Audio ``(samples, channels)`` of codes ``(n_codebooks, frames)`` (stereo: interleaved)."""
        import torch

        parts = [codes] if model.decoder.config.audio_channels == 1 else [codes[0::2], codes[1::2]]
        out = []
        with torch.no_grad():
            for part in parts:
                codes_t = torch.from_numpy(np.ascontiguousarray(part))[None, None].to(model.device)
                out.append(model.audio_encoder.decode(codes_t, [None]).audio_values[0, 0].cpu().numpy())
        return np.stack(out, axis=1).astype(np.float32)

    def decode(self, tokens: AudioTokens) -> Audio:
        """The audio of ``tokens`` at the codec's sample rate."""
        model = self._model()[0]
        if tokens.codebook_size != model.config.audio_encoder.codebook_size:
            raise ValueError(f"tokens of codec {tokens.codec} ({tokens.codebook_size} codes) do not fit this "
                             f"checkpoint's EnCodec ({model.config.audio_encoder.codebook_size} codes)")
        return Audio(self._decode_codes(model, tokens.codes), tokens.sample_rate)

    # ---- the role -------------------------------------------------------------------------------
    def render(self, arrangement: Arrangement, *, lead_sheet=None, prompt: str | None = None) -> StemSet:
        """One stereo stem ``"accompaniment"`` at ``sample_rate``, the arrangement's length plus ``tail_s``."""
        audio = self.decode(self.generate_tokens(arrangement, lead_sheet=lead_sheet, prompt=prompt))
        x = resample(audio.samples, audio.sample_rate, self.sample_rate)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        if peak > 0.99:
            x = x * (0.99 / peak)
        n = round(arrangement.duration_s * self.sample_rate) + round(self.tail_s * self.sample_rate)
        return StemSet({STEM: Audio(fit(x, n), self.sample_rate)})

    @staticmethod
    def make_tiny(folder: str | Path, *, seed: int = 0, melody: bool = False, stereo: bool = False) -> Path:
        """Write a tiny random MusicGen (2 layers, width 16, 2 codebooks of 64 per channel, 8 kHz
        EnCodec at 125 frames/s) with a word-level tokenizer into ``folder``."""
        import torch

        tf = import_offline("transformers", backend="musicgen renderer")
        from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

        words = ["<pad>", "</s>", "<unk>"] + sorted(set(
            "pop rock jazz folk ballad dance electronic piano guitar acoustic electric drums bass strings violin "
            "synth pad sad happy upbeat slow fast warm bpm and with".split()))
        tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
        tk.normalizer, tk.pre_tokenizer = normalizers.Lowercase(), pre_tokenizers.Whitespace()
        tokenizer = tf.PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="<pad>", eos_token="</s>",
                                               unk_token="<unk>")
        text = tf.T5Config(vocab_size=len(words), d_model=16, d_ff=32, num_layers=2, num_heads=2, d_kv=8,
                           decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
        codec = tf.EncodecConfig(sampling_rate=8000, hidden_size=16, num_filters=4, num_residual_layers=1,
                                 upsampling_ratios=[8, 8], codebook_size=64, codebook_dim=16, num_lstm_layers=1,
                                 target_bandwidths=[1.5])
        ids = dict(vocab_size=64, hidden_size=16, ffn_dim=32, num_hidden_layers=2, num_attention_heads=2,
                   num_codebooks=4 if stereo else 2, audio_channels=2 if stereo else 1, pad_token_id=64,
                   bos_token_id=64, max_position_embeddings=8192)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if melody:
                config = tf.MusicgenMelodyConfig(text_encoder=text, audio_encoder=codec,
                                                 decoder=tf.MusicgenMelodyDecoderConfig(**ids), num_chroma=12,
                                                 chroma_length=64)
                model = tf.MusicgenMelodyForConditionalGeneration(config)
            else:
                config = tf.MusicgenConfig(text_encoder=text, audio_encoder=codec,
                                           decoder=tf.MusicgenDecoderConfig(**ids))
                model = tf.MusicgenForConditionalGeneration(config)
            for layer in model.audio_encoder.quantizer.layers:  # trained codebooks are never zero
                layer.codebook.embed.normal_()
                layer.codebook.embed_avg.copy_(layer.codebook.embed)
        for key in ("pad_token_id", "bos_token_id", "decoder_start_token_id"):
            setattr(model.generation_config, key, 64)
        folder = Path(folder)
        model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        return folder
