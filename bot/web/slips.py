"""The desk's slips on the web desk: each slip of the officer's leg as a PDF to print, and the apology with a new
appointment date for a late leg (a form with CSRF, like the other actions). Both go through web/actions.py, with
the dossier page's permission and jurisdiction checks; the URL holds the dossier code and the slip, nothing
personal."""
from __future__ import annotations

from datetime import date

from aiohttp import web

from dialogs.forms.slips import SLIP_TITLES, slip_file_name
from dialogs.i18n import translator

from . import actions as act
from .app import FORM, OFFICER, RUNTIME, lang_of, refuse
from .desk import dossier_page


async def slip_pdf(request: web.Request) -> web.StreamResponse:
    """``/d/{code}/slip/{kind}.pdf``: a slip of the officer's leg, rendered now."""
    rt = request.app[RUNTIME]
    kind = request.match_info["kind"]
    if kind not in SLIP_TITLES:
        raise web.HTTPNotFound()
    async with rt.sm() as db:
        try:
            d, leg = await act.scoped(db, request[OFFICER], request.match_info["code"])
        except act.ActionRefused as exc:
            return refuse(request, exc.text(lang_of(request)), 404)
        pdf = await act.render_slip(db, d, leg, kind, calendar=rt.calendar, now=rt.now(), catalog=rt.catalog)
    if pdf is None:
        raise web.HTTPNotFound()
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{slip_file_name(d.code, kind)}"',
                                 "Cache-Control": "private, no-store"})


async def apology_post(request: web.Request) -> web.StreamResponse:
    """The apology form: a new date (a working day after today) and the reason the citizen reads."""
    rt = request.app[RUNTIME]
    lang = lang_of(request)
    _ = translator(lang)
    form = request[FORM]
    code = request.match_info["code"]
    values = {"reason": str(form.get("reason", "")).strip()[:2000], "new_date": str(form.get("new_date", ""))[:10]}
    try:
        version = int(str(form.get("v", "")))
    except ValueError:
        version = None
    try:
        new_date = date.fromisoformat(values["new_date"])
    except ValueError:
        return await dossier_page(request, step="apology", apology=values, status=422,
                                  error=_("Vui lòng nhập ngày hẹn mới theo dạng ngày/tháng/năm."))
    try:
        async with rt.sm() as db, db.begin():
            await act.apologise(db, request[OFFICER], code, new_date, values["reason"], rt.now(), calendar=rt.calendar,
                                catalog=rt.catalog, version=version)
    except act.ActionRefused as exc:
        step = "apology" if exc.code in ("date", "reason") else None
        return await dossier_page(request, step=step, apology=values, error=exc.text(lang), status=409)
    return await dossier_page(request, done="✅ " + _("Đã hẹn lại ngày trả kết quả {date} và báo cho người dân. "
                                                     "Phiếu xin lỗi dưới đây để trình ký.",
                                                     date=_.date(new_date)))


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/d/{code}/slip/{kind}.pdf", slip_pdf)
    r.add_post("/d/{code}/apology", apology_post)
