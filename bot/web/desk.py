"""The desk's pages: the queue (filters, search by POST, sort, pages), a dossier (answers, legs, audit trail,
attachments, the filled form), its actions, and the receipt to print."""
from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aiohttp import web

from dialogs import lifecycle as lc
from dialogs.form import follows
from dialogs.i18n import N_, Translator, translator
from dialogs.kinds import display
from dialogs.textnorm import vi_sort_key
from storage.db import reading
from storage.models import Dossier, DossierLeg, Officer

from . import actions as act
from .app import CONFIG, FORM, OFFICER, RUNTIME, lang_of, refuse, render

FILTERS = act.FILTERS
SORTS = [("due", N_("Hạn giải quyết")), ("submitted", N_("Ngày nộp")), ("code", N_("Mã hồ sơ")),
         ("status", N_("Trạng thái")), ("procedure", N_("Thủ tục"))]
#: what the desk serves inline, by the type we recorded at upload (never what the file claims to be)
INLINE_TYPES = {"image/jpeg": "image/jpeg", "image/png": "image/png", "application/pdf": "application/pdf"}
SHA_RE = re.compile(r"^[0-9a-f]{64}$")




@dataclass
class Row:
    code: str
    title: str
    part: str | None
    applicant: str
    status: str
    status_label: str
    due: date
    left: int | None
    left_text: str
    flag: str
    who: str
    submitted: datetime


def _pick(value: str | None, allowed: list[tuple[str, str]], default: str) -> str:
    return value if value in {k for k, _l in allowed} else default


async def _rows(request: web.Request, officer: Officer, params: dict[str, str], q: str = "") -> dict[str, Any]:
    rt = request.app[RUNTIME]
    _ = translator(lang_of(request))
    now = rt.now()
    cal, cat = rt.calendar, rt.catalog
    f = _pick(params.get("f"), FILTERS, "open")
    sort = _pick(params.get("sort"), SORTS, "due")
    desc = params.get("dir") == "desc"
    proc = params.get("proc") or ""
    status = params.get("status") or ""
    async with reading(rt.sm) as db:
        legs = await act.find_legs(db, officer, f=f, q=q, calendar=cal, now=now, include_closed=status in lc.CLOSED)
        who = await act.names(db, {leg.claimed_by for leg, _d in legs if leg.claimed_by})
    procs = sorted({d.procedure_id for _l, d in legs})
    rows: list[Row] = []
    for leg, d in legs:
        due = act.effective_due(leg, cal, now)
        running = leg.status in lc.CLOCK_RUNNING
        if proc and d.procedure_id != proc:
            continue
        if status and leg.status != status:
            continue
        left = act.days_left(due, cal, now) if leg.status not in lc.CLOSED else None
        cls = cal.classify(due, None, now) if running else None
        rows.append(Row(d.code, act.proc_title(d, cat, _), act.part_title(d, leg, cat, _),
                        d.applicant_name or _("(chưa rõ)"), leg.status, _(lc.STATUS_LABELS[leg.status]), due, left,
                        act.left_text(left, leg, _), cls or "",
                        _("bạn") if leg.claimed_by == officer.id else who.get(leg.claimed_by, _("chưa ai nhận")),
                        d.submitted_at))
    key = {"due": lambda r: (r.due, r.code), "submitted": lambda r: (r.submitted, r.code),
           "code": lambda r: r.code, "status": lambda r: (lc.PROGRESS.get(r.status, 0), r.due),
           "procedure": lambda r: (vi_sort_key(r.title), r.due)}[sort]
    rows.sort(key=key, reverse=desc)
    size = request.app[CONFIG].page_size
    pages = max(1, math.ceil(len(rows) / size))
    try:
        page = min(max(1, int(params.get("page") or 1)), pages)
    except ValueError:
        page = 1
    return {"rows": rows[(page - 1) * size: page * size], "total": len(rows), "page": page, "pages": pages,
            "f": f, "sort": sort, "dir": "desc" if desc else "asc", "proc": proc, "status": status,
            "procs": sorted(((p, _(cat.get(p).title) if p in cat.procedures else p) for p in procs),
                           key=lambda pt: vi_sort_key(pt[1])),
            "filters": FILTERS, "sorts": SORTS, "statuses": [(s, lc.STATUS_LABELS[s]) for s in lc.STATUSES],
            "unit": act.unit_text(officer.agency, officer.commune_code, _), "searched": bool(q), "q": q}


