"""The staff web UI at /admin: login, roles, CSRF, the audit log.

`init_app(app, services)` (called by bot.create_app) wires Flask-Login, Flask-WTF's
CSRFProtect, the session cookie and this blueprint. Protection is structural, not per
view: one `before_request` guard (`_guard`) runs for every URL rule under /admin,
whichever blueprint it belongs to, and

1. lets only the login page and static files through without a logged-in user
   (others: 302 to the login page for GET/HEAD, 401 for other methods);
2. logs out a user idle for more than ADMIN_SESSION_MINUTES (sliding; the last request
   time is kept in the signed session cookie) or logged in more than
   ADMIN_SESSION_MAX_HOURS ago (absolute: the login time is in the cookie too, and no
   request renews it), and sends them to the login page;
3. sends an account logged in with a temporary password (made by an admin: added, or
   reset) to 「パスワード変更」 and nowhere else until it has chosen its own (403 for a
   form posted elsewhere);
4. checks the CSRF token of every POST/PUT/PATCH/DELETE (400 without a valid one).

Before all that it refuses (400) a query or form holding control characters
(inputs.py: PostgreSQL refuses NUL in strings). Row ids in URLs use the `id` converter
(`<id:incident_id>`, ids.py): an id no table can hold is a 404, never a database error.

A signed cookie alone cannot be revoked, so the session names the account *and* its
`session_version` (models.StaffUser.get_id); the user loader accepts it only while the
stored version is the same. Logout, a new password, a role or lead change and a
disable raise the version (`user.end_sessions()`): every cookie of that account, copied
or not, on any browser, is refused from its next request.

A page built on this (see views.py for examples):

    from bot.admin import bp, db, nav_item
    from bot.admin.audit import audit
    from bot.admin.roles import requires

    nav_item("お知らせ配信", "admin.broadcasts", "send")     # menu and dashboard link

    @bp.route("/broadcasts", methods=["GET", "POST"])
    @requires("send")                                       # 403 for other roles
    def broadcasts():
        form = BroadcastForm()                              # a FlaskForm: CSRF included
        if form.validate_on_submit():
            push = ...; db().add(push)
            audit("broadcast.send", f"push:{push.id}", {"segment": ...})
            db().commit()                                   # the action and its audit entry together
        return render_template("admin/broadcasts.html", form=form)

Templates extend "admin/base.html" and fill `title` and `content` (also `head`,
`scripts`; no inline scripts or styles: the Content-Security-Policy allows only files
from this server). Import the page's module at the bottom of this file, next to
`views`, so its routes exist before the blueprint is registered.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session

from .ids import IdConverter
from .inputs import refused_input
from .roles import PERMISSION_LABELS, ROLE_LABELS, _check_names, can

if TYPE_CHECKING:
    from ..bootstrap import Services

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")

DEV_SECRET_KEY = "citybot-dev-admin-secret-key-not-for-production"
PUBLIC_ENDPOINTS = frozenset({"admin.login", "admin.static"})
#: What an account logged in with a temporary password may open: setting its own, leaving.
OPEN_WITH_TEMPORARY_PASSWORD = frozenset({"admin.own_password", "admin.logout"})
MUST_CHANGE_MESSAGE = "仮のパスワードでログインしています。まず、ご自分のパスワードを決めてください。"
SEEN_KEY = "admin_seen"  # session: when this browser last made a request (POSIX seconds, bot clock)
LOGIN_KEY = "admin_login_at"  # session: when this session's login was (POSIX seconds, bot clock)
IDLE_MESSAGE = "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"
MAX_AGE_MESSAGE = "ログインから一定の時間がたったため、ログアウトしました。もう一度ログインしてください。"

csrf = CSRFProtect()


# -- what pages use -------------------------------------------------------------------------
def services() -> "Services":
    return current_app.extensions["citybot"]


def now() -> datetime:
    """The bot's clock (tests move it)."""
    return services().now()


def db() -> Session:
    """The request's database session: a page's changes and its audit entries are
    committed together with one `db().commit()`; closed (rolled back if uncommitted)
    when the request ends."""
    if "admin_db" not in g:
        g.admin_db = services().sessions()
    return g.admin_db


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: str
    description: str = ""


