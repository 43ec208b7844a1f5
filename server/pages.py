"""Pages for the applicant's browser: the join page, the e-mail confirmation, static files."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from aiohttp import web

from server.context import DESK
from server.security import token_hash

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;
line-height:1.5;color:#1b1b1b}}h1{{font-size:1.4rem}}</style></head>
<body><main><h1>{title}</h1><p>{body}</p><p lang="en">{body_en}</p></main></body></html>
"""


def simple_page(title: str, body: str, body_en: str, status: int = 200) -> web.Response:
    text = _PAGE.format(title=html.escape(title), body=html.escape(body),
                        body_en=html.escape(body_en))
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


async def join_page(request: web.Request) -> web.StreamResponse:
    desk = request.app[DESK]
    token = request.match_info["token"]
    valid = 10 <= len(token) <= 200 and desk.store.resolve_join(
        token_hash(token), desk.config.clock.now()) is not None
    if not valid:
        return simple_page("Link non valido", "Questo link di riconoscimento non è valido o è "
                           "scaduto. Chiedi un nuovo link al servizio clienti.",
                           "This recognition link is not valid or has expired.", status=410)
    page = STATIC_DIR / "join.html"
    resp: web.StreamResponse
    if page.exists():
        resp = web.FileResponse(page, headers={"Content-Type": "text/html; charset=utf-8"})
    else:
        resp = simple_page("Riconoscimento via webcam",
                           "La pagina di riconoscimento non è ancora installata.",
                           "The recognition page is not installed yet.")
    resp.headers["Permissions-Policy"] = "camera=(self), microphone=(self)"
    return resp


async def verify_email_page(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    token = request.match_info["token"]
    ok = 10 <= len(token) <= 200 and desk.store.confirm_email(token_hash(token),
                                                              desk.config.clock.now())
    if not ok:
        return simple_page("Link non valido", "Il link di conferma non è valido o è scaduto.",
                           "The confirmation link is not valid or has expired.", status=410)
    logger.info("e-mail address confirmed")
    return simple_page("Indirizzo confermato", "Grazie: il tuo indirizzo e-mail è confermato. "
                       "Puoi chiudere questa pagina.",
                       "Thank you: your e-mail address is confirmed.")


def setup(app: web.Application) -> None:
    app.router.add_get("/join/{token}", join_page)
    app.router.add_get("/verify-email/{token}", verify_email_page)
    STATIC_DIR.mkdir(exist_ok=True)
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
