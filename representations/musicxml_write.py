"""Writing MusicXML lead sheets with the standard library, fast enough to redo on every edit.

The file (MusicXML 4.0, score-partwise) has one part ("Voice", or "Melody" when nothing is sung)
with key and time signatures, a clef for the melody's range, a metronome mark, a rehearsal mark at
each section start, chord symbols (an N.C. where a chord ends before the next begins), the melody
(rests fill the gaps, notes tie across bar lines and where no single note value fits), lyrics with
their syllabic and a breath mark at the end of each lyric line. Time is written in divisions per
quarter note, chosen so that every position and duration is a whole number; pitches are spelled
for the key. The same lead sheet always gives the same bytes.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from fractions import Fraction
from math import ceil, lcm
from pathlib import Path
from xml.sax.saxutils import escape

from .atomic import atomic_path
from .leadsheet import Chord, LeadSheet, LyricLine, Note
from .music import Key
from .musicxml_chords import NO_CHORD_XML, harmony_xml
from .musicxml_notes import WrittenNote, annotate_bar, note_values, note_xml

_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_ALTERS = {"": 0, "#": 1, "b": -1}


def write_musicxml(lead_sheet: LeadSheet, path: str | Path) -> None:
    """Write ``lead_sheet`` as a MusicXML lead sheet (compressed when ``path`` ends in ``.mxl``).

    Parameters
    ----------
    lead_sheet : LeadSheet
        The song; its melody is written monophonically (a note that overlaps the next one is
        shortened to end where the next begins).
    path : str or Path
        Target file, written atomically. The same lead sheet always gives the same bytes.
    """
    data = musicxml_bytes(lead_sheet)
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".mxl":
            _write_mxl(tmp, path.with_suffix(".musicxml").name, data)
        else:
            tmp.write_bytes(data)


def musicxml_bytes(lead_sheet: LeadSheet) -> bytes:
    """The uncompressed MusicXML document of ``lead_sheet`` (UTF-8), as :func:`write_musicxml` writes it."""
    ls = lead_sheet
    bar = ls.meter.bar_beats
    melody = _monophonic(ls.melody)
    end = max([n.end_beats for n in melody] + [c.end_beats for c in ls.chords] + [Fraction(0)])
    n_bars = max(ls.n_bars, ceil(end / bar), 1)
    harmonies = _harmonies(ls.chords, n_bars * bar)
    times = [bar] + [t for n in melody for t in (n.start_beats, n.end_beats)] + [t for t, _ in harmonies]
    divisions = lcm(*(t.denominator for t in times))
    name = "Voice" if any(n.syllable is not None for n in melody) else "Melody"
    title = escape(ls.title)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
        '"http://www.musicxml.org/dtds/partwise.dtd">',
        '<score-partwise version="4.0">',
        f"  <work>\n    <work-title>{title}</work-title>\n  </work>",
        f"  <movement-title>{title}</movement-title>",
        "  <identification>\n    <encoding>\n      <software>songwright</software>",
        '      <supports element="accidental" type="yes"/>\n      <supports element="beam" type="yes"/>',
        "    </encoding>\n  </identification>",
        '  <part-list>\n    <score-part id="P1">',
        f"      <part-name>{name}</part-name>\n      <part-abbreviation>V</part-abbreviation>",
        f'      <score-instrument id="P1-I1">\n        <instrument-name>{name}</instrument-name>',
        "        <instrument-abbreviation>V</instrument-abbreviation>\n      </score-instrument>",
        '      <midi-instrument id="P1-I1">\n        <midi-channel>1</midi-channel>',
        "        <midi-program>54</midi-program>\n      </midi-instrument>",
        "    </score-part>\n  </part-list>",
        '  <part id="P1">',
    ]
    marks = {}
    for s in ls.sections:
        if s.start_bar < n_bars:
            marks.setdefault(s.start_bar, []).append(s.label or s.kind.title())
    by_bar: dict[int, list[tuple[Fraction, str]]] = {}  # chord symbols by bar, at beats from its start
    for t, xml in harmonies:
        by_bar.setdefault(int(t // bar), []).append((t % bar, xml))
    measures = _measures(ls, melody, {b: [t for t, _ in hs] for b, hs in by_bar.items()}, n_bars)
    for b, units in enumerate(measures):
        out.append(f'    <measure number="{b + 1}">')
        if b == 0:
            out.append(_attributes(ls, melody, divisions))
        for label in marks.get(b, ()):
            out.append('      <direction placement="above">\n        <direction-type>\n'
                       f"          <rehearsal>{escape(label)}</rehearsal>\n"
                       "        </direction-type>\n      </direction>")
        if b == 0:
            out.append(_tempo(ls.tempo_bpm))
        annotate_bar(units, ls.meter, _fifths(ls.key))
        waiting = by_bar.get(b, [])
        for u in units:  # a chord symbol goes before the note or rest under it
            while waiting and waiting[0][0] < u.start + u.duration:
                t, xml = waiting.pop(0)
                offset = int((t - u.start) * divisions)
                out.append(xml + (f"\n        <offset>{offset}</offset>" if offset else "") + "\n      </harmony>")
            out.append(note_xml(u, divisions))
        out.append("    </measure>")
    out.append("  </part>\n</score-partwise>\n")
    return "\n".join(out).encode("utf-8")


def _write_mxl(tmp: Path, inner_name: str, data: bytes) -> None:
    container = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<container><rootfiles>'
        f'<rootfile full-path="{inner_name}" media-type="application/vnd.recordare.musicxml+xml"/>'
        "</rootfiles></container>\n"
    ).encode()
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for name, payload in (("mimetype", b"application/vnd.recordare.musicxml"),
                              ("META-INF/container.xml", container), (inner_name, data)):
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            z.writestr(info, payload)


def _monophonic(melody: list[Note]) -> list[Note]:
    """The melody by start, one note at a time: the highest of notes that start together, and a
    note that overlaps the next one shortened."""
    notes = sorted(melody, key=lambda n: (n.start_beats, -n.pitch))
    out: list[Note] = []
    for n in notes:
        if out and n.start_beats <= out[-1].start_beats:
            continue
        if out and out[-1].end_beats > n.start_beats:
            out[-1] = replace(out[-1], duration_beats=n.start_beats - out[-1].start_beats)
        out.append(n)
    return out


# ---- header pieces ----------------------------------------------------------------------------
def _fifths(key: Key) -> int:
    """Sharps (positive) or flats (negative) in the key signature of ``key``."""
    major_pc = key.tonic_pc if key.mode == "major" else (key.tonic_pc + 3) % 12
    f = (major_pc * 7) % 12
    return f - 12 if f > 6 else f


def _attributes(ls: LeadSheet, melody: list[Note], divisions: int) -> str:
    pitches = sorted(n.pitch for n in melody)
    median = pitches[len(pitches) // 2] if pitches else 67
    clef = ("<sign>F</sign>\n          <line>4</line>" if median < 45 else
            "<sign>G</sign>\n          <line>2</line>" + ("\n          <clef-octave-change>-1</clef-octave-change>"
                                                        if median < 55 else ""))
    return (f"      <attributes>\n        <divisions>{divisions}</divisions>\n"
            f"        <key>\n          <fifths>{_fifths(ls.key)}</fifths>\n          <mode>{ls.key.mode}</mode>\n"
            f"        </key>\n        <time>\n          <beats>{ls.meter.numerator}</beats>\n"
            f"          <beat-type>{ls.meter.denominator}</beat-type>\n        </time>\n"
            f"        <clef>\n          {clef}\n        </clef>\n      </attributes>")


def _tempo(tempo_bpm: float) -> str:
    bpm = int(tempo_bpm) if float(tempo_bpm).is_integer() else tempo_bpm
    return ('      <direction placement="above">\n        <direction-type>\n          <metronome parentheses="no">\n'
            f"            <beat-unit>quarter</beat-unit>\n            <per-minute>{bpm}</per-minute>\n"
            f'          </metronome>\n        </direction-type>\n        <sound tempo="{bpm}"/>\n      </direction>')


def _harmonies(chords: list[Chord], total: Fraction) -> list[tuple[Fraction, str]]:
    """(beat, ``<harmony>`` opening and content, without the offset and closing tag) of each chord
    symbol and of an N.C. wherever a chord ends before the next one begins."""
    out = []
    for i, c in enumerate(chords):
        out.append((c.start_beats, harmony_xml(c.symbol)))
        nxt = chords[i + 1].start_beats if i + 1 < len(chords) else total
        if c.end_beats < nxt:
            out.append((c.end_beats, NO_CHORD_XML))
    return sorted(out, key=lambda h: h[0])


# ---- the melody, bar by bar -------------------------------------------------------------------
def _measures(ls: LeadSheet, melody: list[Note], cuts: dict[int, list[Fraction]],
              n_bars: int) -> list[list[WrittenNote]]:
    """The notes and rests of each bar; rests break at ``cuts`` (beats from the bar start, by bar),
    where chord symbols stand."""
    bar = ls.meter.bar_beats
    syllabic, spell = _syllabics(ls), _spelling(ls.key)
    texts = [_lyric_texts(line) for line in ls.lyrics]
    breaths = _line_ends(melody)
    measures: list[list[WrittenNote]] = [[] for _ in range(n_bars)]
    cursor = [Fraction(0)] * n_bars  # how far each bar is written, in beats from its start

    def rest_to(b: int, t: Fraction) -> None:
        t0 = cursor[b]
        if t0 < t:
            inner = sorted({c for c in cuts.get(b, ()) if t0 < c < t})
            if t0 == 0 and t == bar and not inner:
                measures[b].append(WrittenNote(Fraction(0), bar, None, whole_bar=True))
            else:
                for a, z in zip([t0, *inner], [*inner, t]):
                    measures[b] += [WrittenNote(*v) for v in note_values(a, z - a)]
            cursor[b] = t

    sung = set()  # a syllable's lyric goes on its first note only
    for i, n in enumerate(melody):
        t, stop, units = n.start_beats, n.end_beats, []
        while t < stop:
            b = int(t // bar)
            t1 = min(stop, (b + 1) * bar)
            rest_to(b, t - b * bar)
            written = [WrittenNote(*v, pitch=spell(n.pitch)) for v in note_values(t - b * bar, t1 - t)]
            measures[b] += written
            units += written
            cursor[b] = t1 - b * bar
            t = t1
        for k, u in enumerate(units):
            u.tie_stop, u.tie_start = k > 0, k + 1 < len(units)
        if n.syllable is not None and not n.melisma and n.syllable not in sung:
            sung.add(n.syllable)
            li, si = n.syllable
            units[0].lyric = (syllabic[(li, si)], texts[li][si])
        units[-1].breath = i in breaths
    for b in range(n_bars):
        rest_to(b, bar)
    return measures


def _line_ends(melody: list[Note]) -> set[int]:
    """Indices of the notes that end a lyric line followed by another (they get a breath mark)."""
    last_of_line: dict[int, int] = {}
    for i, n in enumerate(melody):
        if n.syllable is not None:
            last_of_line[n.syllable[0]] = i
    return {i for li, i in last_of_line.items()
            if any(m.syllable is not None and m.syllable[0] != li for m in melody[i + 1:])}


def _syllabics(ls: LeadSheet) -> dict[tuple[int, int], str]:
    out = {}
    for li, line in enumerate(ls.lyrics):
        syl = line.syllables
        for si, s in enumerate(syl):
            cont = si + 1 < len(syl) and not syl[si + 1].word_start and syl[si + 1].word == s.word
            if s.word_start or si == 0:
                out[(li, si)] = "begin" if cont else "single"
            else:
                out[(li, si)] = "middle" if cont else "end"
    return out


def _lyric_texts(line: LyricLine) -> list[str]:
    """Each syllable's text, with the punctuation that the line's text puts around its word."""
    syl, text, pos = line.syllables, line.text, 0
    out = [s.text for s in syl]
    for i, s in enumerate(syl):
        j = text.find(s.text, pos) if s.text else -1
        if j < 0:
            break
        if i == 0 or s.word_start:
            lead = re.search(r"[^\w\s]+$", text[pos:j])
            out[i] = (lead.group(0) if lead else "") + out[i]
        pos = j + len(s.text)
        if i + 1 == len(syl) or syl[i + 1].word_start or syl[i + 1].word != s.word:
            trail = re.match(r"[^\w\s]+", text[pos:])
            if trail:
                out[i] += trail.group(0)
                pos += len(trail.group(0))
    return out


def _spelling(key: Key):
    """``midi -> (step, alter, octave)``: flats in flat keys, sharps otherwise, and the raised
    leading note in minor keys."""
    names = _FLAT_NAMES if _fifths(key) < 0 else _SHARP_NAMES
    leading = (key.tonic_pc - 1) % 12

    def spell(midi: int) -> tuple[str, int, int]:
        pc = midi % 12
        name = _SHARP_NAMES[pc] if key.mode == "minor" and pc == leading else names[pc]
        return name[0], _ALTERS[name[1:]], midi // 12 - 1

    return spell


