"""Who may do what: the one role table of the desk service, and the code that enforces it.

Every HTTP route is named by an *action* in :data:`ROUTES`; :data:`RULES` says, per action, which
roles may perform it and on which resources (the *scope*). :func:`policy_middleware` runs for every
request before its handler: it authenticates the bearer token, refuses a role the table does not
list (403) and checks ownership for routes that carry a ``{request_id}`` or ``{upload_id}``
(403 ``not_your_session`` / ``not_your_point`` / ``not_your_upload``). Handlers whose resource is in
the body (an evidence upload names its request) call :func:`check_request` themselves. WebSocket
messages are checked with :func:`allowed` against the same table (``ws.*`` actions).

``create_app`` refuses to start when a route has no action, so no route can escape the table.
docs/PROTOCOL.md and docs/SECURITY.md print the table; ``tests/test_server_policy_matrix.py``
walks every documented route × every role × own/other's resource against a running service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from aiohttp import web

from server.context import DESK
from server.errors import ApiError, not_found
from server.security import token_hash
from server.store import CallSession, Operator
from server.validation import ROLES, is_uuid

if TYPE_CHECKING:
    from server.context import Desk
    from server.web_util import Handler



class Scope(StrEnum):
    #: every resource of the kind
    ANY = "any"
    #: the caller's own account
    SELF = "self"
    #: a request whose latest session is assigned to the caller (remote operator)
    OWN_SESSION = "own_session"
    #: a request whose latest session is an in-person check at the caller's InfoCert Point
    OWN_POINT = "own_point"
    #: an upload the caller opened (itself allowed only on an own session or point)
    OWN_UPLOAD = "own_upload"
    #: only what carries no personal data (trainers: anonymised recordings, no CF, no names)
    ANONYMISED = "anonymised"


#: Actions anyone may perform without signing in (the applicant, the public, health checks).
PUBLIC: frozenset[str] = frozenset({
    "meta.health", "meta.openapi", "requests.create", "archive_key.read", "pages.join",
    "pages.verify_email", "pages.static", "ws.applicant_connect", "ws.operator_connect",
    "dev.outbox", "dev.clock",
})

_ALL_SELF = {r: Scope.SELF for r in ROLES}

#: action -> {role: scope}. A role absent from an action's entry may not perform it.
RULES: dict[str, Mapping[str, Scope]] = {
    # accounts
    "auth.me": _ALL_SELF,
    "auth.logout": _ALL_SELF,
    "operators.list": {"admin": Scope.ANY, "supervisor": Scope.ANY},
    "operators.create": {"admin": Scope.ANY},
    # re-enrolling one's own TOTP needs the password and a current code (checked by the route)
    "operators.enrol_totp": {**_ALL_SELF, "admin": Scope.ANY},
    "operators.disable": {"admin": Scope.ANY},
    "operators.enable": {"admin": Scope.ANY},
    "workstation_keys.enrol": {"admin": Scope.ANY},
    "workstation_keys.list": {r: Scope.ANY for r in ROLES},
    "workstation_keys.revoke": {"admin": Scope.ANY},
    # identification requests
    "requests.find_by_booking_code": {"partner": Scope.ANY, "supervisor": Scope.ANY},
    "requests.list_by_state": {"supervisor": Scope.ANY},
    "requests.read": {"operator": Scope.OWN_SESSION, "partner": Scope.OWN_POINT,
                      "supervisor": Scope.ANY},
    "requests.join_link": {"operator": Scope.OWN_SESSION, "supervisor": Scope.ANY},
    "requests.start_in_person": {"partner": Scope.ANY},
    "requests.decide": {"operator": Scope.OWN_SESSION, "partner": Scope.OWN_POINT,
                        "supervisor": Scope.ANY},
    "requests.approval_check": {"operator": Scope.OWN_SESSION, "partner": Scope.OWN_POINT,
                                "supervisor": Scope.ANY},
    "requests.captures": {"operator": Scope.OWN_SESSION, "partner": Scope.OWN_POINT},
    "requests.inperson_checks": {"partner": Scope.OWN_POINT},
    "requests.liveness": {"operator": Scope.OWN_SESSION},
    # four eyes: a supervisor's own sign-in confirms a session liveness or faces held up
    "requests.second_look": {"supervisor": Scope.ANY},
    "otp.send": {"operator": Scope.OWN_SESSION},
    "otp.verify": {"operator": Scope.OWN_SESSION},
    "email.send": {"operator": Scope.OWN_SESSION},
    "email.status": {"operator": Scope.OWN_SESSION, "supervisor": Scope.ANY},
    # the waiting room
    "queue.read": {"operator": Scope.ANY, "supervisor": Scope.ANY},
    "queue.next": {"operator": Scope.ANY},
    # evidence
    "evidence.open_upload": {"operator": Scope.OWN_SESSION, "partner": Scope.OWN_POINT},
    "evidence.upload": {"operator": Scope.OWN_UPLOAD, "partner": Scope.OWN_UPLOAD},
    "evidence.search": {"supervisor": Scope.ANY, "trainer": Scope.ANONYMISED},
    "evidence.read": {"supervisor": Scope.ANY},
    "evidence.content": {"supervisor": Scope.ANY},
    "evidence.log_access": {"supervisor": Scope.ANY, "trainer": Scope.ANONYMISED},
    "evidence.delete": {"supervisor": Scope.ANY},
    # WebSocket messages of /ws/operator
    "ws.subscribe_queue": {"operator": Scope.ANY, "supervisor": Scope.ANY},
    "ws.signal": {"operator": Scope.OWN_SESSION},
}

#: Access-log actions a trainer may record (replaying or exporting an anonymised copy).
TRAINER_ACCESS_ACTIONS = ("replay", "export_anonymised")

API = "/api/v1"

#: (method, route template) -> action. Every route of the service appears here.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/openapi.json"): "meta.openapi",
    ("GET", f"{API}/health"): "meta.health",
    ("GET", "/healthz"): "meta.health",
    ("GET", "/readyz"): "meta.health",
    ("POST", f"{API}/auth/login"): "auth.login",
    ("POST", f"{API}/auth/refresh"): "auth.refresh",
    ("POST", f"{API}/auth/logout"): "auth.logout",
    ("GET", f"{API}/auth/me"): "auth.me",
    ("GET", f"{API}/operators"): "operators.list",
    ("POST", f"{API}/operators"): "operators.create",
    ("POST", f"{API}/operators/{{operator_id}}/totp"): "operators.enrol_totp",
    ("POST", f"{API}/operators/{{operator_id}}/disable"): "operators.disable",
    ("POST", f"{API}/operators/{{operator_id}}/enable"): "operators.enable",
    ("POST", f"{API}/workstation-keys"): "workstation_keys.enrol",
    ("GET", f"{API}/workstation-keys"): "workstation_keys.list",
    ("POST", f"{API}/workstation-keys/{{key_id}}/revoke"): "workstation_keys.revoke",
    ("POST", f"{API}/requests"): "requests.create",
    ("GET", f"{API}/requests"): "requests.find",
    ("GET", f"{API}/requests/{{request_id}}"): "requests.read",
    ("POST", f"{API}/requests/{{request_id}}/join-link"): "requests.join_link",
    ("POST", f"{API}/requests/{{request_id}}/in-person"): "requests.start_in_person",
    ("POST", f"{API}/requests/{{request_id}}/decision"): "requests.decide",
    ("GET", f"{API}/requests/{{request_id}}/approval-check"): "requests.approval_check",
    ("POST", f"{API}/requests/{{request_id}}/captures"): "requests.captures",
    ("POST", f"{API}/requests/{{request_id}}/in-person-checks"): "requests.inperson_checks",
    ("POST", f"{API}/requests/{{request_id}}/liveness"): "requests.liveness",
    ("POST", f"{API}/requests/{{request_id}}/second-look"): "requests.second_look",
    ("POST", f"{API}/requests/{{request_id}}/otp"): "otp.send",
    ("POST", f"{API}/requests/{{request_id}}/otp/verify"): "otp.verify",
    ("POST", f"{API}/requests/{{request_id}}/email-verification"): "email.send",
    ("GET", f"{API}/requests/{{request_id}}/email-verification"): "email.status",
    ("GET", f"{API}/queue"): "queue.read",
    ("POST", f"{API}/queue/next"): "queue.next",
    ("GET", f"{API}/archive-key"): "archive_key.read",
    ("POST", f"{API}/evidence/uploads"): "evidence.open_upload",
    ("PUT", f"{API}/evidence/uploads/{{upload_id}}"): "evidence.upload",
    ("POST", f"{API}/evidence/uploads/{{upload_id}}/complete"): "evidence.upload",
    ("GET", f"{API}/evidence"): "evidence.search",
    ("GET", f"{API}/evidence/{{package_id}}"): "evidence.read",
    ("DELETE", f"{API}/evidence/{{package_id}}"): "evidence.delete",
    ("GET", f"{API}/evidence/{{package_id}}/content"): "evidence.content",
    ("POST", f"{API}/evidence/{{package_id}}/access"): "evidence.log_access",
    ("GET", f"{API}/dev/outbox/sms"): "dev.outbox",
    ("GET", f"{API}/dev/outbox/email"): "dev.outbox",
    ("GET", f"{API}/dev/clock"): "dev.clock",
    ("POST", f"{API}/dev/clock"): "dev.clock",
    ("GET", "/ws/operator"): "ws.operator_connect",
    ("GET", "/ws/applicant/{join_token}"): "ws.applicant_connect",
    ("GET", "/join/{token}"): "pages.join",
    ("GET", "/verify-email/{token}"): "pages.verify_email",
    ("GET", "/static/{path}"): "pages.static",
}

#: Actions whose callers prove who they are in the body (password + TOTP, refresh token).
CREDENTIAL_ACTIONS = frozenset({"auth.login", "auth.refresh"})

#: ``GET /requests`` is two actions: by booking code (partners at the counter) or by state.
_FIND = "requests.find"


def roles_for(action: str) -> Mapping[str, Scope]:
    return RULES.get(action, {})


def allowed(role: str, action: str) -> Scope | None:
    """The scope ``role`` has on ``action``; None when the table does not grant it."""
    return RULES.get(action, {}).get(role)


@dataclass(frozen=True)
class Principal:
    operator: Operator
    token_family: str
    action: str
    scope: Scope

    @property
    def role(self) -> str:
        return self.operator.role


# --- authentication -------------------------------------------------------------------------

def bearer(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
        return token or None
    return None


def authenticate(desk: Desk, token: str | None) -> tuple[Operator, str]:
    """(operator, token family) of a valid access token; 401 otherwise."""
    if token is None or len(token) > 200:
        raise ApiError(401, "unauthorized", "missing or malformed bearer token")
    found = desk.store.token_owner(token_hash(token), "access", desk.config.clock.now())
    if found is None:
        raise ApiError(401, "unauthorized", "invalid or expired token")
    op, tok = found
    return op, tok.family


def grant(op: Operator, action: str) -> Scope:
    scope = allowed(op.role, action)
    if scope is None:
        raise ApiError(403, "forbidden", "your role may not do this", action=action)
    return scope


# --- ownership ------------------------------------------------------------------------------

def owns_session(op: Operator, scope: Scope, sess: CallSession | None) -> bool:
    if scope in (Scope.ANY, Scope.ANONYMISED):
        return True
    if sess is None:
        return False
    if scope is Scope.OWN_SESSION:
        return sess.channel == "video" and sess.operator_id == op.id
    if scope is Scope.OWN_POINT:
        return (sess.channel == "in_person" and op.point_id is not None
                and sess.point_id == op.point_id)
    return False


def check_request(desk: Desk, principal: Principal, req_id: str) -> CallSession | None:
    """Refuse (403) a request that is not the caller's under its scope; 404 if unknown.

    Returns the request's latest session (None for scopes that need none)."""
    if principal.scope in (Scope.ANY, Scope.ANONYMISED):
        return None
    if desk.store.request(req_id) is None:
        raise not_found("request_not_found")
    sess = desk.store.latest_session(req_id)
    if not owns_session(principal.operator, principal.scope, sess):
        code = "not_your_point" if principal.scope is Scope.OWN_POINT else "not_your_session"
        raise ApiError(403, code, "this request is not assigned to you")
    return sess


