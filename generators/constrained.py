"""Grammar-constrained decoding of lead-sheet tokens.

:class:`LeadSheetGrammar` is a state machine over :mod:`generators.leadsheet_tokens` that, at every
step, knows the tokens allowed next for one song :class:`Skeleton` (its sections, bars and lyric
lines), so that any choice among them ends in a valid lead sheet that fits the lyrics:

- sections, bars and lines come in the order the lyrics require (those tokens are forced);
- each bar holds one diatonic chord (in minor also the major V and V7); the last is the tonic;
- notes never overlap; a note may last into the next bar of its own line or phrase (a tie),
  which then starts after it, so every bar's notes and rests fill it exactly;
- every lyric line gets exactly one ``SYL`` note per syllable, within its own bars; a syllable
  may add up to ``max_melisma`` melisma notes; the grammar never lets a line run out of room;
- every pitch is in the key or in the bar's chord, within the voice's range, and at most
  ``max_leap`` semitones from the previous note of the line.

:func:`logits_processor` wraps it as a transformers ``LogitsProcessor`` (everything not allowed
gets ``-inf``); :mod:`generators.vllm_client` turns it into regular expressions for servers
with guided decoding.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Sequence

from representations.music import NOTE_NAMES, ChordSymbol, Key, Meter

from .leadsheet_tokens import PITCHES, QUALITIES, VOCAB, Vocab, chord_symbol, slots_per_bar


@dataclass(frozen=True)
class BarSpec:
    """One bar of the skeleton: its section, whether it opens it, and what it holds:
    ``"sung"`` (part of lyric ``line``), ``"free"`` (instrumental melody) or ``"rest"`` (chord only)."""

    section: int
    section_kind: str
    starts_section: bool
    kind: str
    line: int | None = None
    line_start: bool = False
    bars_after_in_line: int = 0  # bars of the same line after this one


@dataclass(frozen=True)
class Skeleton:
    """What a planner fixed before the model speaks: key, meter, tempo, the bars and the
    syllables per lyric line; pitch ranges (MIDI, inclusive) for sung and instrumental notes."""

    key: Key
    meter: Meter
    tempo_bpm: float
    bars: tuple[BarSpec, ...]
    line_syllables: tuple[int, ...]
    sung_range: tuple[int, int] = (55, 76)
    free_range: tuple[int, int] = (60, 81)
    genre: str = "pop"


@dataclass(frozen=True)
class State:
    bar: int = 0
    phase: str = "boundary"  # boundary, chord, event, syl, pitch, dur, done
    forced: tuple[int, ...] = ()
    pos: int = 0
    syl_left: int = 0
    sung_in_line: bool = False
    melisma_run: int = 0
    free_notes: int = 0
    prev_pitch: int | None = None
    chord: int = -1  # token id of the bar's chord
    note_pos: int = 0
    note_sung: bool = False


class LeadSheetGrammar:
    """Allowed next tokens for one :class:`Skeleton` (ids of ``vocab``)."""

    def __init__(self, skeleton: Skeleton, *, vocab: Vocab = VOCAB, max_melisma: int = 2, max_leap: int = 12,
                 max_free_notes: int = 8):
        if not skeleton.bars:
            raise ValueError("a song skeleton needs at least one bar")
        self.sk, self.v = skeleton, vocab
        self.max_melisma, self.max_leap, self.max_free_notes = max_melisma, max_leap, max_free_notes
        self.S = slots_per_bar(skeleton.meter)
        self.pos_ids = [vocab[f"POS_{p}"] for p in range(self.S)]
        self.dur_ids = {d: vocab[f"DUR_{d}"] for d in range(1, self.S + 1)}
        self.ids = {t: vocab[t] for t in ("EOS", "LINE", "BAR", "SYL")}
        self.pitch_of = {vocab[f"PITCH_{m}"]: m for m in PITCHES}
        self.pitch_id = {m: i for i, m in self.pitch_of.items()}
        key = skeleton.key
        scale = set(key.scale_pcs())
        self.chord_pcs: dict[int, frozenset[int]] = {}
        tonic = []
        for root_pc in range(12):
            for q in QUALITIES:
                tok = vocab[f"CHORD_{NOTE_NAMES[root_pc]}_{q}"]
                pcs = frozenset(ChordSymbol.parse(chord_symbol(vocab.tokens[tok])).pitch_classes())
                dominant = key.mode == "minor" and root_pc == (key.tonic_pc + 7) % 12 and q in ("maj", "7")
                if pcs <= scale or dominant:
                    self.chord_pcs[tok] = pcs
                    if root_pc == key.tonic_pc and q == ("maj" if key.mode == "major" else "min"):
                        tonic.append(tok)
        self.chord_ids = sorted(self.chord_pcs)
        self.tonic_ids = tonic
        self.scale = frozenset(scale)

    # ---- structure ----------------------------------------------------------------------------
    def _prefix(self, bar: int) -> tuple[int, ...]:
        if bar >= len(self.sk.bars):
            return (self.ids["EOS"],)
        b = self.sk.bars[bar]
        pre = (self.v[f"SECTION_{b.section_kind}"],) if b.starts_section else ()
        return pre + (self.ids["BAR"],)

    def start(self) -> State:
        return State(bar=0, forced=self._prefix(0))

    def max_length(self) -> int:
        """An upper bound on the number of tokens of any song this grammar allows."""
        n = 1
        for b in self.sk.bars:
            n += 3 + (1 if b.line_start else 0)
            n += 4 * self.S if b.kind == "sung" else 3 * min(self.S, self.max_free_notes) if b.kind == "free" else 0
        return n

    def _slots_after(self, st: State, x: int) -> int:
        return (self.S - x) + self.S * self.sk.bars[st.bar].bars_after_in_line

    def _can_tie(self, st: State) -> bool:
        """May a note of this bar last into the next one (same lyric line, or same instrumental phrase)?"""
        b = self.sk.bars[st.bar]
        if b.kind == "sung":
            return b.bars_after_in_line > 0
        nxt = self.sk.bars[st.bar + 1] if st.bar + 1 < len(self.sk.bars) else None
        return b.kind == "free" and nxt is not None and nxt.kind == "free" and not nxt.starts_section

    def _pitches(self, st: State) -> list[int]:
        b = self.sk.bars[st.bar]
        lo, hi = self.sk.sung_range if b.kind == "sung" else self.sk.free_range
        if st.prev_pitch is not None:
            lo, hi = max(lo, st.prev_pitch - self.max_leap), min(hi, st.prev_pitch + self.max_leap)
        ok = self.scale | self.chord_pcs[st.chord]
        return [self.pitch_id[m] for m in range(max(lo, PITCHES[0]), min(hi, PITCHES[-1]) + 1) if m % 12 in ok]

    # ---- the machine --------------------------------------------------------------------------
    def allowed(self, st: State) -> list[int]:
        """Token ids allowed after state ``st`` (never empty; ``[EOS]`` once the song is done)."""
        ph = st.phase
        if ph == "done":
            return [self.ids["EOS"]]
        if ph == "boundary":
            return [st.forced[0]]
        if ph == "chord":
            return self.tonic_ids if st.bar == len(self.sk.bars) - 1 else self.chord_ids
        if ph == "pitch":
            return self._pitches(st)
        b = self.sk.bars[st.bar]
        r = st.syl_left
        if ph == "syl":
            return [self.pos_ids[q] for q in range(st.pos, self.S) if r <= self._slots_after(st, q + 1)]
        if ph == "dur":
            q = st.note_pos
            top = min(len(self.dur_ids), self.S - q + (self.S if self._can_tie(st) else 0))
            return [self.dur_ids[d] for d in range(1, top + 1) if r <= self._slots_after(st, q + d)]
        out = []  # phase "event"
        if b.kind == "sung":
            if r >= 1 and st.pos < self.S and r - 1 <= self._slots_after(st, st.pos + 1):
                out.append(self.ids["SYL"])
            if st.sung_in_line and st.melisma_run < self.max_melisma:
                out += [self.pos_ids[q] for q in range(st.pos, self.S) if r <= self._slots_after(st, q + 1)]
            can_end = r == 0 if b.bars_after_in_line == 0 else r <= self._slots_after(st, max(self.S, st.pos))
        else:
            if b.kind == "free" and st.free_notes < self.max_free_notes:
                out += self.pos_ids[st.pos:]
            can_end = True
        if can_end:
            out.append(self._prefix(st.bar + 1)[0])
        return out

    def advance(self, st: State, tok: int) -> State:
        """The state after token id ``tok``; ``ValueError`` if it is not allowed."""
        if tok not in self.allowed(st):
            raise ValueError(f"lead-sheet token {self.v.tokens[tok] if 0 <= tok < len(self.v) else tok!r} "
                             f"is not allowed here (phase {st.phase}, bar {st.bar + 1})")
        ph = st.phase
        if ph == "done":
            return st
        if ph == "boundary":
            rest = st.forced[1:]
            if tok == self.ids["EOS"]:
                return replace(st, phase="done", forced=())
            if tok == self.ids["LINE"]:
                return replace(st, phase="event", forced=())
            if tok == self.ids["BAR"]:
                return replace(st, phase="chord", forced=())
            return replace(st, forced=rest)  # a SECTION token; BAR follows
        if ph == "chord":
            b = self.sk.bars[st.bar]
            if b.line_start:
                return replace(st, chord=tok, phase="boundary", forced=(self.ids["LINE"],), prev_pitch=None,
                               syl_left=self.sk.line_syllables[b.line], sung_in_line=False, melisma_run=0)
            return replace(st, chord=tok, phase="event")
        if ph == "syl":
            return replace(st, phase="pitch", note_pos=self.pos_ids.index(tok))
        if ph == "pitch":
            return replace(st, phase="dur", prev_pitch=self.pitch_of[tok])
        if ph == "dur":
            d = int(self.v.tokens[tok][4:])
            st = replace(st, phase="event", pos=st.note_pos + d)
            if st.note_sung:
                return replace(st, sung_in_line=True, melisma_run=0, note_sung=False)
            if self.sk.bars[st.bar].kind == "sung":
                return replace(st, melisma_run=st.melisma_run + 1)
            return replace(st, free_notes=st.free_notes + 1)
        # phase "event"
        if tok == self.ids["SYL"]:
            return replace(st, phase="syl", syl_left=st.syl_left - 1, note_sung=True)
        if tok in self.pos_ids:
            return replace(st, phase="pitch", note_pos=self.pos_ids.index(tok), note_sung=False)
        nxt = st.bar + 1  # the bar ends: its successor's prefix starts
        new_section = nxt < len(self.sk.bars) and self.sk.bars[nxt].starts_section
        new = replace(st, bar=nxt, pos=max(0, st.pos - self.S), free_notes=0, note_sung=False,
                      prev_pitch=None if new_section else st.prev_pitch)
        return self.advance(replace(new, phase="boundary", forced=self._prefix(nxt)), tok)

    def run(self, ids: Sequence[int], st: State | None = None) -> State:
        """Advance through ``ids`` from ``st`` (default: the start)."""
        st = st or self.start()
        for t in ids:
            st = self.advance(st, t)
        return st


# ---- transformers -------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _processor_class():
    import torch
    from transformers import LogitsProcessor

    class GrammarLogitsProcessor(LogitsProcessor):
        """Sets every score the grammar does not allow to ``-inf`` (one grammar state per row)."""

        def __init__(self, grammar: LeadSheetGrammar, prompt_length: int, id_map: Sequence[int] | None = None):
            self.grammar, self.prompt_length = grammar, prompt_length
            self.to_model = list(id_map) if id_map is not None else list(range(len(grammar.v)))
            self.to_grammar = {m: g for g, m in enumerate(self.to_model)}
            self._rows: dict[int, tuple[list[int], State]] = {}

        def state(self, row: int, generated: list[int]) -> State:
            seen, st = self._rows.get(row, ([], None))
            if st is None or generated[: len(seen)] != seen:
                seen, st = [], self.grammar.start()
            for t in generated[len(seen):]:
                if t not in self.to_grammar:
                    raise ValueError(f"model token id {t} is not a lead-sheet token")
                st = self.grammar.advance(st, self.to_grammar[t])
            self._rows[row] = (list(generated), st)
            return st

        def __call__(self, input_ids, scores):
            mask = torch.full_like(scores, float("-inf"))
            for row in range(input_ids.shape[0]):
                st = self.state(row, input_ids[row, self.prompt_length:].tolist())
                allowed = [self.to_model[t] for t in self.grammar.allowed(st)]
                mask[row, allowed] = 0.0
            return scores + mask

    return GrammarLogitsProcessor


def logits_processor(grammar: LeadSheetGrammar, *, prompt_length: int, id_map: Sequence[int] | None = None):
    """A transformers ``LogitsProcessor`` enforcing ``grammar`` on the tokens after the prompt.

    ``id_map[g]`` is the model's id for grammar token ``g`` (identity when None).
    """
    return _processor_class()(grammar, prompt_length, id_map)
