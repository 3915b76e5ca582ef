"""The `dvcbot` command line."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from . import cli_officer


def _runtime(args):
    from .fakeclock import cli_runtime
    return cli_runtime(args)


async def _chat(args) -> int:
    from .console import run_console
    async with _runtime(args) as rt:
        await run_console(rt, args.user, jsonl=args.jsonl)
    return 0


async def _dossiers(args) -> int:
    from storage.repo import DossierRepo, dossier_to_dict
    async with _runtime(args) as rt, rt.sm() as db:
        rows = await DossierRepo(db).list(procedure_id=args.procedure)
        data = [dossier_to_dict(d) for d in rows]
    if args.json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for d in data:
            print(f"{d['code']}  {d['procedure']}  {d['status']}  hạn {d['due_date']}  {d['applicant_name'] or ''}")
        if not data:
            print("Chưa có hồ sơ nào.")
    return 0


def _catalog(args) -> int:
    from dialogs.catalog import Catalog
    from dialogs.forms.render import check_templates
    cat = Catalog.default()
    if args.action == "law":  # the legal register: dvcbot catalog law > docs/law.md
        from dialogs.law import register_markdown
        sys.stdout.write(register_markdown(cat))
        return 0
    if args.action == "list" or args.action == "check":
        for p in cat.procedures.values():
            print(f"{p.id:45s} v{p.version}  {p.processing_days:>2} ngày  {p.title}")
    if args.action == "check":
        from dialogs.forms.slips import check_slips
        from dialogs.nlu import check_phrases

        from .effects import validate_catalog
        problems = cat.check() + check_templates(cat) + check_slips() + validate_catalog(cat)
        problems += [f"{p.id}: {problem}" for p in cat for problem in check_phrases(p)]
        for problem in problems:
            print("ERROR", problem, file=sys.stderr)
        print(f"{len(cat.procedures)} procedures, {len(problems)} problems")
        return 1 if problems else 0
    return 0


async def _db_upgrade(args) -> int:
    from storage.db import upgrade
    await upgrade(args.db)
    print("database is up to date")
    if args.action in ("rotate-key", "reencrypt"):
        from storage import crypto
        from storage.db import reencrypt
        if args.action == "rotate-key":
            crypto.add_data_key()
        n = await reencrypt(args.db)
        print(f"{n} values encrypted with the current data key")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dvcbot", description="Trợ lý Dịch vụ công")
    p.add_argument("--db", default=os.environ.get("DVCBOT_DB"),
                   help="database URL, or a SQLite file's name (default: sqlite under ./var, or $DVCBOT_DB)")
    p.add_argument("--var", default=os.environ.get("DVCBOT_VAR", "var"), help="data folder (attachments)")
    p.add_argument("--now", default=os.environ.get("DVCBOT_NOW") or None,
                   help="pretend date-time for training and acceptance tests, e.g. \"2027-02-03 14:50\" (Vietnam "
                        "time; or $DVCBOT_NOW); only with chat, dossiers, officer, notify, on a throw-away database")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("chat", help="chat in the console")
    c.add_argument("--jsonl", action="store_true", help="JSON lines in and out, for programs")
    c.add_argument("--user", default=os.environ.get("DVCBOT_USER", "me"), help="citizen id")
    c.add_argument("--db", default=argparse.SUPPRESS)

    d = sub.add_parser("dossiers", help="list submitted dossiers")
    d.add_argument("--json", action="store_true")
    d.add_argument("--procedure")
    d.add_argument("--db", default=argparse.SUPPRESS)

    k = sub.add_parser("catalog", help="the procedure catalogue")
    k.add_argument("action", choices=["check", "list", "law"])

    from . import cli_forms
    cli_forms.register(sub)

    from .telegram import cli as telegram_cli  # `dvcbot telegram`
    telegram_cli.register(sub)
    from .zalo import cli as zalo_cli  # `dvcbot zalo`
    zalo_cli.register(sub)

    m = sub.add_parser("db", help="database maintenance")
    m.add_argument("action", choices=["upgrade", "rotate-key", "reencrypt"],
                   help="upgrade: apply migrations; rotate-key: a new data key first in the key file, then "
                        "reencrypt; reencrypt: encrypt every sensitive value with the current (first) data key")
    m.add_argument("--db", default=argparse.SUPPRESS)
    cli_officer.register(sub)  # `dvcbot officer ...`, `dvcbot notify ...`
    from . import cli_allowance  # `dvcbot allowance ...`
    cli_allowance.register(sub)
    from . import cli_web as web_cli  # the officers' web desk: `dvcbot web`
    web_cli.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log_to: dict[str, Any] = {"stream": sys.stderr}
    if args.cmd == "chat" and not args.verbose and not getattr(args, "jsonl", False):
        # the console chat is read by a person: the log (an officer missing, a retried send) goes to a file in the
        # data folder, not between the messages; --verbose puts it back on the screen
        with contextlib.suppress(OSError):
            Path(args.var).mkdir(mode=0o700, parents=True, exist_ok=True)
            log_to = {"filename": str(Path(args.var) / "console.log")}
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", **log_to)
    from storage import keys
    keys.configure(getattr(args, "var", None))  # the generated key file lives in the data folder
    if args.now:
        from . import fakeclock
        if args.cmd not in fakeclock.COMMANDS:
            print(f"--now chỉ dùng được với: {', '.join(fakeclock.COMMANDS)} (không với `dvcbot {args.cmd}`, "
                  "nơi trợ lý nói chuyện với người thật).", file=sys.stderr)
            return 2
        try:
            args.fake_now = fakeclock.parse_now(args.now)
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(fakeclock.banner(args.fake_now), file=sys.stderr)
        try:
            return _guarded(args)
        except fakeclock.FakeClockRefused as exc:
            print(str(exc), file=sys.stderr)
            return 2
    return _guarded(args)


def _guarded(args: argparse.Namespace) -> int:
    """The command, with a data key that does not open the database said in words, not as a traceback (a
    command run with another ``--var`` than the one the database was made with reads another key file)."""
    from storage.crypto import DataKeyProblem
    try:
        return _dispatch(args)
    except DataKeyProblem as exc:
        print(f"Không đọc được dữ liệu đã mã hóa ({exc}). Hãy dùng đúng khóa dữ liệu của cơ sở dữ liệu này: "
              f"biến DVCBOT_DATA_KEYS, hoặc tệp khóa trong thư mục dữ liệu (--var, đang là "
              f"{getattr(args, 'var', None)}) nơi cơ sở dữ liệu đã được tạo.", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "chat":
        return asyncio.run(_chat(args))
    if args.cmd == "dossiers":
        return asyncio.run(_dossiers(args))
    if args.cmd == "catalog":
        return _catalog(args)
    if args.cmd == "db":
        return asyncio.run(_db_upgrade(args))
    if args.cmd == "telegram":
        from .telegram import cli as telegram_cli
        return telegram_cli.run(args)
    if args.cmd == "zalo":
        from .zalo import cli as zalo_cli
        return zalo_cli.run(args)
    if args.cmd == "web":
        from . import cli_web as web_cli
        return web_cli.run(args)
    if args.cmd == "allowance":
        from . import cli_allowance
        return cli_allowance.dispatch(args)
    if args.cmd in cli_officer.COMMANDS:
        return cli_officer.dispatch(args)
    if args.cmd == "form":
        from . import cli_forms
        return cli_forms.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
