"""Where the features are wired: the turn pipeline every :class:`~bot.service.Runtime` runs.

Each feature module has a ``register(pipeline)`` function; :data:`FEATURES` lists them. The order of
the handlers is their ``order`` (bot/pipeline.py), not this list's: the officer chat, then account
commands, then plug-ins, then the citizen's conversation.
"""
from __future__ import annotations

from typing import Protocol

from . import accounts, allowances, citizen, privacy, slips, verification
from .officer_chat import router as officer_chat
from .pipeline import Pipeline
from .web import chat as web_desk


class Feature(Protocol):
    """A module (or object) with ``register(pipeline)``."""

    def register(self, pipeline: Pipeline) -> None: ...


FEATURES: tuple[Feature, ...] = (officer_chat, web_desk, slips, accounts, privacy, verification, allowances, citizen)
"""The officer chat comes before its plug-ins (the web desk's ``/dangnhap``, the desk's slips, verification,
allowances), which
register with it."""


def build_pipeline(features: tuple[Feature, ...] = FEATURES) -> Pipeline:
    """A pipeline with every feature of ``features`` registered."""
    pipeline = Pipeline()
    for feature in features:
        feature.register(pipeline)
    return pipeline
