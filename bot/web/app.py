"""The web desk's aiohttp application: sign-in, sessions, CSRF, security headers, templates.

Routes are in bot/web/desk.py (queue, dossier, actions, files) and bot/web/dashboard.py (the focal point's
statistics, charts, report and exports). Every page is rendered on the server with Jinja2; there is no
front-end build. See docs/web.md.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from jinja2 import Environment

from dialogs import lifecycle as lc
from dialogs.i18n import SUPPORTED, translator

from . import auth

log = logging.getLogger("dvcbot.web")
HERE = Path(__file__).resolve().parent

CONFIG = web.AppKey("config", "WebConfig")
RUNTIME = web.AppKey("runtime", Any)
JINJA = web.AppKey("jinja", Environment)
THROTTLE = web.AppKey("throttle", auth.Throttle)

_RequestKey = getattr(web, "RequestKey", None)  # aiohttp ≥ 3.13; plain strings before


def _rkey(name: str, t: Any) -> Any:
    return _RequestKey(name, t) if _RequestKey is not None else name


SESSION = _rkey("session", Any)
OFFICER = _rkey("officer", Any)
FORM = _rkey("form", Any)
FLASH = _rkey("flash", str)
PRE_CSRF = _rkey("pre_csrf", str)
SET_PRE_CSRF = _rkey("set_pre_csrf", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/login", "/static/", "/healthz", "/lang")


@dataclass
class WebConfig:
    secret: bytes
    base_url: str | None = None  # public address, for the one-time link sent in the chat
    secure_cookies: bool = False  # set behind HTTPS (the Secure attribute)
    page_size: int = 25
    trust_proxy: bool = False  # behind a load balancer: the client is the first X-Forwarded-For address
    extra: dict[str, Any] = field(default_factory=dict)


def now_utc(request: web.Request) -> datetime:
    rt = request.app[RUNTIME]
    return rt.now().astimezone(UTC)


def lang_of(request: web.Request) -> str:
    lang = request.cookies.get("lang", "vi")
    return lang if lang in SUPPORTED else "vi"


def render(request: web.Request, name: str, http_status: int = 200, **ctx: Any) -> web.Response:
    env = request.app[JINJA]
    lang = lang_of(request)
    _ = translator(lang)
    officer = request.get(OFFICER)
    session = request.get(SESSION)
    csrf = session.csrf if session is not None else request.get(PRE_CSRF, "")
    html = env.get_template(name).render(
        _=_, lang=lang, officer=officer, csrf=csrf, request_path=request.path, lc=lc,
        role_label=(_(lc.ROLE_LABELS[officer.role]) if officer is not None else ""),
        flash=request.get(FLASH), **ctx)
    resp = web.Response(text=html, status=http_status, content_type="text/html", charset="utf-8")
    pre = request.get(SET_PRE_CSRF)
    if pre:
        resp.set_cookie(auth.PRE_COOKIE, auth.sign(request.app[CONFIG].secret, pre), httponly=True,
                        samesite="Strict", secure=request.app[CONFIG].secure_cookies, path="/")
    return resp


def refuse(request: web.Request, message: str, status: int = 403) -> web.Response:
    return render(request, "error.html", http_status=status, message=message)


# -- middleware -------------------------------------------------------------------------------------
CSP = ("default-src 'self'; img-src 'self' data:; object-src 'self'; frame-src 'self'; style-src 'self'; "
       "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        resp = exc
        if exc.status >= 400 and not exc.text:
            raise
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")
    resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if resp.headers.get("Content-Type", "").split(";")[0] != "application/pdf":
        # (a PDF is shown by the browser's own viewer, which a page policy would block; it runs no script of ours)
        resp.headers.setdefault("Content-Security-Policy", CSP)
    if not request.path.startswith("/static/"):
        resp.headers.setdefault("Cache-Control", "no-store")
    if isinstance(resp, web.HTTPException):
        raise resp
    return resp


@web.middleware
async def session_mw(request: web.Request, handler: Handler) -> web.StreamResponse:
    cfg = request.app[CONFIG]
    if request.path.startswith(("/static/", "/healthz")):
        return await handler(request)
    token = auth.unsign(cfg.secret, request.cookies.get(auth.COOKIE))
    rt = request.app[RUNTIME]
    if token:
        async with rt.sm() as db, db.begin():
            hit = await auth.current(db, token, now_utc(request))
        if hit is not None:
            request[SESSION], request[OFFICER] = hit
    public = any(request.path.startswith(p) for p in PUBLIC)
    if request.get(OFFICER) is None and not public:
        if request.method == "GET":
            raise web.HTTPSeeOther("/login")
        _ = translator(lang_of(request))
        return refuse(request, _("Phiên làm việc đã hết. Vui lòng đăng nhập lại."), 401)
    if request.get(SESSION) is None:  # the sign-in form's CSRF token lives in a cookie of its own
        pre = auth.unsign(cfg.secret, request.cookies.get(auth.PRE_COOKIE))
        if not pre:
            pre = secrets.token_urlsafe(24)
            request[SET_PRE_CSRF] = pre
        request[PRE_CSRF] = pre
    if request.method == "POST":
        form = await request.post()
        expected = request[SESSION].csrf if request.get(SESSION) is not None else request.get(PRE_CSRF)
        given = form.get("csrf")
        if not isinstance(given, str) or not expected or request.get(SET_PRE_CSRF) or \
                not secrets.compare_digest(given, expected):
            _ = translator(lang_of(request))
            return refuse(request, _("Biểu mẫu đã cũ hoặc không hợp lệ. Vui lòng tải lại trang rồi thử lại."), 403)
        request[FORM] = form
    return await handler(request)


class AccessLogger(AbstractAccessLogger):
    """Method, route and status only: no query strings, no one-time link tokens, no client details."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = request.path
        if path.startswith("/login/link/"):
            path = "/login/link/…"
        self.logger.info("%s %s %s %.0fms", request.method, path, response.status, time * 1000)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


