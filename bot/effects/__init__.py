"""Generic, named effects that procedure YAML declares (``effects:``): database checks during the
conversation, changes to registers at submission, identity verification, and exports.

Each effect is one module (``NAME``, ``STAGE``, ``validate(args, form)``, ``async execute(ctx, args)``),
registered here by name, the way goflow registers its actions. :func:`validate_catalog` checks every
declared effect's arguments without running anything (``dvcbot catalog check``).
"""
from __future__ import annotations

from dialogs.catalog import Catalog

from . import (
    identity_verify,
    register_absent,
    register_add,
    register_close,
    register_confirm_change,
    register_export,
    register_present,
    register_update,
)
from .base import REGISTRY, STAGES, EffectContext, Refusal, register

for _module in (register_absent, register_present, register_add, register_update, register_close,
                register_confirm_change, identity_verify, register_export):
    register(_module)

_SECTIONS = {"checks": "check", "submit": "submit", "exports": "export"}


def validate_catalog(catalog: Catalog) -> list[str]:
    """Problems with the effects every procedure declares: unknown effect, an effect in the wrong
    list, unknown field path, missing or unknown argument, bad ``when``."""
    problems: list[str] = []
    for proc in catalog.procedures.values():
        form = catalog.form(proc.id)
        for section, stage in _SECTIONS.items():
            for i, call in enumerate(getattr(proc.effects, section)):
                where = f"{proc.id}: effects.{section}[{i}]"
                module = REGISTRY.get(call.effect)
                if module is None:
                    problems.append(f"{where}: unknown effect {call.effect!r} (known: {', '.join(sorted(REGISTRY))})")
                    continue
                if stage != module.STAGE:
                    problems.append(f"{where}: {call.effect} is a {module.STAGE} effect, not for effects.{section}")
                    continue
                for path in getattr(call, "after", ()):
                    if form.field(path) is None:
                        problems.append(f"{where}: after: unknown field path {path!r}")
                if call.when:
                    problems += [f"{where}: {p}" for p in _when_problems(call.when)]
                problems += [f"{where}: {p}" for p in module.validate(call.args, form, catalog)]
    return problems


def _when_problems(source: str) -> list[str]:
    from dialogs.expr import ExprError, compile_expr

    try:
        compile_expr(source)
    except ExprError as exc:
        return [f"when: {exc}"]
    return []


__all__ = ["REGISTRY", "STAGES", "EffectContext", "Refusal", "register", "validate_catalog"]
