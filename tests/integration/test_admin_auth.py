"""The staff web UI's foundation: every /admin page needs a login, roles decide what a
user may do, every form carries a CSRF token, logins are limited and audited.

Helpers for later /admin tests: `staff(name, role)` creates an account, `login(client,
name)` logs in through the form (with its CSRF token), `csrf(client)` gives the token
for a POST of a logged-in client. CSRF is on here as in production;
`app.config["WTF_CSRF_ENABLED"] = False` opts a test out.
"""

from __future__ import annotations

import json
import re

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select

from bot.admin import IDLE_MESSAGE
from bot.admin.audit import audit
from bot.admin.auth import BAD_LOGIN, hash_password, hasher
from bot.admin.models import AuditEntry, LoginAttempt, StaffUser
from bot.admin.roles import ROLE_PERMISSIONS, requires
from bot.cli import main

PASSWORD = "correct horse battery"
WRONG = "not-the-password-42"
HOME = "127.0.0.1"


@pytest.fixture
def staff(services):
    """staff(name, role="admin", password=PASSWORD, disabled=False) -> the stored StaffUser."""

    def create(name: str = "sato", role: str = "admin", password: str = PASSWORD, disabled: bool = False,
               password_hash: str | None = None) -> StaffUser:
        with services.sessions() as session:
            user = StaffUser(name=name, role=role, password_hash=password_hash or hash_password(password),
                             disabled=disabled, created_at=services.now())
            session.add(user)
            session.commit()
            return user

    return create


def csrf(client, path: str = "/admin/login", ip: str = HOME) -> str:
    page = client.get(path, environ_base={"REMOTE_ADDR": ip})
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client, name: str = "sato", password: str = PASSWORD, ip: str = HOME, next_: str | None = None):
    token = csrf(client, ip=ip)
    url = "/admin/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"name": name, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip})


def audit_rows(services) -> list[AuditEntry]:
    with services.sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def admin_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.rule.startswith("/admin") and r.endpoint not in ("admin.login", "admin.static")]


def dummy_url(rule) -> str:
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", lambda m: "1" if m.group(1) in ("int", "float", "id") else "x",
                  rule.rule)


# -- login required everywhere ------------------------------------------------------------------
def test_every_admin_url_needs_a_login(app, client):
    rules = admin_rules(app)
    assert {"admin.dashboard", "admin.audit_log", "admin.users", "admin.logout"} <= {r.endpoint for r in rules}
    for rule in rules:
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            response = client.open(dummy_url(rule), method=method)
            assert response.status_code in (302, 401), f"{method} {rule.rule}: {response.status_code}"
            if response.status_code == 302:
                assert response.location.startswith("/admin/login"), f"{method} {rule.rule} -> {response.location}"


def test_login_page_and_styles_are_public_and_browser_ready(client):
    page = client.get("/admin/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="name"' in html and 'name="password"' in html and 'type="password"' in html
    assert 'type="submit"' in html and 'name="csrf_token"' in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/admin/static/admin.css").status_code == 200


# -- logging in and out -------------------------------------------------------------------------
def test_login_shows_the_user_and_role_then_logout_ends_the_session(client, staff, services):
    staff("sato", "desk")
    response = login(client, "Sato ")  # names are case-insensitive, surrounding spaces ignored
    assert response.status_code == 302 and response.location == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/admin/").get_data(as_text=True)
    assert "sato" in home and "窓口担当" in home and "ログアウト" in home

    assert client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")}).status_code == 302
    assert client.get("/admin/").status_code == 302
    actions = [(e.actor, e.action, e.target) for e in audit_rows(services)]
    assert actions == [("sato", "login.ok", "staff:sato"), ("sato", "logout", "staff:sato")]


def test_wrong_password_unknown_name_and_disabled_account_get_the_same_answer(client, staff, services):
    staff("sato", "admin")
    staff("kato", "desk", disabled=True)
    answers = [login(client, "sato", WRONG), login(client, "nobody", WRONG), login(client, "kato", PASSWORD)]
    for response in answers:
        assert response.status_code == 401
        assert BAD_LOGIN in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    rows = audit_rows(services)
    assert [(e.action, e.target, e.detail["reason"]) for e in rows] == [
        ("login.failed", "staff:sato", "wrong_password"), ("login.failed", "staff:nobody", "unknown_name"),
        ("login.failed", "staff:kato", "disabled")]
    assert all(e.actor == "anonymous" and e.remote_addr == HOME for e in rows)


def test_after_login_the_page_asked_for_opens_but_never_another_site(client, staff):
    staff("sato", "viewer")
    first = client.get("/admin/audit?page=1")
    assert first.status_code == 302 and "next=" in first.location
    assert login(client, next_="/admin/audit?page=1").location == "/admin/audit?page=1"
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    for evil in ("https://evil.example/admin/", "//evil.example/admin/", "/simulator/"):
        assert login(client, next_=evil).location == "/admin/"
        client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})


