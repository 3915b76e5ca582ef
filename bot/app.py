"""Where the features are wired: the turn pipeline every :class:`~bot.service.Runtime` runs.

Each feature module has a ``register(pipeline)`` function; :data:`FEATURES` lists them. The order of
the handlers is their ``order`` (bot/pipeline.py), not this list's: the officer chat, then account
commands, then plug-ins, then the citizen's conversation.
"""
from __future__ import annotations

from types import ModuleType

from . import accounts, allowances, citizen, officers, privacy
from .pipeline import Pipeline

FEATURES: tuple[ModuleType, ...] = (officers, accounts, privacy, allowances, citizen)


def build_pipeline(features: tuple[ModuleType, ...] = FEATURES) -> Pipeline:
    """A pipeline with every feature of ``features`` registered."""
    pipeline = Pipeline()
    for feature in features:
        feature.register(pipeline)
    return pipeline
