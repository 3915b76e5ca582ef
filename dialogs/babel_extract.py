"""Babel extraction method for procedure definitions (dialogs/procedures/*.yaml).

Referenced from ``babel.cfg`` in the ``module:function`` form, so it needs no
entry point::

    [dialogs.babel_extract:extract_procedure: dialogs/procedures/**.yaml]

Every string that :func:`dialogs.catalog.translatable_strings` yields becomes a
message; its ``where`` path (e.g. ``deceased/deceased.cause.choices.khac``) is
written as an extracted comment (``#.``) so translators see the context. Line
numbers come from the YAML node marks (the first scalar holding that text that
has not been used yet), falling back to a text search and then to line 1.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

import yaml

from .catalog import translatable_strings
from .schema import Procedure


def _scalar_lines(text: str) -> dict[str, list[int]]:
    """Scalar value -> 1-based line numbers where a scalar with that value starts."""
    lines: dict[str, list[int]] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    stack = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if isinstance(node.value, str):
                lines.setdefault(node.value, []).append(node.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
    for v in lines.values():
        v.sort()
    return lines


def _search_line(text: str, message: str) -> int:
    head = message.strip().splitlines()[0][:40] if message.strip() else ""
    if head:
        pos = text.find(head)
        if pos >= 0:
            return text.count("\n", 0, pos) + 1
    return 1


def extract_procedure(
    fileobj: Any,
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield ``(lineno, funcname, message, comments)`` for one procedure YAML file.

    ``funcname`` is None, so Babel takes the message as is whatever keywords
    are configured. A file that does not validate raises: skipping it would
    make ``scripts/i18n.py extract`` drop its translations as obsolete.
    """
    raw = fileobj.read()
    encoding = options.get("encoding", "utf-8") if options else "utf-8"
    text = raw.decode(encoding) if isinstance(raw, bytes) else raw
    try:
        proc = Procedure.model_validate(yaml.safe_load(text))
    except Exception as exc:  # never drop a file's strings silently: that would orphan its translations
        name = getattr(fileobj, "name", "<procedure>")
        raise ValueError(f"{name}: not a valid procedure definition, cannot extract its strings: {exc}") from exc
    by_value = _scalar_lines(text)
    used: dict[str, int] = {}
    for where, message in translatable_strings(proc):
        if not message:
            continue
        candidates = by_value.get(message)
        if candidates:
            k = used.get(message, 0)
            lineno = candidates[min(k, len(candidates) - 1)]
            used[message] = k + 1
        else:
            lineno = _search_line(text, message)
        yield lineno, None, message, [f"{proc.id}: {where}"]
