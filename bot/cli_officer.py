"""`dvcbot officer ...` and `dvcbot notify ...`: everything officers do in the chat, from the command line.

    dvcbot officer add --name "Nguyễn Thị Lan" --agency commune --commune 25222 --role receiving_desk [--focal-point]
    dvcbot officer list | invite ID
    dvcbot officer queue --as ID [--mine | --all] [--json]
    dvcbot officer show CODE --as ID [--json]
    dvcbot officer claim|release|receive|review|return CODE --as ID
    dvcbot officer supplement CODE --as ID --field PATH [--field PATH ...] --reason TEXT
    dvcbot officer approve CODE --as ID --number "12/QĐ-UBND"
    dvcbot officer reject CODE --as ID --reason TEXT
    dvcbot officer reassign CODE --as ID --to ID2
    dvcbot officer report --agency A --commune C [--date YYYY-MM-DD] [--png FILE] | --send
    dvcbot officer stats --month YYYY-MM [--agency A] [--commune C] [--json]
    dvcbot notify run [--once] [--no-daily] [--channels console[,telegram --print]] | status | retry ID

``--as`` names the acting officer (their id from ``officer list``); their agency, commune and role apply
exactly as in the chat. Every action runs in one transaction with its notifications.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
from datetime import date, datetime
from typing import Any

from storage.audit_models import AuditEntry

COMMANDS = ("officer", "notify")
ACTIONS = ("claim", "release", "receive", "review", "supplement", "approve", "reject", "return", "reassign")


def _lease(text: str) -> float:
    """``--lease SECONDS``: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 1:
        raise argparse.ArgumentTypeError("the lease is at least 1 second")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    o = sub.add_parser("officer", help="officers: register, queue, act on dossiers, reports")
    osub = o.add_subparsers(dest="officer_cmd", required=True)

    def cmd(name: str, help_: str, code: bool = False, acting: bool = False) -> argparse.ArgumentParser:
        p = osub.add_parser(name, help=help_)
        p.add_argument("--db", default=argparse.SUPPRESS)
        if code:
            p.add_argument("code", help="dossier code")
        if acting:
            p.add_argument("--as", dest="as_id", type=int, required=True, help="acting officer id")
        return p

    a = cmd("add", "register an officer and print their invite code")
    a.add_argument("--name", required=True)
    a.add_argument("--agency", required=True, choices=["commune", "police", "social_insurance", "social_affairs"],
                   help="agency key (dialogs.schema.AGENCY_KEYS)")
    a.add_argument("--commune", required=True, help="commune code")
    a.add_argument("--role", required=True, choices=["receiving_desk", "specialist", "leader"])
    a.add_argument("--focal-point", action="store_true", help="receives the daily report")
    a.add_argument("--valid-days", type=int, default=14, help="days the invite code works (at least 1)")
    a.add_argument("--force", action="store_true", help="accept a commune code not in the address data")
    a.add_argument("--json", action="store_true")
    lst = cmd("list", "list officers")
    lst.add_argument("--agency")
    lst.add_argument("--commune")
    lst.add_argument("--json", action="store_true")
    inv = cmd("invite", "issue a new invite code for an officer")
    inv.add_argument("officer_id", type=int)
    de = cmd("deactivate", "take an officer off duty at once (lost phone, transfer): chat, web and invite stop")
    de.add_argument("officer_id", type=int)
    se = cmd("set", "change an officer's role or focal-point duty")
    se.add_argument("officer_id", type=int)
    se.add_argument("--role", choices=["receiving_desk", "specialist", "leader"])
    se.add_argument("--focal-point", dest="focal_point", action=argparse.BooleanOptionalAction, default=None,
                    help="receives the daily report (--no-focal-point to stop)")
    q = cmd("queue", "the acting officer's queue", acting=True)
    q.add_argument("--mine", action="store_true")
    q.add_argument("--all", action="store_true", help="include closed dossiers")
    q.add_argument("--json", action="store_true")
    s = cmd("show", "show a dossier", code=True, acting=True)
    s.add_argument("--json", action="store_true")
    cmd("claim", "claim a dossier", code=True, acting=True)
    cmd("release", "give a claimed dossier back to the queue", code=True, acting=True)
    r = cmd("receive", "receive a dossier (one-stop desk)", code=True, acting=True)
    r.add_argument("--note")
    cmd("review", "start reviewing a dossier", code=True, acting=True)
    sp = cmd("supplement", "ask the citizen for specific fields or documents", code=True, acting=True)
    sp.add_argument("--field", action="append", required=True, help="answer path, repeatable")
    sp.add_argument("--reason", required=True)
    sp.add_argument("--days", type=int, help="working days the citizen has (default DVCBOT_SUPPLEMENT_DAYS or 10)")
    ap = cmd("approve", "approve, with the result number", code=True, acting=True)
    ap.add_argument("--number", required=True)
    rj = cmd("reject", "reject, with the reason", code=True, acting=True)
    rj.add_argument("--reason", required=True)
    rt = cmd("return", "the result was returned to the citizen", code=True, acting=True)
    rt.add_argument("--note")
    ra = cmd("reassign", "give a dossier to another officer (leaders)", code=True, acting=True)
    ra.add_argument("--to", type=int, required=True)
    ra.add_argument("--reason")
    rp = cmd("report", "the daily report of an agency (or, with --linked, of every agency for the linked "
                       "groups) and commune")
    rp.add_argument("--agency")
    rp.add_argument("--linked", action="store_true", help="the commune-wide report of the linked groups")
    rp.add_argument("--commune")
    rp.add_argument("--date", type=date.fromisoformat)
    rp.add_argument("--today", action="store_true", help="cover today so far instead of the previous working day")
    rp.add_argument("--png", help="write the chart to this file")
    rp.add_argument("--send", action="store_true", help="queue a report of today so far for every focal point now")
    st = cmd("stats", "statistics of dossiers handled: a month with the year to date, a year, or a period")
    period = st.add_mutually_exclusive_group(required=True)
    period.add_argument("--month", help="YYYY-MM (with the year to date)")
    period.add_argument("--year", type=int)
    period.add_argument("--from", dest="date_from", type=date.fromisoformat, help="YYYY-MM-DD (with --to)")
    st.add_argument("--to", dest="date_to", type=date.fromisoformat, help="YYYY-MM-DD, excluded")
    st.add_argument("--level", choices=["dossier", "leg"], default="dossier",
                    help="count whole dossiers (default) or each agency's part")
    st.add_argument("--by", choices=["procedure", "agency", "commune"], default="procedure")
    st.add_argument("--agency")
    st.add_argument("--commune")
    st.add_argument("--json", action="store_true")
    st.add_argument("--csv", help="write the table to this CSV file")
    st.add_argument("--xlsx", help="write the table to this XLSX file")

    n = sub.add_parser("notify", help="deliver notifications (the outbox)")
    nsub = n.add_subparsers(dest="notify_cmd", required=True)
    run = nsub.add_parser("run", help="deliver, and run the scheduled jobs (reports, deadline pushes, draft reminders)")
    run.add_argument("--db", default=argparse.SUPPRESS)
    run.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    run.add_argument("--channels", default="console",
                     help="channels to deliver, comma-separated (printed to the console); Telegram and Zalo rows "
                          "are delivered by `dvcbot telegram` / `dvcbot zalo`")
    run.add_argument("--print", dest="print_other", action="store_true",
                     help="with --channels telegram/zalo: print those rows here and mark them delivered "
                          "(they will NOT reach the chats)")
    run.add_argument("--no-daily", action="store_true", help="skip the scheduled jobs")
    run.add_argument("--lease", type=_lease, default=os.environ.get("DVCBOT_NOTIFY_LEASE") or "120",
                     metavar="SECONDS",
                     help="how long a claimed notification is held before another notifier may take it over, "
                          "i.e. how long a crashed notifier's rows wait (default 120, or $DVCBOT_NOTIFY_LEASE); "
                          "keep it longer than the slowest send: a send outliving it is marked uncertain, never "
                          "sent twice")
    sts = nsub.add_parser("status", help="outbox counts by status")
    sts.add_argument("--db", default=argparse.SUPPRESS)
    rtr = nsub.add_parser("retry", help="send a failed notification again")
    rtr.add_argument("id", type=int)
    rtr.add_argument("--db", default=argparse.SUPPRESS)


