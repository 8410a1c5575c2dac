"""From lead sheet to vocal score: the sung melody in seconds, each note with its syllable."""

from __future__ import annotations

from representations.leadsheet import LeadSheet
from representations.vocal_score import VocalLine, VocalNote, VocalScore


def vocal_score_from_leadsheet(lead_sheet: LeadSheet, *, voice: str = "joe") -> VocalScore:
    """The vocal score of ``lead_sheet``.

    Every melody note that carries a syllable becomes a :class:`VocalNote` with the syllable's
    text and phonemes (a melisma note repeats them with ``melisma=True``); every lyric line with
    sung notes becomes a :class:`VocalLine` from its first note's start to its last note's end.

    Parameters
    ----------
    lead_sheet : LeadSheet
        The song; times convert with its tempo.
    voice : str
        Voice preset name recorded in the score.

    Returns
    -------
    VocalScore
        Notes in time order, ``language`` and ``duration_s`` of the lead sheet.
    """
    notes: list[VocalNote] = []
    spans: dict[int, tuple[float, float]] = {}
    for n in lead_sheet.sung_notes():
        line, idx = n.syllable
        syl = lead_sheet.lyrics[line].syllables[idx]
        start_s = lead_sheet.beats_to_seconds(n.start_beats)
        end_s = lead_sheet.beats_to_seconds(n.end_beats)
        notes.append(VocalNote(
            start_s=start_s, duration_s=end_s - start_s, pitch=n.pitch, velocity=n.velocity,
            text=syl.text, phonemes=tuple(syl.phonemes), line=line, syllable=idx,
            word=syl.word, word_start=syl.word_start, melisma=n.melisma,
        ))
        a, b = spans.get(line, (start_s, end_s))
        spans[line] = (min(a, start_s), max(b, end_s))
    lines = [VocalLine(index=i, text=lead_sheet.lyrics[i].text, start_s=a, end_s=b) for i, (a, b) in sorted(spans.items())]
    return VocalScore(notes=notes, lines=lines, language=lead_sheet.language, voice=voice,
                      duration_s=lead_sheet.duration_s)
