"""One turn of an officer's chat, as the views, the steps and the chat's plug-ins see it."""
from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import lifecycle as lc
from dialogs.catalog import Catalog
from dialogs.i18n import Translator
from dialogs.messages import Ask, ChoiceOut, Message, Reply
from dialogs.workdays import WorkCalendar
from storage.models import Dossier, Officer

CHOICE_ACTIONS = {"claim": lc.CLAIM, "release": lc.RELEASE, "receive": lc.RECEIVE, "review": lc.REVIEW,
                  "supplement": lc.REQUEST_SUPPLEMENT, "approve": lc.APPROVE, "reject": lc.REJECT,
                  "return": lc.RETURN_RESULT, "reassign": lc.REASSIGN}


ACTION_CHOICE = {v: k for k, v in CHOICE_ACTIONS.items()}

OfficerStep = Callable[["OfficerCtx", "str | None", str], Awaitable[bool]]
"""A plug-in's step: serves the officer's message (choice value or None, typed text) and returns True, or False
to leave it to the chat."""
DossierExtra = Callable[["OfficerCtx", Dossier], Awaitable[tuple[list[str], list[tuple[str, str]]]]]
"""A plug-in's addition to a dossier's view: lines to show under the summary, and (value, label) buttons."""


@dataclass
class OfficerChatPlugins:
    """What plug-ins add to the officer chat (registered through :class:`bot.officer_chat.router.OfficerChat`)."""

    steps: list[OfficerStep] = dataclasses.field(default_factory=list)
    dossier_extras: list[DossierExtra] = dataclasses.field(default_factory=list)


@dataclass
class OfficerCtx:
    """One officer-chat turn: the officer (whose ``chat_state`` is the chat's state), services, the replies."""

    db: AsyncSession
    officer: Officer
    now: datetime
    calendar: WorkCalendar
    catalog: Catalog
    _: Translator
    replies: list[Reply]
    store: Any = None  # storage.attachments.AttachmentStore: files an officer opens from the chat
    plugins: OfficerChatPlugins = dataclasses.field(default_factory=OfficerChatPlugins)

    @property
    def state(self) -> dict[str, Any]:
        return self.officer.chat_state or {}

    def set_state(self, **values: Any) -> None:
        self.officer.chat_state = dict(values)

    def say(self, text: str, error: bool = False, dossier: str | None = None) -> None:
        self.replies.append(Message(text, error=error, dossier=dossier))

    def ask(self, text: str, field: str, choices: list[tuple[str, str]], *, multi: bool = False,
            keep: dict[str, Any] | None = None, numbers: list[int] | None = None) -> None:
        """Ask with these choices; ``numbers`` (one per choice) are the numbers shown and typed instead of the
        places (a menu whose numbers stay the same whatever is offered)."""
        state = dict(keep or {})
        state["choices"] = [v for v, _l in choices]
        state["labels"] = [lab for _v, lab in choices]  # a typed label picks its choice, as a number does
        if numbers is not None:
            state["numbers"] = list(numbers)
        self.officer.chat_state = state
        nums: list[int | None] = list(numbers) if numbers is not None else [None] * len(choices)
        self.replies.append(Ask(text=text, procedure=None, field=field, kind="choice",
                                choices=tuple(ChoiceOut(v, lab, n) for (v, lab), n in zip(choices, nums,
                                                                                          strict=True)),
                                multi=multi))