def dispatch(args: argparse.Namespace) -> int:
    if args.cmd == "officer":
        return asyncio.run(_officer(args))
    return asyncio.run(_notify(args))


def _runtime(args):
    from .fakeclock import cli_runtime
    return cli_runtime(args)


def _cli_actor() -> str:
    """The shell user acting, as recorded in the audit trail: "cli:<os user>"."""
    import getpass
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _out(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


async def _officer(args: argparse.Namespace) -> int:
    from . import cases as off
    from .cases import ActionRefused
    async with _runtime(args) as rt:
        try:
            async with rt.sm() as db, db.begin():
                return await _officer_cmd(args, rt, db, off)
        except ActionRefused as exc:
            print("Từ chối: " + exc.text("vi"), file=sys.stderr)
            return 1


async def _acting(db, args, off):
    from storage.officers_repo import OfficerRepo
    o = await OfficerRepo(db).get(args.as_id)
    if o is None or not o.active:
        raise off.ActionRefused("Không có cán bộ số {id}.", "not_found", id=args.as_id)
    return o


async def _officer_cmd(args, rt, db, off) -> int:
    from dialogs import lifecycle as lc
    from dialogs.i18n import translator
    from dialogs.messages import Incoming
    from storage.officers_repo import LegRepo, OfficerRepo

    from . import reports
    from .officer_chat.router import officer_chat_of
    now, cal, cat = rt.now(), rt.calendar, rt.catalog
    c = args.officer_cmd
    if c == "add":
        from dialogs.address import commune
        if commune(args.commune.strip()) is None and not args.force:
            print(f"Không có xã, phường mã {args.commune} trong dữ liệu địa chỉ; hồ sơ được chia theo mã xã của "
                  "địa chỉ nên cán bộ này sẽ không thấy hồ sơ nào. Kiểm tra lại mã, hoặc thêm --force nếu chắc "
                  "chắn.", file=sys.stderr)
            return 2
        o, code = await off.add_officer(db, full_name=args.name, agency=args.agency, commune_code=args.commune,
                                        role=args.role, focal_point=args.focal_point, now=now,
                                        valid_days=args.valid_days)
        if args.json:
            _out({"id": o.id, "invite_code": code, "expires_at": o.invite_expires_at})
        else:
            if commune(o.commune_code) is None:
                print(f"Lưu ý: không có xã, phường mã {o.commune_code}; hồ sơ được chia theo mã xã của địa chỉ.",
                      file=sys.stderr)
            print(f"Cán bộ số {o.id}: {o.full_name} ({args.role}, "
                  f"{off.unit_text(o.agency, o.commune_code, translator('vi'))}).")
            print(f"Mã mời (gửi cho trợ lý trong chat, dùng một lần): {code}")
        return 0
    if c == "list":
        rows = await OfficerRepo(db).list(agency=args.agency, commune_code=args.commune)
        data = [{"id": o.id, "name": o.full_name, "agency": o.agency, "commune": o.commune_code, "role": o.role,
                 "focal_point": o.focal_point, "active": o.active, "chat": o.user_key,
                 "invite_pending": o.invite_hash is not None} for o in rows]
        if args.json:
            _out(data)
        else:
            for d in data:
                print(f"{d['id']:>4}  {d['name']}  {d['role']}  {d['agency']}/{d['commune']}"
                      f"{'  [đầu mối]' if d['focal_point'] else ''}  {d['chat'] or '(chưa kích hoạt)'}")
        return 0
    if c == "invite":
        code = await off.new_invite(db, args.officer_id, now)
        print(f"Mã mời mới: {code}")
        return 0
    if c == "deactivate":
        o = await off.deactivate_officer(db, args.officer_id, now, calendar=cal)
        db.add(AuditEntry(at=now, actor_key=_cli_actor(), action="officer.deactivate", subject=str(o.id)))
        print(f"Cán bộ số {o.id} ({o.full_name}) đã ngừng hoạt động: chat và phiên web không còn quyền cán bộ; "
              "hồ sơ đang giữ đã trả về hàng đợi (hồ sơ chờ bổ sung do lãnh đạo giao lại).")
        return 0
    if c == "set":
        o = await off.set_officer(db, args.officer_id, role=args.role, focal_point=args.focal_point)
        db.add(AuditEntry(at=now, actor_key=_cli_actor(), action="officer.set", subject=str(o.id),
                          details={"role": o.role, "focal_point": o.focal_point}))
        print(f"Cán bộ số {o.id}: {o.role}{', đầu mối' if o.focal_point else ''}.")
        return 0
    if c == "report":
        if args.send:
            n = await reports.enqueue_daily_reports(db, now, calendar=cal, catalog=cat, force=True)
            print(f"Đã xếp {n} báo cáo (từ đầu ngày đến giờ) vào hàng gửi.")
            return 0
        if not (args.agency or args.linked) or not args.commune:
            print("Cần --agency (hoặc --linked) và --commune (hoặc --send).", file=sys.stderr)
            return 2
        day = args.date or cal.today(now)
        agency = None if args.linked else args.agency
        report = await reports.daily_report(db, agency, args.commune, day, now, calendar=cal, catalog=cat,
                                            so_far=args.today,
                                            procedures=reports.linked_procedures(cat) if args.linked else None)
        text = reports.report_text(agency, args.commune, day, report)
        print(text)
        if args.png:
            with open(args.png, "wb") as fh:
                fh.write(reports.report_chart(report.rows, text.splitlines()[0].replace("📊 ", "")))
        return 0
    if c == "stats":
        return await _stats(db, args, cal, cat, now)

    officer = await _acting(db, args, off)
    off.acting_via.set(_cli_actor())  # the audit trail records the operator, not the officer's chat
    if c == "queue":
        rows = await off.queue(db, officer, include_closed=args.all, mine=args.mine)
        data = [{"code": d.code, "procedure": d.procedure_id, "status": leg.status,
                 "due_date": off.effective_due(leg, cal, now).isoformat(),
                 "days_left": off.days_left(off.effective_due(leg, cal, now), cal, now),
                 "deadline": off.deadline_class(leg, cal, now), "claimed_by": leg.claimed_by} for leg, d in rows]
        if args.json:
            _out(data)
        else:
            for d in data:
                print(f"{d['code']}  {d['procedure']}  {d['status']}  hạn {d['due_date']} ({d['days_left']})  "
                      f"{d['deadline']}  {d['claimed_by'] or '-'}")
            if not data:
                print("Không có hồ sơ nào.")
        return 0
    if c == "show":
        d, leg = await off.scoped(db, officer, args.code, lock=False)
        if args.json:
            from storage.officers_repo import SupplementRepo
            from storage.repo import dossier_to_dict

            from .cases.links import parts as leg_parts
            full = await LegRepo(db).dossier(d.code)
            assert full is not None  # scoped() found it in this transaction
            shown = dossier_to_dict(full)
            supp = await SupplementRepo(db).latest_for_leg(leg.id)
            shown["leg"] = {"status": leg.status, "due_date": off.effective_due(leg, cal, now).isoformat(),
                           "claimed_by": leg.claimed_by, "result_number": leg.result_number,
                           "timeliness": leg.timeliness, "paused_workdays": leg.paused_workdays}
            shown["legs"] = [{"seq": p.leg.seq, "agency": p.leg.agency, "part": p.title, "status": p.leg.status,
                              "result_number": p.leg.result_number, "waits_for": p.waits_for,
                              "mine": p.leg.id == leg.id} for p in await leg_parts(db, d, cat, cal)]
            shown["supplement"] = None if supp is None else {"id": supp.id, "fields": supp.fields,
                                                             "reason": supp.reason, "status": supp.status,
                                                             "changes": supp.changes}
            _out(shown)
        else:
            chat = officer_chat_of(rt.pipeline)
            replies = await chat.handle(db, officer, Incoming(choice=f"open:{d.code}"), now, calendar=cal, catalog=cat)
            print(replies[0].text)
        return 0
    code = args.code
    if c == "claim":
        await off.claim(db, officer, code, now, calendar=cal)
    elif c == "release":
        await off.release(db, officer, code, now, calendar=cal)
    elif c == "receive":
        await off.receive(db, officer, code, now, note=args.note, calendar=cal, catalog=cat)
    elif c == "review":
        await off.review(db, officer, code, now, calendar=cal, catalog=cat)
    elif c == "supplement":
        await off.request_supplement(db, officer, code, args.field, args.reason, now, calendar=cal, catalog=cat,
                                     days=args.days)
    elif c == "approve":
        await off.approve(db, officer, code, args.number, now, calendar=cal, catalog=cat)
    elif c == "reject":
        await off.reject(db, officer, code, args.reason, now, calendar=cal, catalog=cat)
    elif c == "return":
        await off.return_result(db, officer, code, now, note=args.note, calendar=cal, catalog=cat)
    elif c == "reassign":
        await off.reassign(db, officer, code, args.to, now, reason=args.reason, calendar=cal)
    else:  # pragma: no cover
        return 2
    _d, leg = await off.scoped(db, officer, code, lock=False)
    print(f"{code}: {translator('vi')(lc.STATUS_LABELS[leg.status])} ({leg.status})")
    return 0


async def _stats(db: Any, args: argparse.Namespace, cal: Any, cat: Any, now: datetime) -> int:
    from . import stats
    ytd = None
    if args.month:
        y, m = (int(x) for x in args.month.split("-", 1))
        start, end = stats.month_bounds(y, m)
        title = f"Tình hình giải quyết thủ tục hành chính tháng {m:02d}/{y}"
    elif args.year:
        start, end = date(args.year, 1, 1), date(args.year + 1, 1, 1)
        title = f"Tình hình giải quyết thủ tục hành chính năm {args.year}"
    else:
        if args.date_to is None or args.date_to <= args.date_from:
            print("Cần --to sau --from.", file=sys.stderr)
            return 2
        start, end = args.date_from, args.date_to
        title = f"Tình hình giải quyết thủ tục hành chính từ {start:%d/%m/%Y} đến trước {end:%d/%m/%Y}"
    kw = dict(level=args.level, agency=args.agency, commune_code=args.commune, calendar=cal, catalog=cat, now=now)
    rows = await stats.period_stats(db, start, end, group_by=args.by, **kw)
    if args.month:
        ytd = (await stats.period_stats(db, date(start.year, 1, 1), end, **kw))[-1].counts
    if args.csv:
        with open(args.csv, "wb") as fh:
            fh.write(stats.to_csv(rows))
    if args.xlsx:
        with open(args.xlsx, "wb") as fh:
            fh.write(stats.to_xlsx(rows, title))
    if args.json:
        _out([r.as_dict() for r in rows])
    elif not (args.csv or args.xlsx):
        print(stats.stats_text(rows, title, level=args.level, ytd=ytd, ytd_month=start.month if args.month else None))
    return 0


async def _notify(args: argparse.Namespace) -> int:
    from storage.officers_repo import OutboxRepo

    from . import formcopy
    from .jobs import standard_jobs
    from .notifier import ConsoleSender, Notifier
    from .service import settle_heap
    async with _runtime(args) as rt:
        if args.notify_cmd == "status":
            async with rt.sm() as db:
                counts = await OutboxRepo(db).counts()
            for k in ("pending", "claimed", "sending", "delivered", "failed"):
                print(f"{k:10s} {counts.get(k, 0)}")
            return 0
        if args.notify_cmd == "retry":
            async with rt.sm() as db, db.begin():
                ok = await OutboxRepo(db).retry(args.id, rt.now())
            print("Đã xếp lại để gửi." if ok else "Không có thông báo lỗi với số này.")
            return 0 if ok else 1
        channels = [c.strip() for c in args.channels.split(",") if c.strip()]
        other = [c for c in channels if c != "console"]
        if other and not args.print_other:  # printing would mark them delivered: they would never reach the chat
            print(f"Thông báo kênh {', '.join(other)} do tiến trình `dvcbot {other[0]}` gửi; ở đây chúng chỉ được in "
                  "ra màn hình và đánh dấu là đã gửi. Thêm --print nếu thật sự muốn vậy.", file=sys.stderr)
            return 2
        notifier = Notifier(rt.sm, [ConsoleSender(ch, image_dir=rt.var_dir / "outbox", locate=rt.attachments.locate)
                                    for ch in channels], now=rt.now, lease=args.lease, write=rt.orm_write)
        formcopy.attach(notifier, rt)  # form copies: rendered, then printed with their path
        jobs = standard_jobs(rt.sm, calendar=rt.calendar, catalog=rt.catalog, now=rt.now,
                             attachments=rt.attachments,
                             on_done=lambda name, done: print(f"[lịch] {name}: {done}", file=sys.stderr))

        async def tick() -> None:
            if not args.no_daily:
                await jobs()

        try:
            if args.once:
                await tick()
                stats = await notifier.drain()
                print(f"delivered={stats.delivered} retried={stats.retried} failed={stats.failed} "
                      f"uncertain={stats.uncertain}", file=sys.stderr)
                return 0
            settle_heap()
            with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
                await notifier.run(tick=tick)
            return 0
        finally:
            await jobs.aclose()
