"""The studio's picture of a lead sheet: a piano roll with lyrics and chord names, drawn with matplotlib.

The song is laid out in rows of ``bars_per_row`` bars like a printed lead sheet: melody notes as
bars on a pitch axis (MIDI numbers, labelled with note names), each sung syllable under the note
that starts it, chord symbols above the row where they change, section names at their first bar.
Drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot, no global state), so
it is safe in the studio's worker threads.
"""

from __future__ import annotations

from pathlib import Path

from representations.leadsheet import LeadSheet
from representations.music import note_name

SECTION_COLOURS = {
    "intro": "#9e9e9e", "verse": "#3f7fbf", "pre-chorus": "#8e6cc0", "chorus": "#d9822b",
    "bridge": "#3a9e6e", "interlude": "#9e9e9e", "outro": "#9e9e9e",
}
ROW_HEIGHT_IN = 1.9
WIDTH_IN = 14.0


def lead_sheet_figure(lead_sheet: LeadSheet, *, bars_per_row: int = 8):
    """The piano-roll figure of ``lead_sheet``.

    Parameters
    ----------
    lead_sheet : the song's lead sheet (positions in quarter-note beats).
    bars_per_row : bars drawn per row.

    Returns
    -------
    matplotlib.figure.Figure
        One axis per row; x in beats from the song's start, y in MIDI pitch. Every melody note is
        one Rectangle patch with gid "note" (x = start beat, width = duration in beats, y = pitch - 0.4); syllables
        and chord symbols are the axes' texts.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    bar_beats = float(lead_sheet.meter.bar_beats)
    n_bars = max(lead_sheet.n_bars, 1)
    n_rows = -(-n_bars // bars_per_row)
    row_beats = bars_per_row * bar_beats
    pitches = [n.pitch for n in lead_sheet.melody] or [60]
    lo, hi = min(pitches) - 4, max(pitches) + 3

    fig = Figure(figsize=(WIDTH_IN, 0.7 + ROW_HEIGHT_IN * n_rows), dpi=90, layout="constrained")
    axes = fig.subplots(n_rows, 1, squeeze=False)[:, 0]
    fig.suptitle(f"{lead_sheet.title} — {lead_sheet.key}, {lead_sheet.tempo_bpm:g} BPM, {lead_sheet.meter}",
                 fontsize=12, x=0.01, ha="left")

    def section_of(beat: float):
        bar = int(beat // bar_beats)
        for s in lead_sheet.sections:
            if s.start_bar <= bar < s.start_bar + s.n_bars:
                return s
        return None

    for row, ax in enumerate(axes):
        x0 = row * row_beats
        ax.set_xlim(x0, x0 + row_beats)
        ax.set_ylim(lo, hi + 2.5)
        first_bar = row * bars_per_row
        ax.set_xticks([x0 + b * bar_beats for b in range(bars_per_row)])
        ax.set_xticklabels([str(first_bar + b + 1) if first_bar + b < n_bars else "" for b in range(bars_per_row)],
                           fontsize=7, color="#666666")
        cs = [p for p in range(lo, hi + 1) if p % 12 in (0, 7)]
        ax.set_yticks(cs)
        ax.set_yticklabels([note_name(p) for p in cs], fontsize=7, color="#666666")
        ax.tick_params(length=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for b in range(bars_per_row + 1):
            ax.axvline(x0 + b * bar_beats, color="#dddddd", lw=0.8, zorder=0)
        if first_bar + bars_per_row > n_bars:  # the end of the song
            ax.axvspan(n_bars * bar_beats, x0 + row_beats, color="#f2f2f2", zorder=0)
        for s in lead_sheet.sections:
            if first_bar <= s.start_bar < first_bar + bars_per_row:
                xs = s.start_bar * bar_beats
                ax.axvline(xs, color=SECTION_COLOURS[s.kind], lw=1.6, zorder=1)
                ax.text(xs + 0.1, lo + 0.3, s.label, fontsize=8, color=SECTION_COLOURS[s.kind],
                        fontweight="bold", va="bottom")

    last_symbol = None
    for c in lead_sheet.chords:
        start = float(c.start_beats)
        row = int(start // row_beats)
        if row >= n_rows:
            continue
        if c.symbol == last_symbol and start % row_beats != 0:
            continue
        last_symbol = c.symbol
        axes[row].text(start + 0.05, hi + 1.2, c.symbol, fontsize=8, color="#222222", va="bottom")

    for n in lead_sheet.melody:
        start = float(n.start_beats)
        row = int(start // row_beats)
        if row >= n_rows:
            continue
        ax = axes[row]
        s = section_of(start)
        colour = SECTION_COLOURS[s.kind] if s else "#3f7fbf"
        ax.add_patch(Rectangle((start, n.pitch - 0.4), float(n.duration_beats), 0.8, facecolor=colour,
                               edgecolor="white", lw=0.4, zorder=2, gid="note"))
        if n.syllable is not None and not n.melisma:
            li, si = n.syllable
            ax.text(start, n.pitch - 1.3, lead_sheet.lyrics[li].syllables[si].text, fontsize=7,
                    va="top", ha="left", zorder=3)
    return fig


def plot_lead_sheet(lead_sheet: LeadSheet, out_path: str | Path, *, bars_per_row: int = 8) -> Path:
    """Draw ``lead_sheet`` (see :func:`lead_sheet_figure`) into the PNG file ``out_path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out_path = Path(out_path)
    fig = lead_sheet_figure(lead_sheet, bars_per_row=bars_per_row)
    FigureCanvasAgg(fig)
    fig.savefig(out_path, format="png")
    return out_path
