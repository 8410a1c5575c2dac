"""The one exception hierarchy of Songwright.

Every error a user can cause is a :class:`SongwrightError`; its message is one line that names
where the problem is (file, line, field) and what would be valid. The command line prints that
line and exits with status 2.
"""


class SongwrightError(Exception):
    """Base of every error Songwright raises on purpose."""

    exit_code = 2


class SpecError(SongwrightError):
    """A song spec, lyric text or lead-sheet file is invalid."""


class AudioInputError(SongwrightError):
    """An audio file given as input cannot be used."""


class BackendUnavailable(SongwrightError):
    """A backend was asked for by name but cannot run here (missing package, tool or checkpoint)."""


class SongFolderError(SongwrightError):
    """A folder is not a song folder Songwright can work on."""
