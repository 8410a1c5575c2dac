"""Plain, serialisable data that every stage exchanges: lead sheets, arrangements, vocal scores,
audio and stems, with their file formats (JSON, MusicXML, MIDI, LRC, WAV). Nothing here imports a
model or a synthesiser."""

from .arrangement import Arrangement, Track, TrackNote
from .audio import Audio, StemSet
from .errors import AudioInputError, BackendUnavailable, SongFolderError, SongwrightError, SpecError
from .leadsheet import Chord, LeadSheet, LyricLine, Note, Section, Syllable
from .music import ChordSymbol, Key, Meter
from .tokens import AudioTokens, Latents
from .vocal_score import VocalLine, VocalNote, VocalScore
