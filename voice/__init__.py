"""Voice stages: singing synthesis from a vocal score, voice presets and voice conversion.
Backends register by name in ``base``."""
