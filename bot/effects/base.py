"""The registry of effects, the context they run in, and the helpers they share.

An effect is a module with ``NAME`` (``register.add``), ``STAGE`` (``check``, ``submit`` or
``export``), ``validate(args, form) -> list[str]`` (problems, found without running anything) and
``async execute(ctx, args)``. A procedure names its effects in its YAML (``effects:``, see
dialogs/schema.py); nothing here knows a procedure.
"""
from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import ModuleType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import banks
from dialogs.catalog import Catalog
from dialogs.form import Form
from dialogs.i18n import Translator, translator
from dialogs.kinds import format_address
from storage.models import Dossier

STAGES = ("check", "submit", "export")
REGISTRY: dict[str, ModuleType] = {}


def register(module: ModuleType) -> ModuleType:
    """Add an effect module to the registry under its ``NAME``."""
    for attr in ("NAME", "STAGE", "validate", "execute"):
        if not hasattr(module, attr):
            raise TypeError(f"effect module {module.__name__} has no {attr}")
    if module.STAGE not in STAGES:
        raise TypeError(f"effect {module.NAME}: unknown stage {module.STAGE!r}")
    REGISTRY[module.NAME] = module
    return module


@dataclass(frozen=True)
class Refusal:
    """A check that does not pass: what to tell the person, the answer to drop, the procedure to offer."""

    text: str
    drop: str
    suggest: str | None = None


@dataclass
class EffectContext:
    """What an effect may use: the database (in the turn's transaction), the procedure and the answers."""

    db: AsyncSession
    catalog: Catalog
    form: Form
    answers: dict[str, Any]
    now: datetime
    lang: str = "vi"
    user: str = ""  # the chat acting
    dossier: Dossier | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def submitted(self) -> Dossier:
        """The dossier just submitted (for submit effects)."""
        if self.dossier is None:
            raise RuntimeError("a submit effect ran without its dossier")
        return self.dossier

    @property
    def _(self) -> Translator:
        return translator(self.lang)

    def value(self, path: str) -> Any:
        return self.answers.get(path)


# ---------------------------------------------------------------------------------------------
# argument checks (validate)
# ---------------------------------------------------------------------------------------------
class Args:
    """Checks one effect's arguments, collecting problems instead of raising."""

    def __init__(self, args: Mapping[str, Any], form: Form, name: str, catalog: Catalog | None = None) -> None:
        self.args, self.form, self.name, self.catalog = args, form, name, catalog
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(f"{self.name}: {text}")

    def allowed(self, *keys: str) -> None:
        for k in self.args:
            if k not in keys:
                self.problem(f"unknown argument {k!r}")

    def required(self, key: str, kind: type | tuple[type, ...] = str) -> Any:
        if key not in self.args:
            self.problem(f"missing argument {key!r}")
            return None
        return self.optional(key, kind)

    def optional(self, key: str, kind: type | tuple[type, ...] = str) -> Any:
        value = self.args.get(key)
        if value is not None and not isinstance(value, kind):
            self.problem(f"argument {key!r} must be {_kind_name(kind)}")
            return None
        return value

    def path(self, path: Any, where: str) -> None:
        if not isinstance(path, str) or self.form.field(path) is None:
            self.problem(f"{where}: unknown field path {path!r}")

    def text(self, key: str, placeholders: Iterable[str], *, required: bool = True) -> None:
        value = self.required(key) if required else self.optional(key)
        if isinstance(value, str):
            names = {f for _t, f, _s, _c in string.Formatter().parse(value) if f}
            for n in sorted(names - set(placeholders)):
                self.problem(f"{key}: unknown placeholder {{{n}}} (known: {', '.join(sorted(placeholders)) or 'none'})")

    def procedure(self, key: str) -> None:
        """An optional argument naming another procedure of the catalogue."""
        pid = self.optional(key)
        if pid is not None and self.catalog is not None and pid not in self.catalog.procedures:
            self.problem(f"{key}: unknown procedure {pid!r}")

    def params(self) -> list[str]:
        params = self.optional("params", dict) or {}
        for name, path in params.items():
            self.path(path, f"params.{name}")
        return list(params)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({str: "text", dict: "a mapping", list: "a list", int: "a number", bool: "true/false"}
                       .get(k, k.__name__) for k in kinds)


# ---------------------------------------------------------------------------------------------
# answers → values (execute)
# ---------------------------------------------------------------------------------------------
def column_spec(spec: Any) -> dict[str, Any]:
    """A column mapping: ``path`` or ``{path, default, upper, max_len}``."""
    return {"path": spec} if isinstance(spec, str) else dict(spec)


def answer_value(answers: Mapping[str, Any], spec: Any) -> Any:
    """The value a column gets from the answers, per its mapping."""
    s = column_spec(spec)
    value = answers.get(s["path"]) if s.get("path") else None
    if value in (None, "") and "default" in s:
        value = s["default"]
    if isinstance(value, dict):  # a structured answer (an address)
        value = format_address(value)
    if isinstance(value, str):
        if s.get("upper"):
            value = value.upper()
        if s.get("max_len"):
            value = value[: int(s["max_len"])]
    return value


def as_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def shown(form: Form, path: str, value: Any, _: Translator) -> str:
    """An answer inside a message: banks by short name, accounts by their last 4 digits."""
    f = form.field(path)
    if f is not None and f.kind in banks.KINDS:
        return banks.brief(f.kind, value)
    if isinstance(value, dict):
        return format_address(value)
    return "" if value is None else str(value)


def params_of(ctx: EffectContext, args: Mapping[str, Any]) -> dict[str, str]:
    return {name: shown(ctx.form, path, ctx.value(path), ctx._) for name, path in (args.get("params") or {}).items()}


def holds(ctx: EffectContext, source: str | None) -> bool:
    """Whether a ``when`` expression holds over the answers (no expression: always)."""
    return ctx.form.holds(source, ctx.answers, today=ctx.now.date())

