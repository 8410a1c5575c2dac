"""Per-genre arranging choices: default instruments, which pattern each role plays (a lighter one
for verses, a fuller one for choruses), swing, chord colour and the lead for instrumentals."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GenreStyle:
    """How one genre is arranged.

    Parameters
    ----------
    defaults : tuple of str
        Canonical instrument names of the default band, rhythm section first.
    lead : str
        Instrument that plays the melody of an instrumental when the tags name no melodic one.
    drums, bass : str
        Pattern names for :mod:`.drums` and :mod:`.bass`.
    chords, guitar, pluck : tuple of (str, str)
        Comping styles of those roles in light (verse) and full (chorus) sections (:mod:`.harmony`).
    swing : bool
        Off-beat eighths fall on the triplet (jazz, blues, lo-fi).
    extended : bool
        Voice triads as seventh chords (maj7, m7).
    fill : str
        Drum-fill sound: ``"toms"``, ``"snare"`` or ``"soft"``.
    drums_from : float
        Lowest section level at which the drum kit plays.
    pentatonic : bool
        Fills and counter-lines move on the pentatonic scale.
    """

    defaults: tuple[str, ...]
    lead: str
    drums: str
    bass: str
    chords: tuple[str, str] = ("block", "pulse")
    guitar: tuple[str, str] = ("pick", "strum")
    pluck: tuple[str, str] = ("arpeggio", "arpeggio")
    swing: bool = False
    extended: bool = False
    fill: str = "toms"
    drums_from: float = 0.5
    pentatonic: bool = True


GENRE_STYLES: dict[str, GenreStyle] = {
    "pop": GenreStyle(("drums", "bass", "piano", "acoustic guitar", "pad"), "piano", "pop", "pop",
                      chords=("arpeggio", "pulse8")),
    "rock": GenreStyle(("drums", "bass", "electric guitar", "piano"), "electric guitar", "rock", "rock",
                       chords=("block", "pulse8"), guitar=("power_mute", "power")),
    "ballad": GenreStyle(("drums", "bass", "piano", "strings"), "piano", "ballad", "ballad",
                         chords=("arpeggio", "arpeggio"), fill="soft", drums_from=0.6),
    "folk": GenreStyle(("drums", "bass", "acoustic guitar", "piano"), "flute", "folk", "country",
                       chords=("block", "pulse"), fill="soft"),
    "jazz": GenreStyle(("drums", "upright bass", "piano", "saxophone"), "saxophone", "jazz", "walking",
                       chords=("charleston", "charleston"), guitar=("pulse", "pulse"), swing=True,
                       extended=True, fill="snare", pentatonic=False),
    "electronic": GenreStyle(("drums", "synth bass", "pad", "synth"), "synth", "electronic", "dance",
                             chords=("offbeat", "offbeat"), pluck=("arp16", "arp16"), fill="snare"),
    "dance": GenreStyle(("drums", "synth bass", "piano", "pad", "synth"), "synth", "dance", "dance",
                        chords=("offbeat", "house"), pluck=("arp16", "arp16"), fill="snare"),
    "hiphop": GenreStyle(("drums", "synth bass", "electric piano", "pad"), "electric piano", "hiphop", "hiphop",
                         chords=("block", "rhythmic"), extended=True, fill="snare"),
    "lofi": GenreStyle(("drums", "bass", "electric piano", "nylon guitar"), "electric piano", "lofi", "lofi",
                       chords=("block", "rhythmic"), guitar=("pick", "pick"), swing=True, extended=True,
                       fill="soft"),
    "classical": GenreStyle(("piano", "strings", "cello"), "violin", "none", "sustain",
                            chords=("alberti", "arpeggio"), fill="soft", pentatonic=False),
    "cinematic": GenreStyle(("piano", "strings", "cello", "choir pad", "timpani"), "violin", "none", "sustain",
                            chords=("arpeggio", "ostinato"), fill="soft", pentatonic=False),
    "country": GenreStyle(("drums", "bass", "acoustic guitar", "violin", "banjo"), "violin", "country", "country",
                          guitar=("strum", "strum"), pluck=("arpeggio", "arpeggio")),
    "blues": GenreStyle(("drums", "bass", "piano", "electric guitar"), "electric guitar", "blues", "boogie",
                        chords=("charleston", "pulse8"), guitar=("strum", "strum"), swing=True, extended=True),
    "latin": GenreStyle(("drums", "bass", "nylon guitar", "piano"), "flute", "latin", "bossa",
                        chords=("bossa", "bossa"), guitar=("bossa", "bossa"), fill="soft", extended=True),
    "rnb": GenreStyle(("drums", "bass", "electric piano", "pad"), "electric piano", "rnb", "rnb",
                      chords=("block", "rhythmic"), extended=True),
    "waltz": GenreStyle(("piano", "upright bass", "strings"), "violin", "waltz", "waltz",
                        chords=("oompah", "oompah"), guitar=("oompah", "oompah"), fill="soft", drums_from=0.9,
                        pentatonic=False),
    "chinese": GenreStyle(("drums", "bass", "guzheng", "strings", "erhu"), "dizi", "ballad", "ballad",
                          chords=("arpeggio", "block"), fill="soft", drums_from=0.6),
}


def genre_style(genre: str) -> GenreStyle:
    """Settings of ``genre``; an unknown genre is arranged as pop."""
    return GENRE_STYLES.get(genre, GENRE_STYLES["pop"])