def check_upload(desk: Desk, principal: Principal, upload_id: str) -> None:
    if principal.scope is not Scope.OWN_UPLOAD:
        return
    up = desk.store.upload(upload_id)
    if up is None:
        raise not_found("upload_not_found")
    if up.operator_id != principal.operator.id:
        raise ApiError(403, "not_your_upload", "this upload was opened by someone else")


def check_operator(principal: Principal, operator_id: str) -> None:
    if principal.scope is Scope.SELF and operator_id != str(principal.operator.id):
        raise ApiError(403, "forbidden", "only an administrator acts on other accounts")


# --- the middleware -------------------------------------------------------------------------

def route_action(request: web.Request) -> str | None:
    resource = getattr(request.match_info.route, "resource", None)
    canonical = getattr(resource, "canonical", None)
    if not isinstance(canonical, str):
        return None
    if canonical.startswith("/static"):
        canonical = "/static/{path}"
    method = "GET" if request.method == "HEAD" else request.method
    return ROUTES.get((method, canonical))


def _find_action(request: web.Request) -> str:
    if "booking_code" in request.query:
        return "requests.find_by_booking_code"
    return "requests.list_by_state"


PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)


@web.middleware
async def policy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        return await handler(request)  # 404/405 from the router
    action = route_action(request)
    if action is None:
        raise ApiError(500, "no_policy", "this route has no entry in the role table")
    if action in PUBLIC or action in CREDENTIAL_ACTIONS:
        return await handler(request)
    if action == _FIND:
        action = _find_action(request)
    desk = request.app[DESK]
    # the database lookups run in the store's threads, never on the event loop; a request
    # without a usable token is refused at once, without a round trip through them
    token = bearer(request)
    op, family = await desk.store.call(authenticate, desk, token) \
        if token is not None and len(token) <= 200 else authenticate(desk, token)
    principal = Principal(op, family, action, grant(op, action))
    request[PRINCIPAL] = principal
    info = request.match_info
    if "request_id" in info:
        raw = info["request_id"]
        if not is_uuid(raw):
            raise not_found("request_not_found")
        await desk.store.call(check_request, desk, principal, raw.lower())
    if "upload_id" in info:
        raw = info["upload_id"]
        if not is_uuid(raw):
            raise not_found("upload_not_found")
        await desk.store.call(check_upload, desk, principal, raw.lower())
    if "operator_id" in info:
        check_operator(principal, info["operator_id"])
    return await handler(request)


