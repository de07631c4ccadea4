"""Staff accounts managed in /admin by admins: add (a temporary password shown once), role,
lead, disable, reset the password — each ending the account's sessions where its terms
change, each audited without a password — and nobody else may."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from bot.admin.models import StaffUser
from tests.integration.test_admin_auth import PASSWORD, audit_rows, csrf, login, staff  # noqa: F401
from tests.integration.test_admin_desk import flashes, text_of

NEW_PASSWORD = "my own long passphrase"


def account(services, name):
    with services.sessions() as s:
        return s.scalar(select(StaffUser).where(StaffUser.name == name))


def temporary(page: str) -> str:
    return text_of(page, "temporary-password")


def test_an_admin_adds_a_desk_lead_who_logs_in_with_the_temporary_password(app, client, staff, services):
    staff("sato", "admin")
    login(client, "sato")
    token = csrf(client, "/admin/users")
    added = client.post("/admin/users", data={"csrf_token": token, "name": " Kato.H ", "role": "desk", "lead": "y"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200 and text_of(page, "account-name") == "kato.h"
    password = temporary(page)
    assert len(password) == 16 and added.headers["Cache-Control"] == "no-store"
    stored = account(services, "kato.h")
    assert (stored.role, stored.lead, stored.disabled) == ("desk", True, False)
    assert password not in stored.password_hash and stored.password_hash.startswith("$argon2id$")

    kato = app.test_client()
    assert login(kato, "kato.h", password).status_code == 302
    assert kato.get("/admin/").location == "/admin/account/password"  # first: a password of their own
    assert text_of(kato.get("/admin/account/password").get_data(as_text=True), "user-name") == "kato.h"
    [entry] = [e for e in audit_rows(services) if e.action == "user.add"]
    assert (entry.actor, entry.target, entry.detail) == ("sato", "staff:kato.h", {"role": "desk", "lead": True})
    assert password not in json.dumps([e.detail for e in audit_rows(services)])

    for data, says in [({"name": "kato.h", "role": "viewer"}, "kato.h というアカウントはすでにあります。"),
                       ({"name": "佐藤", "role": "viewer"}, "名前は半角の英小文字・数字"),
                       ({"name": "ito", "role": "viewer", "lead": "y"}, "責任者にできるのは窓口担当と管理者だけです。"),
                       ({"name": "ito", "role": "boss"}, "Not a valid choice")]:
        refused = client.post("/admin/users", data={"csrf_token": token, **data})
        assert refused.status_code == 400 and says in refused.get_data(as_text=True), data
    assert account(services, "ito") is None


def test_a_reset_ends_the_sessions_and_only_the_new_password_works(app, client, staff, services):
    staff("sato", "admin")
    mori = staff("mori", "desk")
    morning = app.test_client()
    login(morning, "mori")
    login(client, "sato")
    reset = client.post(f"/admin/users/{mori.id}/password", data={"csrf_token": csrf(client, "/admin/users")})
    password = temporary(reset.get_data(as_text=True))
    assert morning.get("/admin/").status_code == 302  # the session from before the reset is over
    assert login(app.test_client(), "mori", PASSWORD).status_code == 401
    fresh = app.test_client()
    assert login(fresh, "mori", password).status_code == 302
    [entry] = [e for e in audit_rows(services) if e.action == "user.password"]
    assert (entry.actor, entry.target, entry.detail) == ("sato", "staff:mori", None)

    # the owner sets their own: every session of the account ends, the new one logs in
    token = csrf(fresh, "/admin/account/password")
    wrong = fresh.post("/admin/account/password", data={"csrf_token": token, "current": "nope", "new": NEW_PASSWORD,
                                                         "again": NEW_PASSWORD})
    assert wrong.status_code == 400 and "いまのパスワードが違います。" in wrong.get_data(as_text=True)
    short = fresh.post("/admin/account/password", data={"csrf_token": token, "current": password, "new": "short",
                                                        "again": "short"})
    assert short.status_code == 400 and "10文字以上にしてください。" in short.get_data(as_text=True)
    done = fresh.post("/admin/account/password", data={"csrf_token": token, "current": password, "new": NEW_PASSWORD,
                                                       "again": NEW_PASSWORD})
    assert done.status_code == 302 and done.location == "/admin/login"
    assert fresh.get("/admin/").status_code == 302
    assert login(app.test_client(), "mori", password).status_code == 401
    assert login(app.test_client(), "mori", NEW_PASSWORD).status_code == 302
    sentences = [s for s in re.findall(r'data-testid="audit-sentence">([^<]*)<', client.get("/admin/audit")
                                       .get_data(as_text=True))]
    assert "mori が自分のパスワードを変更" in sentences and "sato が mori のパスワードを再設定" in sentences


def test_lead_and_role_changes_end_sessions_and_a_viewer_is_no_lead(app, client, staff, services):
    staff("sato", "admin")
    mori = staff("mori", "desk")
    login(client, "sato")
    token = csrf(client, "/admin/users")
    other = app.test_client()
    login(other, "mori")
    assert client.post(f"/admin/users/{mori.id}/lead", data={"csrf_token": token, "lead": "on"}).status_code == 302
    assert account(services, "mori").lead is True and other.get("/admin/").status_code == 302
    assert client.post(f"/admin/users/{mori.id}/role", data={"csrf_token": token, f"u{mori.id}-role": "viewer"}) \
        .status_code == 302
    stored = account(services, "mori")
    assert (stored.role, stored.lead) == ("viewer", False)
    refused = client.post(f"/admin/users/{mori.id}/lead", data={"csrf_token": token, "lead": "on"}, follow_redirects=True)
    assert "責任者にできるのは窓口担当と管理者だけです。" in flashes(refused.get_data(as_text=True))
    assert [(e.action, e.detail) for e in audit_rows(services) if e.action.startswith("user.")] == [
        ("user.lead", {"lead": True}), ("user.role", {"from": "desk", "to": "viewer", "lead": False})]
    yourself = client.post(f"/admin/users/{account(services, 'sato').id}/password", data={"csrf_token": token},
                           follow_redirects=True)
    assert "自分自身のアカウントはここでは変更できません。" in flashes(yourself.get_data(as_text=True))


def test_only_admins_manage_accounts(app, staff, services):
    mori = staff("mori", "viewer")
    for role in ("desk", "editor", "viewer"):
        staff(f"{role}-user", role)
        client = app.test_client()
        login(client, f"{role}-user")
        token = csrf(client, "/admin/")
        assert client.get("/admin/users").status_code == 403
        for url, data in [("/admin/users", {"name": "intruder", "role": "admin"}),
                          (f"/admin/users/{mori.id}/password", {}), (f"/admin/users/{mori.id}/role",
                                                                     {f"u{mori.id}-role": "admin"}),
                          (f"/admin/users/{mori.id}/lead", {"lead": "on"}), (f"/admin/users/{mori.id}/disable", {})]:
            assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, (role, url)
        assert 'href="/admin/users"' not in client.get("/admin/").get_data(as_text=True)
    assert account(services, "intruder") is None
    stored = account(services, "mori")
    assert (stored.role, stored.lead, stored.disabled, stored.session_version) == ("viewer", False, False, 0)
    assert not [e for e in audit_rows(services) if e.action.startswith("user.")]


def test_a_temporary_password_opens_only_the_page_that_replaces_it(app, client, staff, services):
    staff("sato", "admin")
    login(client, "sato")
    added = client.post("/admin/users", data={"csrf_token": csrf(client, "/admin/users"), "name": "ueda",
                                              "role": "admin"})  # an admin: a refusal below is the guard's
    password = temporary(added.get_data(as_text=True))
    assert account(services, "ueda").must_change_password

    ueda = app.test_client()
    assert login(ueda, "ueda", password).status_code == 302
    for page in ("/admin/", "/admin/incidents", "/admin/users", "/admin/audit"):
        sent = ueda.get(page)
        assert sent.status_code == 302 and sent.location == "/admin/account/password", page
    told = ueda.get("/admin/account/password")
    assert told.status_code == 200 and "仮のパスワードでログインしています" in told.get_data(as_text=True)
    token = csrf(ueda, "/admin/account/password")
    refused = ueda.post("/admin/users", data={"csrf_token": token, "name": "ito", "role": "admin"})
    assert refused.status_code == 403 and account(services, "ito") is None

    changed = ueda.post("/admin/account/password", data={"csrf_token": token, "current": password,
                                                          "new": NEW_PASSWORD, "again": NEW_PASSWORD})
    assert changed.status_code == 302 and not account(services, "ueda").must_change_password
    again = app.test_client()
    assert login(again, "ueda", NEW_PASSWORD).status_code == 302
    assert again.get("/admin/").status_code == 200

    # an admin's reset makes it temporary again
    reset = client.post(f"/admin/users/{account(services, 'ueda').id}/password",
                        data={"csrf_token": csrf(client, "/admin/users")})
    after_reset = app.test_client()
    assert login(after_reset, "ueda", temporary(reset.get_data(as_text=True))).status_code == 302
    assert after_reset.get("/admin/").location == "/admin/account/password"