# -- passwords ----------------------------------------------------------------------------------
def test_passwords_are_stored_as_argon2_and_rehashed_when_parameters_change(client, staff, services):
    fresh = staff("sato", "admin")
    assert fresh.password_hash.startswith("$argon2id$") and PASSWORD not in fresh.password_hash
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    staff("kato", "desk", password_hash=weak)
    assert hasher.check_needs_rehash(weak)

    assert login(client, "kato").status_code == 302
    with services.sessions() as session:
        stored = session.scalar(select(StaffUser).where(StaffUser.name == "kato"))
    assert stored.password_hash != weak and not hasher.check_needs_rehash(stored.password_hash)
    assert hasher.verify(stored.password_hash, PASSWORD)
    assert stored.last_login_at is not None
    assert audit_rows(services)[-1].detail == {"role": "desk", "rehashed": True}


def test_the_audit_log_never_holds_a_password(client, staff, services, app):
    staff("sato", "admin")
    login(client, "sato", WRONG)
    login(client, "sato")
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    dump = json.dumps([[e.actor, e.action, e.target, e.detail, e.remote_addr] for e in audit_rows(services)])
    assert [e.action for e in audit_rows(services)] == ["login.failed", "login.ok", "logout"]
    assert PASSWORD not in dump and WRONG not in dump
    with services.sessions() as session, app.test_request_context():
        entry = audit("test.secret", "x", {"password": PASSWORD, "n": 1, "nested": {"api_token": "t", "ok": True}},
                      session=session, actor="system", at=services.now())
        assert entry.detail == {"n": 1, "nested": {"ok": True}}


# -- the login limit ----------------------------------------------------------------------------
def test_a_name_is_locked_after_five_failures_from_anywhere_until_they_age_out(client, staff, services, clock):
    staff("sato", "admin")
    for i in range(5):
        assert login(client, "sato", WRONG, ip=f"10.0.0.{i}").status_code == 401
    clock.advance(minutes=5)
    locked = login(client, "sato", PASSWORD, ip="10.0.1.1")  # the right password, another address
    assert locked.status_code == 429
    assert "10分後にもう一度お試しください" in locked.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert audit_rows(services)[-1].action == "login.blocked"
    assert login(client, "kato", WRONG, ip="10.0.1.1").status_code == 401  # other names are not locked
    clock.advance(minutes=10, seconds=1)
    assert login(client, "sato", PASSWORD, ip="10.0.1.1").status_code == 302


def test_an_address_is_locked_after_twenty_failures_whatever_the_names(client, staff):
    staff("sato", "admin")
    for i in range(20):
        assert login(client, f"guess{i}", WRONG, ip="192.0.2.7").status_code == 401
    assert login(client, "sato", PASSWORD, ip="192.0.2.7").status_code == 429
    assert login(client, "sato", PASSWORD, ip="192.0.2.8").status_code == 302


def test_a_success_does_not_unlock_a_name_early(client, staff, services):
    staff("sato", "admin")
    for _ in range(4):
        assert login(client, "sato", WRONG).status_code == 401
    assert login(client, "sato").status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    assert login(client, "sato", WRONG).status_code == 401
    assert login(client, "sato").status_code == 429
    with services.sessions() as session:  # refused tries are not stored: they do not extend the lock
        assert len(session.scalars(select(LoginAttempt)).all()) == 6


# -- the idle timeout ---------------------------------------------------------------------------
def test_an_idle_session_ends_and_an_active_one_slides(client, staff, clock, services):
    staff("sato", "admin")
    login(client)
    for _ in range(3):  # 87 minutes in all, never 30 in a row
        clock.advance(minutes=29)
        assert client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    expired = client.get("/admin/audit")
    assert expired.status_code == 302 and expired.location.startswith("/admin/login")
    assert IDLE_MESSAGE in client.get(expired.location).get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert audit_rows(services)[-1].action == "session.expired"
    assert login(client).status_code == 302 and client.get("/admin/").status_code == 200


# -- CSRF ---------------------------------------------------------------------------------------
def test_a_post_without_the_csrf_token_is_refused(client, staff, services):
    staff("sato", "admin")
    no_token = client.post("/admin/login", data={"name": "sato", "password": PASSWORD})
    assert no_token.status_code == 400
    assert client.get("/admin/").status_code == 302
    login(client)
    assert client.post("/admin/logout").status_code == 400
    assert client.post("/admin/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/admin/").status_code == 200  # still logged in
    assert client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_a_test_can_turn_csrf_off(app, client, staff):
    app.config["WTF_CSRF_ENABLED"] = False
    staff("sato", "admin")
    assert client.post("/admin/login", data={"name": "sato", "password": PASSWORD}).status_code == 302
    assert client.post("/admin/logout").status_code == 302


def test_the_webhook_needs_no_csrf_token(chat):
    assert chat.resident().says("ヘルプ")


