"""Message catalogue access for the conversation core.

Source strings are Vietnamese (the first language). English lives in
locales/en/LC_MESSAGES/dvcbot.po. ``N_`` only marks a string for extraction.
"""
from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message
