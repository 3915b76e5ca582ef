"""The officer chat's seam to the effects procedures declare (bot/effects/), and their feature entry
for bot/app.py: ``register(pipeline)`` adds the effects' plug-in and hooks to the turn pipeline.

What happens is data (each procedure's ``effects:`` in its YAML); this module names no procedure.
"""
from __future__ import annotations

from .effects.hooks import after_step, before_step, officer_step, on_submitted, register

__all__ = ["after_step", "before_step", "officer_step", "on_submitted", "register"]
