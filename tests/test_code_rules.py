"""Rules of the code base that no linter checks for us: no module reaches another's private names, and
no procedure id appears in the Python of bot/, dialogs/ or storage/ (procedures are data)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "dialogs", "storage")
# the standard library's private names we rely on, each for a reason written where it is used
STDLIB_PRIVATE = {"re._parser", "argparse._SubParsersAction"}


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _private(name: str) -> bool:
    # `_` alone is the gettext translator (ctx._), a convention and not a private name
    return name.startswith("_") and not name.startswith("__") and name != "_"


def private_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found += [f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {a.name}"
                      for a in node.names if _private(a.name) and f"{node.module}.{a.name}" not in STDLIB_PRIVATE]
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            text = ast.unparse(node)
            if text not in STDLIB_PRIVATE:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {text}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = [hit for p in _modules() for hit in private_uses(p)]
    assert found == [], "make these public (and declare them) or keep them inside their module:\n" + "\n".join(found)


def test_no_procedure_id_in_python():
    ids = [p.stem for p in (ROOT / "dialogs" / "procedures").glob("*.yaml")]
    assert ids
    found = [f"{p.relative_to(ROOT)}: {pid}" for p in _modules() for pid in ids
             if pid in p.read_text(encoding="utf-8")]
    assert found == [], "procedures are data; say what the code needs in their YAML:\n" + "\n".join(found)


def test_long_modules_say_why_they_are_one_module():
    long = [p for p in _modules() if len(p.read_text(encoding="utf-8").splitlines()) > 600]
    silent = [str(p.relative_to(ROOT)) for p in long
              if "why one module" not in "\n".join(p.read_text(encoding="utf-8").splitlines()[:40]).lower()]
    assert silent == [], "split these, or say at their top why they are one module: " + ", ".join(silent)