# -- sign-in, sign-out, language --------------------------------------------------------------------
def _client(request: web.Request) -> str:
    """Who to slow down after failed sign-ins. Behind a proxy every request comes from the proxy, so the
    forwarded address is used, but only when the operator says the proxy sets it (``--trust-proxy``)."""
    if request.app[CONFIG].trust_proxy and request.headers.get("X-Forwarded-For"):
        return request.headers["X-Forwarded-For"].split(",", 1)[0].strip()
    return request.remote or "?"


def _signed_in(request: web.Request, token: str) -> web.StreamResponse:
    cfg = request.app[CONFIG]
    resp = web.HTTPSeeOther("/queue")
    resp.set_cookie(auth.COOKIE, auth.sign(cfg.secret, token), httponly=True, samesite="Strict",
                    secure=cfg.secure_cookies, path="/")
    resp.del_cookie(auth.PRE_COOKIE, path="/")
    return resp


async def login_page(request: web.Request) -> web.StreamResponse:
    if request.get(OFFICER) is not None:
        raise web.HTTPSeeOther("/queue")
    return render(request, "login.html")


async def login_post(request: web.Request) -> web.StreamResponse:
    _ = translator(lang_of(request))
    throttle = request.app[THROTTLE]
    who = _client(request)
    if throttle.blocked(who):
        return render(request, "login.html", http_status=429,
                      error=_("Bạn đã nhập sai quá nhiều lần. Vui lòng đợi vài phút rồi gõ “/dangnhap” để lấy mã mới."))
    rt = request.app[RUNTIME]
    now = now_utc(request)
    async with rt.sm() as db, db.begin():
        officer = await auth.redeem_code(db, str(request[FORM].get("code", "")), now)
        token = (await auth.start_session(db, officer, now))[0] if officer is not None else None
    if token is None:
        throttle.fail(who)
        return render(request, "login.html", http_status=401,
                      error=_("Mã không đúng, đã dùng hoặc đã hết hạn. Gõ “/dangnhap” trong cuộc trò chuyện cán bộ "
                              "để lấy mã mới."))
    log.info("web sign-in officer=%s", officer.id)
    return _signed_in(request, token)


async def link_page(request: web.Request) -> web.StreamResponse:
    # a GET never uses the link up: chat apps open links to show a preview
    return render(request, "login_link.html", token=request.match_info["token"])


async def link_post(request: web.Request) -> web.StreamResponse:
    _ = translator(lang_of(request))
    rt = request.app[RUNTIME]
    now = now_utc(request)
    async with rt.sm() as db, db.begin():
        officer = await auth.redeem_link(db, str(request[FORM].get("token", "")), now)
        token = (await auth.start_session(db, officer, now))[0] if officer is not None else None
    if token is None:
        request.app[THROTTLE].fail(_client(request))
        return render(request, "login.html", http_status=401,
                      error=_("Liên kết đã dùng hoặc đã hết hạn. Gõ “/dangnhap” để lấy liên kết mới."))
    log.info("web sign-in by link officer=%s", officer.id)
    return _signed_in(request, token)


async def logout(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    async with rt.sm() as db, db.begin():
        await auth.end_session(db, request[SESSION].id, now_utc(request))
    resp = web.HTTPSeeOther("/login")
    resp.del_cookie(auth.COOKIE, path="/")
    return resp


async def set_lang(request: web.Request) -> web.StreamResponse:
    lang = str(request[FORM].get("lang", "vi"))
    back = str(request[FORM].get("back", "/queue"))
    if not back.startswith("/") or back.startswith("//"):
        back = "/queue"
    resp = web.HTTPSeeOther(back)
    resp.set_cookie("lang", lang if lang in SUPPORTED else "vi", samesite="Strict", path="/",
                    max_age=365 * 24 * 3600)
    return resp


async def health(request: web.Request) -> web.Response:
    state = await request.app[RUNTIME].health()
    return web.json_response(state, status=200 if state["ok"] else 503)


async def home(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/queue")