async def queue_page(request: web.Request) -> web.StreamResponse:
    data = await _rows(request, request[OFFICER], dict(request.query))
    return render(request, "queue.html", **data)


async def queue_search(request: web.Request) -> web.StreamResponse:
    """Search terms come by POST, so a name, phone or ID number never lands in a URL or an access log."""
    form = request[FORM]
    params = {k: str(form.get(k, "")) for k in ("f", "sort", "dir", "proc", "status", "page")}
    q = str(form.get("q", ""))[:100]
    data = await _rows(request, request[OFFICER], params, q=q)
    return render(request, "queue.html", **data)


# -- a dossier ----------------------------------------------------------------------------------------
def _answers(d: Dossier, leg: DossierLeg, rt, _: Translator) -> list[tuple[str, list[tuple[str, str]]]]:
    form = rt.catalog.form(d.procedure_id) if d.procedure_id in rt.catalog.forms else None
    answers = d.answers or {}
    out: list[tuple[str, list[tuple[str, str]]]] = []
    if form is None:
        return [(_("Câu trả lời"), [(k, str(v)) for k, v in answers.items()])]
    own = act.leg_sections(d, leg, rt.catalog, rt.calendar)  # a linked dossier's part sees its own sections only
    for slot in form.slots(answers, rt.calendar.today(rt.now())):
        if slot.synthetic or slot.path not in answers or slot.field.kind == "attachment":
            continue
        if own is not None and slot.section.id not in own:
            continue
        title = _(slot.section.title)
        if slot.index is not None:
            title += f" — {_(slot.section.repeat.item_label)} {slot.index + 1}"
        if not out or out[-1][0] != title:
            out.append((title, []))
        shown = display(slot.field, answers[slot.path], _)
        if leg.agency != d.agency and slot.field.kind == "bank_account":
            shown = "•••• " + str(answers[slot.path])[-4:]  # as in the chat: another agency needs no account
        out[-1][1].append((_(slot.field.summary_label), shown))
    return out


