"""Generators produce representations: planners write the lead sheet from a spec, arrangers
write the accompaniment from the lead sheet. Backends register by name in ``base``."""
