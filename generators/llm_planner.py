"""Language-model planners: lead sheets written as tokens by a causal LM, under a grammar.

The song's frame is fixed first, as the rule planner fixes it: meter, tempo and key from the
tags and the voice, sections from the lyric tags, each lyric line's syllables and bars
(:mod:`generators.form`). The model then writes chords, rhythm, pitches and melismas as
lead-sheet tokens (:mod:`generators.leadsheet_tokens`), and :mod:`generators.constrained` lets
it pick only tokens that keep the song valid, so even a random model yields a lead sheet that
fits the lyrics.

Backends: ``"llm"`` runs a local transformers checkpoint; ``"vllm"`` asks a running
``vllm serve`` (:mod:`generators.vllm_client`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.models import (check_weights, import_offline, load_failure, package_missing, require_checkpoint,
                             require_files, spec_base_dir, torch_device)
from representations.errors import BackendUnavailable
from representations.leadsheet import LeadSheet, LyricLine

from .base import PLANNERS, Planner
from .constrained import BarSpec, LeadSheetGrammar, Skeleton, logits_processor
from .leadsheet_tokens import VOCAB, decode, prompt_tokens
from .rhythm import stable_rng
from .rule_planner import LEAD_RANGE, choose_key, infer_mode, song_form
from .style import tag_list

VOCAB_FILE = "songwright_vocab.json"
VOCAB_FORMAT = "songwright.leadsheet_vocab/1"
LLM_EXPECTS = (f"a transformers causal-LM folder (config.json, *.safetensors, {VOCAB_FILE} mapping every "
               f"lead-sheet token to a model id; LLMPlanner.make_tiny(folder) writes a tiny one)")


@dataclass(frozen=True)
class SongFrame:
    """The planned frame of a song: the grammar's skeleton plus what the lead sheet needs besides."""

    skeleton: Skeleton
    lines: tuple[LyricLine, ...]
    labels: tuple[str, ...]
    title: str
    style_tags: tuple[str, ...]
    language: str

    def prompt(self) -> list[str]:
        sk = self.skeleton
        return prompt_tokens(sk.key, sk.meter, sk.tempo_bpm, sk.genre)

    def lead_sheet(self, tokens: list[str]) -> LeadSheet:
        return decode(tokens, lines=self.lines, title=self.title, tempo_bpm=self.skeleton.tempo_bpm,
                      labels=self.labels, style_tags=self.style_tags, language=self.language)


def song_frame(spec, *, seed: int) -> SongFrame:
    """Meter, tempo, key, sections, lines and bars of ``spec``, chosen as the rule planner does."""
    style, meter, tempo, sections, voice = song_form(spec, seed=seed)
    key = choose_key(spec.key_obj(), infer_mode(spec, style), voice, rng=stable_rng(seed, "plan")).key
    bars, lines, counts = [], [], []
    for si, sec in enumerate(sections):
        first = True
        if sec.sung and sec.phrases:
            for ph in sec.phrases:
                li = len(lines)
                lines.append(LyricLine(si, ph.text, ph.syllables))
                counts.append(len(ph.syllables))
                for k in range(ph.n_bars):
                    bars.append(BarSpec(si, sec.kind, first, "sung", li, k == 0, ph.n_bars - 1 - k))
                    first = False
        else:
            kind = "free" if sec.phrases else "rest"
            for _ in range(sec.n_bars):
                bars.append(BarSpec(si, sec.kind, first, kind))
                first = False
    sk = Skeleton(key, meter, tempo, tuple(bars), tuple(counts), (voice.low, voice.high),
                  (LEAD_RANGE.low, LEAD_RANGE.high), style.genre)
    return SongFrame(sk, tuple(lines), tuple(s.label for s in sections), spec.title, tuple(tag_list(spec.tags)),
                     spec.resolved_language())


def read_vocab_map(folder: Path, *, backend: str) -> list[int]:
    """``id_map[g]``: the model id of lead-sheet token ``g``, from the checkpoint's vocabulary file."""
    path = folder / VOCAB_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != VOCAB_FORMAT:
            raise ValueError(f"format {data.get('format')!r} (valid: {VOCAB_FORMAT})")
        ids = data["ids"]
        missing = [t for t in VOCAB.tokens if t not in ids]
        if missing:
            raise ValueError(f"{len(missing)} lead-sheet tokens have no id, e.g. {missing[0]}")
        return [int(ids[t]) for t in VOCAB.tokens]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise BackendUnavailable(f"{backend}: {path} is not a usable vocabulary file ({' '.join(str(e).split())}); "
                                 f"put {LLM_EXPECTS} there") from None