NAV: list[NavItem] = []
PAGE_FILES: list[Blueprint] = []  # templates and static files of services' pages (page_files), public pages


def page_files(import_name: str) -> Blueprint:
    """For a service package's admin.py: a blueprint serving the package's templates/ and
    static/ (as `<service>_files.static`, at /admin/<service>/files/), so its pages extend
    "admin/base.html" while their files stay in the package."""
    service = import_name.split(".")[-2]
    files = Blueprint(f"{service}_files", import_name, template_folder="templates", static_folder="static",
                      static_url_path=f"/admin/{service}/files")
    files.context_processor(lambda: _template_globals())  # its pages see what every admin page sees
    PAGE_FILES.append(files)
    return files


def public_page(page: Blueprint) -> Blueprint:
    """For a service's page outside /admin, opened by someone with no account (a link the
    staff handed over, carrying a signed token the page checks itself): registered by
    init_app like page_files. Nothing of `_guard` applies to it (no login, no automatic
    CSRF check: its forms are FlaskForms, which check their token on validate); its
    responses get the admin pages' headers, and no Referer, which would carry the token."""
    page.after_request(_public_headers)
    PAGE_FILES.append(page)
    return page


@dataclass(frozen=True)
class HomePanel:
    template: str                      # a template of the service's package, included in the home page
    values: Callable[[], dict[str, Any]]  # what it shows, asked for on every visit


HOME_PANELS: list[HomePanel] = []


def home_panel(template: str, values: Callable[[], dict[str, Any]]) -> None:
    """Add a panel to the /admin home, above the menu's tiles, in the order services add
    them: the template sees the home page's context and `panel` (what `values()` returned)."""
    if not any(p.template == template for p in HOME_PANELS):
        HOME_PANELS.append(HomePanel(template, values))


def nav_item(label: str, endpoint: str, permission: str = "view", description: str = "") -> None:
    """Add a link to the menu and the dashboard, shown to users with `permission`."""
    _check_names((permission,))
    if not any(item.endpoint == endpoint for item in NAV):
        NAV.append(NavItem(label, endpoint, permission, description))


# -- wiring ---------------------------------------------------------------------------------
def init_app(app: Flask, svc: "Services") -> None:
    config = svc.config
    app.config.update(
        SECRET_KEY=_secret_key(config),
        SESSION_COOKIE_NAME="citybot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=config.admin_session_minutes),
        WTF_CSRF_CHECK_DEFAULT=False,  # only /admin is checked (by _guard): the webhook is signed, not a form
        WTF_CSRF_TIME_LIMIT=None,      # a token lives as long as the session (which idles out)
    )
    app.config.setdefault("WTF_CSRF_ENABLED", True)
    csrf.init_app(app)

    login_manager = LoginManager(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = "ログインしてください。"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_user_id: str):
        """The account of a session, while its session_version is the one in the cookie."""
        from .models import StaffUser, parse_session_id

        parsed = parse_session_id(session_user_id)
        if parsed is None:
            return None
        user = db().get(StaffUser, parsed[0])
        if user is None or user.disabled or user.session_version != parsed[1]:
            return None
        return user

    app.url_map.converters["id"] = IdConverter  # before the blueprint's rules are added
    app.before_request(_guard)
    app.after_request(_security_headers)
    app.teardown_appcontext(_close_db)
    app.register_blueprint(bp)
    for files in PAGE_FILES:
        app.register_blueprint(files)


def _secret_key(config: Any) -> str:
    if config.admin_secret_key:
        return config.admin_secret_key
    if config.is_production:  # only reachable with a Config that skipped checked()
        log.warning("ADMIN_SECRET_KEY is not set: using a random key, staff sessions end with this process")
        return secrets.token_hex(32)
    return DEV_SECRET_KEY


def _close_db(_exc: BaseException | None) -> None:
    db_session = g.pop("admin_db", None)
    if db_session is not None:
        db_session.close()


def _is_admin_request() -> bool:
    rule = request.url_rule
    return rule is not None and (rule.rule == "/admin" or rule.rule.startswith("/admin/"))


