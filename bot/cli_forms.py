"""`dvcbot form CODE [--leg LEG] [--out FILE.pdf] [--text]`: a stored dossier rendered as its filled official form
(``--leg``: the form of one leg of a linked procedure)."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC
from pathlib import Path


def register(subparsers) -> None:
    f = subparsers.add_parser("form", help="render a submitted dossier as the filled official form (PDF or text)")
    f.add_argument("code", help="dossier code, e.g. MT-2611-7KQ4XP9Z")
    f.add_argument("--out", help="PDF file to write (default: CODE.pdf in the current folder)")
    f.add_argument("--text", action="store_true", help="print the form as plain text instead of writing a PDF")
    f.add_argument("--leg", help="a linked procedure's leg (e.g. residence): render that agency's form")
    f.add_argument("--db", default=argparse.SUPPRESS)


async def _load(args):
    from storage.repo import DossierRepo

    from .service import Runtime
    async with Runtime(args.db, var_dir=args.var) as rt, rt.sm() as db:
        d = await DossierRepo(db).by_code(args.code.strip())
        if d is None:
            return None
        from sqlalchemy import select

        from storage.models import DossierLeg
        received = list((await db.execute(select(DossierLeg.received_at)
                                          .where(DossierLeg.dossier_id == d.id))).scalars())
        return {"code": d.code, "procedure": d.procedure_id, "answers": dict(d.answers or {}),
                "submitted_at": d.submitted_at,
                # the form version in force on the desk's receipt (one-leg dossiers; else the submission day)
                "received_at": received[0] if len(received) == 1 else None}


def run(args) -> int:
    from dialogs.forms import has_form, render_pdf, render_text

    d = asyncio.run(_load(args))
    if d is None:
        print(f"Không tìm thấy hồ sơ {args.code}.", file=sys.stderr)
        return 1
    kw = {"submitted_at": d["submitted_at"], "code": d["code"]}
    if d["received_at"] is not None:
        from dialogs.forms.render import VN_TZ
        at = d["received_at"] if d["received_at"].tzinfo else d["received_at"].replace(tzinfo=UTC)
        kw["on"] = at.astimezone(VN_TZ).date()
    if getattr(args, "leg", None):  # a linked procedure: the leg's own form (legs[].forms)
        from dialogs.catalog import Catalog
        cat = Catalog.default()
        legs = {leg.id: leg for leg in cat.get(d["procedure"]).legs} if d["procedure"] in cat.procedures else {}
        leg = legs.get(args.leg)
        if leg is None or not leg.forms:
            print(f"Thủ tục {d['procedure']} không có phần {args.leg} có mẫu đơn để in "
                  f"(các phần có mẫu: {', '.join(k for k, v in legs.items() if v.forms) or 'không có'}).",
                  file=sys.stderr)
            return 1
        kw["template"] = leg.forms[0]
    elif not has_form(d["procedure"]):
        from dialogs.catalog import Catalog
        cat = Catalog.default()
        parts = [leg.id for leg in cat.get(d["procedure"]).legs if leg.forms] \
            if d["procedure"] in cat.procedures else []
        hint = f" Thủ tục liên thông: in mẫu của từng phần với --leg ({', '.join(parts)})." if parts else ""
        print(f"Thủ tục {d['procedure']} chưa có mẫu đơn để in.{hint}", file=sys.stderr)
        return 1
    if args.text:
        sys.stdout.write(render_text(d["procedure"], d["answers"], **kw))
        return 0
    out = Path(args.out or (f"{d['code']}-{args.leg}.pdf" if getattr(args, "leg", None) else f"{d['code']}.pdf"))
    out.write_bytes(render_pdf(d["procedure"], d["answers"], **kw))
    print(out)
    return 0