# -- roles --------------------------------------------------------------------------------------
def test_roles_decide_which_pages_open(client, staff):
    expected = {"admin": (200, 200), "viewer": (200, 403), "desk": (403, 403), "editor": (403, 403)}
    for role, (audit_status, users_status) in expected.items():
        staff(role, role)
        login(client, role)
        assert client.get("/admin/").status_code == 200
        assert client.get("/admin/audit").status_code == audit_status, role
        assert client.get("/admin/users").status_code == users_status, role
        client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})


def test_a_viewer_reaches_no_action(app, client, staff):
    """Every POST under /admin but logging out and changing one's own password is refused
    to a viewer (with a valid token)."""
    assert not ROLE_PERMISSIONS["viewer"] & {"send", "approve", "edit_content", "manage_users", "bookings"}
    staff("sato", "admin")
    staff("mori", "viewer")
    login(client, "mori")
    token = csrf(client, "/admin/")
    posts = [r for r in admin_rules(app) if "POST" in r.methods and r.endpoint not in ("admin.logout",
                                                                                       "admin.own_password")]
    assert posts
    for rule in posts:
        response = client.post(dummy_url(rule), data={"csrf_token": token})
        assert response.status_code == 403, f"{rule.rule}: {response.status_code}"
        assert "権限がありません" in response.get_data(as_text=True)


def test_requires_refuses_names_it_does_not_know():
    with pytest.raises(ValueError, match="sned"):
        requires("sned")
    assert requires("desk", "admin")(lambda: "ok").required == ("desk", "admin")


def test_an_admin_changes_roles_and_disables_accounts_with_the_form(client, staff, services):
    staff("sato", "admin")
    mori = staff("mori", "viewer")
    login(client, "sato")
    token = csrf(client, "/admin/users")
    response = client.post(f"/admin/users/{mori.id}/role", data={"csrf_token": token, f"u{mori.id}-role": "desk"})
    assert response.status_code == 302
    assert client.post(f"/admin/users/{mori.id}/disable", data={"csrf_token": token}).status_code == 302
    with services.sessions() as session:
        stored = session.get(StaffUser, mori.id)
        assert (stored.role, stored.disabled) == ("desk", True)
    rows = audit_rows(services)[-2:]
    assert [(e.actor, e.action, e.target, e.detail) for e in rows] == [
        ("sato", "user.role", "staff:mori", {"from": "viewer", "to": "desk"}),
        ("sato", "user.disable", "staff:mori", None)]
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "user.disable" in page and "staff:mori" in page


def test_a_disabled_account_loses_its_open_session(client, staff, services):
    sato = staff("sato", "admin")
    login(client)
    with services.sessions() as session:
        session.get(StaffUser, sato.id).disabled = True
        session.commit()
    assert client.get("/admin/").status_code == 302


# -- the command line ---------------------------------------------------------------------------
@pytest.fixture
def cli(database_url, tmp_path):
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "CITYBOT_ENV": "test", "CITYBOT_INSTANCE_DIR": str(tmp_path)}

    def run(*args: str, input: str | None = None, code: int = 0):
        result = runner.invoke(main, list(args), input=input, env=env)
        assert result.exit_code == code, result.output
        return result.output

    return run


def test_users_are_managed_from_the_command_line(cli, client, services):
    assert "added hanako (desk)" in cli("users", "add", "Hanako", "--role", "desk", "--password-stdin",
                                        input=PASSWORD + "\n")
    prompted = cli("users", "add", "taro", "--role", "viewer", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert "added taro" in prompted and PASSWORD not in prompted
    assert "already" in cli("users", "add", "hanako", "--role", "admin", "--password-stdin",
                            input=PASSWORD + "\n", code=1)
    assert "at least 10" in cli("users", "add", "jiro", "--role", "admin", "--password-stdin", input="short\n", code=2)
    assert "is not one of" in cli("users", "add", "jiro", "--role", "boss", "--password-stdin",
                                   input=PASSWORD + "\n", code=2)

    listing = cli("users", "list")
    assert re.search(r"hanako\s+desk\s+active", listing) and re.search(r"taro\s+viewer\s+active", listing)
    assert login(client, "hanako").status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})

    cli("users", "set-role", "hanako", "editor")
    cli("users", "disable", "hanako")
    assert re.search(r"hanako\s+editor\s+disabled", cli("users", "list"))
    assert login(client, "hanako").status_code == 401
    cli("users", "enable", "hanako")
    assert "no staff account" in cli("users", "disable", "nobody", code=1)

    with services.sessions() as session:
        stored = session.scalar(select(StaffUser).where(StaffUser.name == "hanako"))
    assert stored.password_hash.startswith("$argon2id$")
    cli_rows = [(e.actor, e.action, e.target) for e in audit_rows(services) if e.actor == "system"]
    assert cli_rows == [("system", "user.add", "staff:hanako"), ("system", "user.add", "staff:taro"),
                        ("system", "user.role", "staff:hanako"), ("system", "user.disable", "staff:hanako"),
                        ("system", "user.enable", "staff:hanako")]
    assert PASSWORD not in json.dumps([e.detail for e in audit_rows(services)])
