"""`dvcbot allowance ...` — allowances paid by bank account (docs/allowances.md).

    dvcbot allowance export --commune CODE --format csv|xlsx --out FILE
        the verified list for the social-affairs office: one row per beneficiary of the commune whose
        identity the commune police confirmed and who still receives by account;
    dvcbot allowance checks --as OFFICER_ID
        open identity checks in the officer's scope (the police of a commune);
    dvcbot allowance verify CHECK_ID --as OFFICER_ID --match|--mismatch [--note TEXT]
        complete an identity check by hand (the same as “Khớp” / “Không khớp” in the officer chat);
    dvcbot allowance banks [--find TEXT]
        the bank list (name, short name, BIN) and what a typed name matches.

The export holds ID and account numbers: write it only where the office may keep it.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

COMMANDS = ("allowance",)


def register(sub: argparse._SubParsersAction) -> None:
    a = sub.add_parser("allowance", help="allowances paid by bank account: export, identity checks, banks")
    asub = a.add_subparsers(dest="allowance_cmd", required=True)
    e = asub.add_parser("export", help="the verified list of a commune, as CSV or XLSX")
    e.add_argument("--commune", required=True, help="commune code, e.g. 24958")
    e.add_argument("--format", choices=["csv", "xlsx"], default=None, help="default: from the file name")
    e.add_argument("--out", required=True, help="file to write")
    e.add_argument("--db", default=argparse.SUPPRESS)
    c = asub.add_parser("checks", help="open identity checks in an officer's scope")
    c.add_argument("--as", dest="as_id", type=int, required=True, help="acting officer id")
    c.add_argument("--db", default=argparse.SUPPRESS)
    v = asub.add_parser("verify", help="complete an identity check by hand")
    v.add_argument("check_id", type=int)
    v.add_argument("--as", dest="as_id", type=int, required=True, help="acting officer id")
    g = v.add_mutually_exclusive_group(required=True)
    g.add_argument("--match", action="store_true")
    g.add_argument("--mismatch", action="store_true")
    v.add_argument("--note")
    v.add_argument("--db", default=argparse.SUPPRESS)
    b = asub.add_parser("banks", help="the bank list, or what a typed name matches")
    b.add_argument("--find")


def dispatch(args: argparse.Namespace) -> int:
    if args.allowance_cmd == "banks":
        return _banks(args)
    return asyncio.run(_run(args))


def _banks(args) -> int:
    from dialogs import banks
    bl = banks.bank_list()
    items = banks.match(args.find) if args.find else list(bl.banks)
    for b in items:
        print(f"{b.bin}\t{b.code}\t{b.short}\t{b.name}")
    if not args.find:
        print(f"# {len(items)} — {bl.source}, {bl.as_of}", file=sys.stderr)
    return 0 if items else 1


async def _run(args) -> int:
    from sqlalchemy import select

    from storage.allowance_models import IdentityCheck
    from storage.models import Dossier, DossierLeg
    from storage.officers_repo import OfficerRepo

    from . import verification
    from .cases import ActionRefused
    from .effects import register_export
    from .service import Runtime

    async with Runtime(args.db, var_dir=args.var) as rt:
        now = rt.now()
        if args.allowance_cmd == "export":
            fmt = args.format or ("xlsx" if args.out.lower().endswith(".xlsx") else "csv")
            declared = register_export.exports(rt.catalog)
            if not declared:
                print("Không có thủ tục nào khai báo danh sách xuất.", file=sys.stderr)
                return 1
            export = declared[0]
            async with rt.sm() as db:
                rows = await register_export.rows(db, export, args.commune)
            out = Path(args.out)
            if fmt == "xlsx":
                register_export.write_xlsx(export, rows, out, commune_code=args.commune, now=now)
            else:
                register_export.write_csv(export, rows, out)
            print(f"{out}: {len(rows)} người hưởng đã xác thực ({register_export.commune_label(args.commune)})")
            return 0
        async with rt.sm() as db, db.begin():
            officer = await OfficerRepo(db).get(args.as_id)
            if officer is None or not officer.active:
                print(f"Không có cán bộ {args.as_id}.", file=sys.stderr)
                return 1
            if args.allowance_cmd == "checks":
                pending = (await db.execute(
                    select(IdentityCheck, Dossier.code).join(Dossier, Dossier.id == IdentityCheck.dossier_id)
                    .join(DossierLeg, DossierLeg.id == IdentityCheck.leg_id)
                    .where(IdentityCheck.status == verification.PENDING, DossierLeg.agency == officer.agency,
                           DossierLeg.commune_code == officer.commune_code).order_by(IdentityCheck.id))).all()
                for waiting, code in pending:
                    print(f"{waiting.id}\t{code}")
                print(f"# {len(pending)} yêu cầu xác thực đang chờ", file=sys.stderr)
                return 0
            try:
                check = await verification.record_result(db, officer, args.check_id, bool(args.match), args.note, now)
            except ActionRefused as exc:
                print(exc.text("vi"), file=sys.stderr)
                return 1
            print(f"{check.id}\t{check.status}")
            return 0