def principal(request: web.Request) -> Principal:
    """The caller, as authorised by :func:`policy_middleware` for this route."""
    try:
        return request[PRINCIPAL]
    except KeyError:
        raise ApiError(401, "unauthorized", "missing or malformed bearer token") from None


def caller(request: web.Request) -> Operator:
    """The signed-in operator of a route the middleware authorised."""
    return principal(request).operator


def unrouted(app: web.Application) -> list[tuple[str, str]]:
    """Routes of ``app`` that have no action in :data:`ROUTES` (create_app refuses them)."""
    out = []
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        info = route.get_info()
        path = info.get("formatter") or info.get("path")
        if path is None and "prefix" in info:
            path = info["prefix"].rstrip("/") + "/{path}"
        if (route.method, path) not in ROUTES:
            out.append((route.method, str(path)))
    return out


def table_markdown() -> str:
    """The role table as Markdown (docs/SECURITY.md and docs/PROTOCOL.md embed it)."""
    head = "| action | " + " | ".join(ROLES) + " |\n|---|" + "---|" * len(ROLES) + "\n"
    rows = []
    for action in sorted(RULES):
        cells = [str(RULES[action].get(r, "—")) for r in ROLES]
        rows.append(f"| `{action}` | " + " | ".join(cells) + " |")
    public = ", ".join(f"`{a}`" for a in sorted(PUBLIC | CREDENTIAL_ACTIONS))
    return head + "\n".join(rows) + f"\n\nWithout signing in: {public}.\n"
