"""Renderers turn representations into audio: the soundfont renderer makes stems from an
arrangement, the mixer balances and masters them. Backends register by name in ``base``."""
