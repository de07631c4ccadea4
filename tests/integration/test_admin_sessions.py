"""A staff session ends for good: a copied `citybot_session` cookie is worthless after a
logout, a password change, a disable, a role change or a lead change of its account
(on any browser, by the web UI or by the command line), and no session lives longer
than ADMIN_SESSION_MAX_HOURS after its login, however busy it is."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import bot.admin as admin
from bot.admin.models import StaffUser
from tests.integration.test_admin_auth import PASSWORD, audit_rows, cli, csrf, login, staff  # noqa: F401

COOKIE = "citybot_session"


def copied(app, client):
    """A second browser holding the same session cookie (a stolen or copied one)."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def refused(browser) -> None:
    page = browser.get("/admin/")
    assert page.status_code == 302 and page.location.startswith("/admin/login"), page.status_code
    assert browser.post("/admin/logout").status_code == 401  # an action: not logged in


def version_of(services, name: str) -> int:
    with services.sessions() as session:
        return session.scalar(select(StaffUser.session_version).where(StaffUser.name == name))


def test_a_copied_cookie_dies_with_the_logout(app, client, staff, services):
    staff("sato", "admin")
    login(client)
    thief = copied(app, client)
    assert thief.get("/admin/").status_code == 200
    assert client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")}).status_code == 302
    refused(thief)
    assert version_of(services, "sato") == 1


def test_logout_ends_every_session_of_the_account_but_not_of_others(app, client, staff):
    staff("sato", "admin")
    staff("mori", "viewer")
    login(client, "sato")
    laptop = app.test_client()
    login(laptop, "sato")
    colleague = app.test_client()
    login(colleague, "mori")
    client.post("/admin/logout", data={"csrf_token": csrf(client, "/admin/")})
    refused(laptop)
    assert colleague.get("/admin/").status_code == 200
    assert login(client, "sato").status_code == 302 and client.get("/admin/").status_code == 200


def test_a_password_set_on_the_command_line_ends_the_sessions(app, client, staff, cli):
    staff("sato", "admin")
    login(client)
    thief = copied(app, client)
    assert thief.get("/admin/").status_code == 200
    cli("users", "set-password", "sato", "--password-stdin", input="a brand new password\n")
    refused(thief)
    refused(client)
    assert login(client, "sato", "a brand new password").status_code == 302


@pytest.mark.parametrize("changes", [[("set-role", "sato", "viewer")], [("set-lead", "sato", "on")],
                                     [("disable", "sato")],
                                     [("disable", "sato"), ("enable", "sato")]])  # still dead after the enable
def test_a_change_of_the_account_on_the_command_line_ends_its_sessions(app, client, staff, cli, changes):
    staff("sato", "admin")
    login(client)
    thief = copied(app, client)
    assert thief.get("/admin/").status_code == 200
    for change in changes:
        cli("users", *change)
    refused(thief)
    refused(client)


def test_a_role_change_or_a_disable_in_the_web_ui_ends_that_accounts_sessions(app, client, staff, services):
    staff("sato", "admin")
    mori = staff("mori", "desk")
    kato = staff("kato", "desk")
    login(client, "sato")
    token = csrf(client, "/admin/users")
    moris, katos = app.test_client(), app.test_client()
    login(moris, "mori")
    login(katos, "kato")
    assert client.post(f"/admin/users/{mori.id}/role", data={"csrf_token": token, f"u{mori.id}-role": "viewer"}) \
        .status_code == 302
    refused(moris)
    assert katos.get("/admin/").status_code == 200
    assert client.post(f"/admin/users/{kato.id}/disable", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/admin/users/{kato.id}/enable", data={"csrf_token": token}).status_code == 302
    refused(katos)
    assert client.get("/admin/users").status_code == 200  # the admin who did it stays logged in
    assert login(moris, "mori").status_code == 302 and moris.get("/admin/").status_code == 200


def test_an_unchanged_role_keeps_the_session(app, client, staff):
    staff("sato", "admin")
    mori = staff("mori", "desk")
    login(client, "sato")
    moris = app.test_client()
    login(moris, "mori")
    client.post(f"/admin/users/{mori.id}/role", data={"csrf_token": csrf(client, "/admin/users"),
                                                      f"u{mori.id}-role": "desk"})
    assert moris.get("/admin/").status_code == 200


def test_a_session_ends_after_the_absolute_lifetime_however_busy(app, client, staff, clock, services):
    assert services.config.admin_session_max_hours == 12
    staff("sato", "admin")
    login(client)
    for _ in range(24):  # 11 h 36 min of work, never idle for 30 minutes
        clock.advance(minutes=29)
        assert client.get("/admin/").status_code == 200
    thief = copied(app, client)  # a cookie renewed all day long
    assert thief.get("/admin/").status_code == 200
    clock.advance(minutes=25)  # 12 h 1 min after the login
    expired = client.get("/admin/audit")
    assert expired.status_code == 302 and expired.location.startswith("/admin/login")
    assert admin.MAX_AGE_MESSAGE in client.get(expired.location).get_data(as_text=True)
    assert audit_rows(services)[-1].action == "session.expired"
    assert audit_rows(services)[-1].detail == {"max_hours": 12}
    refused(thief)
    assert login(client).status_code == 302 and client.get("/admin/").status_code == 200


def test_the_absolute_lifetime_is_a_setting():
    from bot.config import Config

    assert Config.from_env({"ADMIN_SESSION_MAX_HOURS": "2"}).admin_session_max_hours == 2
    with pytest.raises(ValueError, match="ADMIN_SESSION_MAX_HOURS"):
        Config.from_env({"ADMIN_SESSION_MAX_HOURS": "0"})


def test_a_session_cookie_from_before_session_versions_is_refused(app, client, staff):
    """A cookie that names only the user id (as before this change) logs no one in."""
    sato = staff("sato", "admin")
    login(client)
    with client.session_transaction() as session:
        session["_user_id"] = str(sato.id)
    refused(client)