def _guard():
    if not _is_admin_request() or request.endpoint == "admin.static":
        return None
    if refused_input(request.args, request.form) is not None:
        return render_template("admin/error.html", title="入力を受け付けられませんでした",
                               message="使えない文字（制御文字）が含まれています。ページを開き直してから、"
                                       "もう一度操作してください。"), 400
    if request.endpoint not in PUBLIC_ENDPOINTS:
        if not current_user.is_authenticated:
            if request.method in ("GET", "HEAD"):
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            return render_template("admin/error.html", title="ログインが必要です",
                                   message="ログインしてから操作してください。"), 401
        expired = _slide_idle_timeout()
        if expired is not None:
            return expired
        if current_user.must_change_password and request.endpoint not in OPEN_WITH_TEMPORARY_PASSWORD:
            return _to_own_password()
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    return None


def _to_own_password():
    """A temporary password was handed over by someone else: nothing is seen or done with
    it but choosing one's own (a form posted elsewhere is refused, not half done)."""
    if request.method in ("GET", "HEAD"):
        flash(MUST_CHANGE_MESSAGE, "warning")
        return redirect(url_for("admin.own_password"))
    return render_template("admin/error.html", title="パスワードの変更が必要です", message=MUST_CHANGE_MESSAGE), 403


def _within(key: str, at: float, limit: float) -> bool:
    value = session.get(key)
    return isinstance(value, (int, float)) and 0 <= at - value <= limit


def _slide_idle_timeout():
    """Log out a user idle for longer than ADMIN_SESSION_MINUTES or logged in longer than
    ADMIN_SESSION_MAX_HOURS ago, else note this request (which renews only the idle time)."""
    from .audit import audit

    config = services().config
    at = now().timestamp()
    idle_ok = _within(SEEN_KEY, at, config.admin_session_minutes * 60)
    young = _within(LOGIN_KEY, at, config.admin_session_max_hours * 3600)
    if idle_ok and young:
        session[SEEN_KEY] = at
        return None
    name = current_user.name
    logout_user()
    session.clear()
    detail = {"idle_minutes": config.admin_session_minutes} if not idle_ok else \
        {"max_hours": config.admin_session_max_hours}
    audit("session.expired", f"staff:{name}", detail, actor=name)
    db().commit()
    flash(IDLE_MESSAGE if not idle_ok else MAX_AGE_MESSAGE, "warning")
    wanted = request.full_path if request.method in ("GET", "HEAD") else None
    return redirect(url_for("admin.login", next=wanted))


CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"


def _security_headers(response):
    if _is_admin_request():
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "admin.static":
            response.headers["Cache-Control"] = "no-store"
    return response


def _public_headers(response):
    for name, value in (("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"),
                        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer")):
        response.headers.setdefault(name, value)
    if not (request.endpoint or "").endswith(".static"):
        response.headers["Cache-Control"] = "no-store"
    return response


# -- what every admin template sees ------------------------------------------------------------
@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {
        "can": can,
        "nav": [item for item in NAV if can(item.permission)],
        "role_labels": ROLE_LABELS,
        "permission_labels": PERMISSION_LABELS,
    }


@bp.app_template_filter("local_time")
def _local_time(value: datetime | None) -> str:
    """A UTC datetime shown in the city's time zone, e.g. 2026-12-01 09:30:05."""
    if value is None:
        return "—"
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(services().config.timezone)).strftime("%Y-%m-%d %H:%M:%S")


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError):
    return render_template("admin/error.html", title="送信を受け付けられませんでした",
                           message="画面の有効期限が切れたか、不正な送信です。ページを開き直してから、"
                                   "もう一度操作してください。"), 400


@bp.errorhandler(403)
def _forbidden(_error: Exception):
    return render_template("admin/error.html", title="権限がありません",
                           message="この操作を行う権限がありません。必要な場合は管理者に連絡してください。"), 403


def _service_pages() -> None:
    """A city service's own pages live in its package (handlers/<service>/admin.py): its
    routes go on this blueprint like any page here, its templates and static files stay
    in the package (page_files, registered by init_app)."""
    import importlib
    import importlib.util
    import pkgutil

    import handlers

    for info in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda m: m.name):
        if info.ispkg and importlib.util.find_spec(f"handlers.{info.name}.admin") is not None:
            importlib.import_module(f"handlers.{info.name}.admin")


_service_pages()


from . import auth, overview, views, accounts  # noqa: E402,F401 - the routes, in menu order
