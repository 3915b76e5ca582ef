"""The runtime's and the officer chat's seam to the effects procedures declare (bot/effects/).

bot/service.py and bot/officers.py call these four names around the dialog engine; what happens is
data (each procedure's ``effects:`` in its YAML). This module goes when the turn pipeline registers
the effects itself.
"""
from __future__ import annotations

from .effects.hooks import after_step, before_step, officer_step, on_submitted

__all__ = ["after_step", "before_step", "officer_step", "on_submitted"]