def _files(d: Dossier, rt, _: Translator) -> list[dict[str, Any]]:
    form = rt.catalog.form(d.procedure_id) if d.procedure_id in rt.catalog.forms else None
    out = []
    for path, value in (d.answers or {}).items():
        f = form.field(path) if form is not None else None
        if f is None or f.kind != "attachment" or not isinstance(value, list):
            continue
        for k, a in enumerate(value, 1):
            if isinstance(a, dict) and isinstance(a.get("sha256"), str) and SHA_RE.match(a["sha256"]):
                out.append({"label": f"{act.field_label(d, path, rt.catalog, _)} ({k})", "sha": a["sha256"],
                            "mime": INLINE_TYPES.get(a.get("mime", ""), "application/octet-stream"),
                            "size_kb": max(1, int(a.get("size", 0) or 0) // 1024)})
    return out


async def _present(rt, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``files`` with ``present`` (still in the store), asked off the event loop: a bucket answers over the
    network."""
    shas = [f["sha"] for f in files]
    here = await asyncio.to_thread(lambda: {s for s in shas if rt.attachments.exists(s)})
    return [dict(f, present=f["sha"] in here) for f in files]


async def dossier_page(request: web.Request, *, step: str | None = None, status: int = 200,
                       **extra: Any) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    officer: Officer = request[OFFICER]
    _ = translator(lang_of(request))
    code = request.match_info["code"]
    now = rt.now()
    async with reading(rt.sm) as db:
        try:
            d, leg = await act.scoped(db, officer, code)
        except act.ActionRefused as exc:
            return refuse(request, exc.text(lang_of(request)), 404)
        legs = await act.legs_of(db, d)
        linked = await act.parts(db, d, rt.catalog, rt.calendar)
        events = await act.events(db, d)
        supp = await act.latest_supplement(db, leg)
        people = await act.names(db, {x.claimed_by for x in legs if x.claimed_by})
        targets = await act.reassign_targets(db, leg, officer) if step == "reassign" else []
        slips = [(k, _(act.SLIP_TITLES[k])) for k in await act.available_slips(db, d, leg)]
        again = await act.reappointed(db, d, leg)
    due = act.effective_due(leg, rt.calendar, now)
    left = act.days_left(due, rt.calendar, now) if leg.status not in lc.CLOSED else None
    waits = {p.leg.id: p.waits_for for p in linked if p.waits_for and p.leg.status not in lc.CLOSED}
    leg_rows = [{"seq": x.seq, "agency": _(lc.AGENCY_LABELS.get(x.agency, x.agency)),
                 "part": act.part_title(d, x, rt.catalog, _), "status": _(lc.STATUS_LABELS[x.status]),
                 "due": act.effective_due(x, rt.calendar, now), "result": x.result_number, "mine": x.id == leg.id,
                 "who": people.get(x.claimed_by, ""),
                 "waits": _("chờ kết quả “{part}”", part=_(waits[x.id])) if x.id in waits else ""} for x in legs]
    mine = next((p for p in linked if p.leg.id == leg.id), None)
    ev_rows = [{"at": rt.calendar.to_local(e.at), "what": _(lc.event_label(e.action) or e.action)
                if e.action else _(lc.STATUS_LABELS.get(e.to_status, e.to_status)),
                "status": _(lc.STATUS_LABELS.get(e.to_status, e.to_status)),
                "role": _(lc.ROLE_LABELS.get(e.role, e.role)),
                "unit": act.unit_text(*e.unit.split("/", 1), _) if e.unit and "/" in e.unit else "",
                "reason": e.reason, "number": (e.data or {}).get("result_number")} for e in events]
    supp_view = None
    if supp is not None:
        supp_view = {"status": supp.status, "reason": supp.reason,
                     "items": [act.field_label(d, p, rt.catalog, _) for p in supp.fields],
                     "changes": [(act.field_label(d, p, rt.catalog, _), c.get("before"), c.get("after"))
                                 for p, c in (supp.changes or {}).items()]}
    from dialogs.forms.render import has_form
    ctx = dict(
        d=d, leg=leg, title=act.proc_title(d, rt.catalog, _), part=act.part_title(d, leg, rt.catalog, _),
        about=act.subject(d, rt.catalog, _), follows=follows(d.answers or {}),
        status_label=_(lc.STATUS_LABELS[leg.status]), due=due, left_text=act.left_text(left, leg, _),
        overdue=leg.status in lc.CLOCK_RUNNING and left is not None and left < 0,
        claimant=_("bạn") if leg.claimed_by == officer.id else people.get(leg.claimed_by, _("chưa ai nhận")),
        submitted=rt.calendar.to_local(d.submitted_at), legs=leg_rows, events=ev_rows, supp=supp_view,
        sections=_answers(d, leg, rt, _), files=await _present(rt, _files(d, rt, _)),
        has_form=bool(_form_template(d, leg, rt)) or (act.leg_forms(d, leg, rt.catalog, rt.calendar) is None
                                                      and has_form(d.procedure_id)),
        actions=[(act.VERB[a], _(lc.ACTION_LABELS[a]))
                 for a in act.available(officer, leg, waiting=leg.id in waits)], step=step,
        waiting=_("⏳ Phần việc này chờ kết quả “{part}”: chỉ duyệt và trả kết quả được khi đã có kết quả.",
                  part=_(waits[leg.id])) if leg.id in waits else "",
        upstream=[_("📌 Đã có kết quả “{part}” số {number}, có thể xử lý.", part=_(t), number=n)
                  for t, n in (mine.upstream if mine is not None and leg.status not in lc.CLOSED else ())],
        groups=act.requestable(d, rt.catalog, rt.calendar.today(now), _, leg, rt.calendar)
        if step == "supplement" else [],
        targets=[(o.id, f"{o.full_name} ({_(lc.ROLE_LABELS[o.role])})") for o in targets],
        receipt=leg.received_at is not None, values={"reason": "", "number": "", "items": [], "target": ""},
        slips=slips, reappointed=again, apology={"reason": "", "new_date": ""},
        can_apologise=act.can_apologise(officer, leg, rt.calendar, now))
    ctx.update(extra)
    return render(request, "dossier.html", http_status=status, **ctx)


async def dossier_get(request: web.Request) -> web.StreamResponse:
    return await dossier_page(request)


#: actions that ask for something first (a form on the dossier page), and those confirmed a second time
ASKS = {"supplement", "approve", "reject", "reassign"}
CONFIRMS = {"approve", "reject"}


async def act_post(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    officer: Officer = request[OFFICER]
    lang = lang_of(request)
    _ = translator(lang)
    verb = request.match_info["verb"]
    code = request.match_info["code"]
    form = request[FORM]
    action = act.ACTIONS.get(verb)
    if action is None:
        raise web.HTTPNotFound()
    try:
        version = int(str(form.get("v", "")))
    except ValueError:
        version = None
    reason = str(form.get("reason", "")).strip()[:2000]
    number = str(form.get("number", "")).strip()[:80]
    items = [str(x) for x in form.getall("item", [])]
    target = str(form.get("target", ""))
    values = {"reason": reason, "number": number, "items": items, "target": target}
    # the first click on an action that needs input opens its form (the chat's follow-up question)
    if verb in ASKS and form.get("stage") != "submit" and form.get("stage") != "confirm":
        refusal = None
        async with reading(rt.sm) as db:  # closed before the page is drawn (SQLite: one writer at a time)
            try:
                d_, leg = await act.scoped(db, officer, code)
                act.perform_check(officer, leg, action, await act.waiting_title(db, d_, leg, rt.catalog, rt.calendar))
            except act.ActionRefused as exc:
                refusal = exc.text(lang)
        if refusal is not None:
            return await dossier_page(request, error=refusal, status=409)
        return await dossier_page(request, step=verb, values=values)
    if verb in CONFIRMS and form.get("stage") == "submit":  # approve and reject are confirmed, as in the chat
        missing = (not number) if verb == "approve" else (not reason)
        if missing:
            msg = _("Vui lòng nhập số, ký hiệu văn bản kết quả.") if verb == "approve" \
                else _("Vui lòng nhập lý do (người dân sẽ đọc lý do này).")
            return await dossier_page(request, step=verb, values=values, error=msg, status=422)
        return await dossier_page(request, step=verb + "_confirm", values=values)
    try:
        async with rt.sm() as db, db.begin():
            msg, params = await act.perform(
                db, officer, action, code, rt.now(), calendar=rt.calendar, catalog=rt.catalog, version=version,
                reason=reason or None, result_number=number or None, items=items,
                target=int(target) if target.isdigit() else None)
    except act.ActionRefused as exc:
        step = verb if verb in ASKS and exc.code in ("reason", "number", "fields", "target") else None
        return await dossier_page(request, step=step, values=values, error=exc.text(lang), status=409)
    return await dossier_page(request, done="✅ " + _(msg, **params))


async def file_get(request: web.Request) -> web.StreamResponse:
    """An attachment of a dossier in the officer's scope, with our recorded type, never sniffed."""
    rt = request.app[RUNTIME]
    sha = request.match_info["sha"]
    if not SHA_RE.match(sha):
        raise web.HTTPNotFound()
    async with reading(rt.sm) as db:
        try:
            d, _leg = await act.scoped(db, request[OFFICER], request.match_info["code"])
        except act.ActionRefused as exc:
            return refuse(request, exc.text(lang_of(request)), 404)
    hit = next((f for f in _files(d, rt, translator("vi")) if f["sha"] == sha), None)
    if hit is None:
        raise web.HTTPNotFound()
    try:
        data = await asyncio.to_thread(rt.attachments.get, sha)
    except OSError:  # deleted (the citizen's /xoadulieu, a draft's expiry), damaged, or the store unreachable
        raise web.HTTPNotFound() from None
    inline = hit["mime"] in INLINE_TYPES.values()
    headers = {"Content-Disposition": "inline" if inline else f'attachment; filename="{d.code}.bin"',
               "Cache-Control": "private, no-store"}
    if hit["mime"] != "application/pdf":  # an image, or a download: nothing in it may run or load
        headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return web.Response(body=data, content_type=hit["mime"], headers=headers)


async def form_pdf(request: web.Request) -> web.StreamResponse:
    """The filled official form, rendered now from the answers (dialogs/forms), in the worker process."""
    from dialogs.forms.render import has_form

    from ..formcopy import render_form
    rt = request.app[RUNTIME]
    async with reading(rt.sm) as db:
        try:
            d, leg = await act.scoped(db, request[OFFICER], request.match_info["code"])
        except act.ActionRefused as exc:
            return refuse(request, exc.text(lang_of(request)), 404)
    template = _form_template(d, leg, rt)  # a linked dossier: the officer's own part's form
    single = act.leg_forms(d, leg, rt.catalog, rt.calendar) is None
    if template is None and (not single or not has_form(d.procedure_id)):
        raise web.HTTPNotFound()
    pdf = await render_form(d.procedure_id, d.answers or {}, submitted_at=d.submitted_at, code=d.code,
                            template=template)
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{d.code}.pdf"'})


def _form_template(d: Dossier, leg: DossierLeg, rt) -> str | None:
    """The form template of a linked dossier's leg (its first ``legs[].forms``), or None."""
    linked = act.leg_forms(d, leg, rt.catalog, rt.calendar)
    return linked[1][0] if linked is not None and linked[1] else None


async def receipt(request: web.Request) -> web.StreamResponse:
    """The receipt and appointment slip, to print once the desk has received the dossier."""
    rt = request.app[RUNTIME]
    _ = translator(lang_of(request))
    async with reading(rt.sm) as db:
        try:
            d, leg = await act.scoped(db, request[OFFICER], request.match_info["code"])
        except act.ActionRefused as exc:
            return refuse(request, exc.text(lang_of(request)), 404)
        legs = await act.legs_of(db, d)
    if leg.received_at is None:
        return refuse(request, _("Hồ sơ chưa được tiếp nhận, chưa có giấy tiếp nhận để in."), 409)
    now = rt.now()
    docs = [f["label"] for f in _files(d, rt, _)]
    return render(request, "receipt.html", d=d, leg=leg, title=act.proc_title(d, rt.catalog, _),
                  received=rt.calendar.to_local(leg.received_at), due=act.effective_due(leg, rt.calendar, now),
                  unit=act.unit_text(leg.agency, leg.commune_code, _), docs=docs,
                  parts=[(act.part_title(d, x, rt.catalog, _), _(lc.AGENCY_LABELS.get(x.agency, x.agency)),
                          act.effective_due(x, rt.calendar, now)) for x in legs if len(legs) > 1])


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/queue", queue_page)
    r.add_post("/queue", queue_search)
    r.add_get("/d/{code}", dossier_get)
    r.add_post("/d/{code}/act/{verb}", act_post)
    r.add_get("/d/{code}/file/{sha}", file_get)
    r.add_get("/d/{code}/form.pdf", form_pdf)
    r.add_get("/d/{code}/receipt", receipt)
