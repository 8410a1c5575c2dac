"""Building blocks of the pattern arranger: the song's bar grid and section energy (``song``),
per-genre settings (``genres``), and the part writers for drums, bass, harmony instruments and
melodic leads. Each writer returns plain note tuples ``(start_beats, duration_beats, pitch,
velocity)`` for the bars it is told to play; :mod:`generators.pattern_arranger` decides who plays
where and turns the tuples into tracks."""
