"""`dvcbot form CODE [--out FILE.pdf] [--text]`: a stored dossier rendered as its filled official form."""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def register(subparsers) -> None:
    f = subparsers.add_parser("form", help="render a submitted dossier as the filled official form (PDF or text)")
    f.add_argument("code", help="dossier code, e.g. MT-2611-7KQ4XP9Z")
    f.add_argument("--out", help="PDF file to write (default: CODE.pdf in the current folder)")
    f.add_argument("--text", action="store_true", help="print the form as plain text instead of writing a PDF")
    f.add_argument("--db", default=argparse.SUPPRESS)


async def _load(args):
    from storage.repo import DossierRepo

    from .service import Runtime
    async with Runtime(args.db, var_dir=args.var) as rt:
        async with rt.sm() as db:
            d = await DossierRepo(db).by_code(args.code.strip())
            if d is None:
                return None
            return {"code": d.code, "procedure": d.procedure_id, "answers": dict(d.answers or {}),
                    "submitted_at": d.submitted_at}


def run(args) -> int:
    from dialogs.forms import has_form, render_pdf, render_text

    d = asyncio.run(_load(args))
    if d is None:
        print(f"Không tìm thấy hồ sơ {args.code}.", file=sys.stderr)
        return 1
    if not has_form(d["procedure"]):
        print(f"Thủ tục {d['procedure']} chưa có mẫu đơn để in.", file=sys.stderr)
        return 1
    kw = {"submitted_at": d["submitted_at"], "code": d["code"]}
    if args.text:
        sys.stdout.write(render_text(d["procedure"], d["answers"], **kw))
        return 0
    out = Path(args.out or f"{d['code']}.pdf")
    out.write_bytes(render_pdf(d["procedure"], d["answers"], **kw))
    print(out)
    return 0