@PLANNERS.register("llm")
class LLMPlanner(Planner):
    """Plans lead sheets with a local transformers causal LM under the lead-sheet grammar.

    Parameters
    ----------
    checkpoint : str or Path, optional
        The checkpoint folder; default: the ``"llm"`` entry found by :mod:`pipeline.models`.
    models : dict, optional
        A spec's ``models:`` section (a spec passed to :meth:`plan` may also carry one).
    device : str, optional
        Torch device (default: CUDA when available).
    temperature : float
        Sampling temperature (> 0).
    max_melisma : int
        Most extra notes one syllable may carry.
    """

    name = "llm"

    def __init__(self, *, checkpoint: str | Path | None = None, models: dict | None = None, base_dir=None,
                 device: str | None = None, temperature: float = 1.0, max_melisma: int = 2):
        if not temperature > 0:
            raise ValueError(f"temperature {temperature} is not valid (valid: > 0)")
        self.checkpoint, self.models, self.base_dir = checkpoint, models, base_dir
        self.device, self.temperature, self.max_melisma = device, temperature, max_melisma
        self._loaded: dict[Path, tuple] = {}

    def folder(self, spec=None) -> Path:
        """The checkpoint folder to use (for ``spec``), checked for its files."""
        models = dict(self.models or {}) | dict(getattr(spec, "models", None) or {})
        from_spec = spec is not None and "llm" in (getattr(spec, "models", None) or {})
        base = spec_base_dir(spec) if from_spec else self.base_dir
        folder = require_checkpoint("llm", backend="llm planner", expects=LLM_EXPECTS, models=models,
                                    base_dir=base, checkpoint=self.checkpoint)
        require_files(folder, ["config.json", VOCAB_FILE], backend="llm planner", expects=LLM_EXPECTS)
        check_weights(folder, backend="llm planner", expects=LLM_EXPECTS)
        return folder

    def check(self) -> str:
        """Where the checkpoint is; BackendUnavailable when it is missing or broken."""
        if (missing := package_missing("torch", "transformers")):
            raise BackendUnavailable(f"llm planner: needs the Python package {missing!r}")
        folder = self.folder()
        read_vocab_map(folder, backend="llm planner")
        return f"checkpoint {folder}"

    def _model(self, folder: Path):
        if folder not in self._loaded:
            id_map = read_vocab_map(folder, backend="llm planner")
            transformers = import_offline("transformers", backend="llm planner")
            try:
                model = transformers.AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True)
            except Exception as e:  # transformers raises many types for a bad checkpoint
                raise load_failure(e, backend="llm planner", folder=folder, expects=LLM_EXPECTS) from None
            n = model.get_output_embeddings().weight.shape[0]
            if max(id_map) >= n:
                raise BackendUnavailable(f"llm planner: {folder}: the model has {n} output ids but {VOCAB_FILE} uses "
                                         f"id {max(id_map)}; put {LLM_EXPECTS} there")
            device = torch_device(self.device)
            self._loaded[folder] = (model.to(device).eval(), id_map, device)
        return self._loaded[folder]

    def generate_tokens(self, frame: SongFrame, *, seed: int, folder: Path) -> list[str]:
        """The model's tokens for ``frame`` (prompt included, ending in ``EOS``)."""
        model, id_map, device = self._model(folder)  # imports transformers offline
        import torch
        from transformers import LogitsProcessorList

        to_grammar = {m: g for g, m in enumerate(id_map)}
        prompt = VOCAB.ids(frame.prompt())
        grammar = LeadSheetGrammar(frame.skeleton, max_melisma=self.max_melisma)
        proc = logits_processor(grammar, prompt_length=len(prompt), id_map=id_map)
        input_ids = torch.tensor([[id_map[t] for t in prompt]], device=device)
        eos, pad = id_map[VOCAB["EOS"]], id_map[VOCAB["PAD"]]
        cuda = [torch.device(device).index or 0] if str(device).startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda), torch.no_grad():
            torch.manual_seed(seed)
            out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids),
                                 logits_processor=LogitsProcessorList([proc]), do_sample=True,
                                 temperature=self.temperature, top_k=0, top_p=1.0,
                                 max_new_tokens=grammar.max_length(), eos_token_id=eos, pad_token_id=pad)
        raw = out[0, len(prompt):].tolist()
        raw = raw[: raw.index(eos) + 1] if eos in raw else raw  # padding may follow
        body = [to_grammar[t] for t in raw]
        state = grammar.run(body)
        if state.phase != "done":
            raise BackendUnavailable(f"llm planner: the model stopped after {len(body)} tokens, before the song ended "
                                     f"(bar {state.bar + 1} of {len(frame.skeleton.bars)})")
        return VOCAB.texts(prompt + body)

    def plan(self, spec, *, seed: int) -> LeadSheet:
        """The lead sheet of ``spec`` written by the model; same spec, seed and checkpoint, same result."""
        frame = song_frame(spec, seed=seed)
        return frame.lead_sheet(self.generate_tokens(frame, seed=seed, folder=self.folder(spec)))

    @staticmethod
    def make_tiny(folder: str | Path, *, seed: int = 0, arch: str = "llama") -> Path:
        """Write a tiny random-weight checkpoint (2 layers, width 16) into ``folder``.

        ``arch`` is ``"llama"`` (LlamaForCausalLM) or ``"gpt2"`` (GPT2LMHeadModel).
        """
        import torch

        transformers = import_offline("transformers", backend="llm planner")
        n = len(VOCAB)
        ids = {"bos_token_id": VOCAB["BOS"], "eos_token_id": VOCAB["EOS"], "pad_token_id": VOCAB["PAD"]}
        if arch == "llama":
            config = transformers.LlamaConfig(vocab_size=n, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                              num_attention_heads=2, num_key_value_heads=2,
                                              max_position_embeddings=8192, **ids)
            cls = transformers.LlamaForCausalLM
        elif arch == "gpt2":
            config = transformers.GPT2Config(vocab_size=n, n_embd=16, n_layer=2, n_head=2, n_positions=8192, **ids)
            cls = transformers.GPT2LMHeadModel
        else:
            raise ValueError(f"arch {arch!r} is not valid (valid: llama, gpt2)")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = cls(config)
        folder = Path(folder)
        model.save_pretrained(str(folder))
        (folder / VOCAB_FILE).write_text(json.dumps({"format": VOCAB_FORMAT,
                                                     "ids": {t: i for i, t in enumerate(VOCAB.tokens)}}))
        return folder


from . import vllm_client  # noqa: E402,F401  registers "vllm"

__all__ = ["LLMPlanner", "SongFrame", "song_frame", "read_vocab_map"]
