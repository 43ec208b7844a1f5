"""Pages for the applicant's browser: the join page, the e-mail confirmation, static files."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

from aiohttp import web

from server.context import DESK
from server.security import token_hash

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: one folder or file name under /static/: letters, digits, ``._-``, not starting with a dot
#: (no ``..``, no hidden files), at most 100 characters (the filesystem's limit is 255 bytes)
_STATIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")
_STATIC_DEPTH = 8

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


def static_file_path(rel: str, root: Path = STATIC_DIR) -> Path | None:
    """The regular file under ``root`` that the URL path ``rel`` (below /static/) names, or None.

    The name is checked before it reaches the filesystem: a name too long for it
    (ENAMETOOLONG), a NUL byte, backslashes, encoded slashes, ``..`` or hidden files never get
    past the pattern; a symbolic link pointing outside ``root`` and any other OSError are
    "no such file" too (404, never 500)."""
    parts = rel.split("/")
    if len(parts) > _STATIC_DEPTH or not all(_STATIC_NAME.fullmatch(p) for p in parts):
        return None
    path = root.joinpath(*parts)
    try:
        if not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
            return None
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return None
    return path


async def static_file(request: web.Request) -> web.StreamResponse:
    path = static_file_path(request.match_info["path"])
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path)


def setup(app: web.Application) -> None:
    app.router.add_get("/join/{token}", join_page)
    app.router.add_get("/verify-email/{token}", verify_email_page)
    STATIC_DIR.mkdir(exist_ok=True)
    app.router.add_get("/static/{path:.+}", static_file)
