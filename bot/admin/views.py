"""The audit log (admins and viewers); the dashboard is in overview.py, staff accounts in accounts.py.

Login is required by bot.admin's guard; `@requires` adds the role check. Each entry is
shown as a sentence (sentences.py: 「desk-a が北区に洪水レベル4（避難指示）を発令」), with
the raw action, target and detail one click away (a <details> element), so nothing the
log holds is hidden behind the wording.
"""

from __future__ import annotations

from flask import render_template, request

from . import bp, db, nav_item, services
from .audit import entries
from .roles import requires
from .sentences import Words, describe

nav_item("操作記録", "admin.audit_log", "audit", "ログイン・ログアウトや各操作の記録を、誰が何をしたかの文で確認します。")


@bp.get("/audit")
@requires("audit")
def audit_log():
    page = entries(db(), page=request.args.get("page", 1, type=int),
                   actor=request.args.get("actor") or None, action=request.args.get("action") or None)
    words = Words(services().content.current())
    rows = [{"entry": e, "sentence": describe(e, words)} for e in page.entries]
    return render_template("admin/audit.html", page=page, rows=rows, actor=request.args.get("actor", ""),
                           action=request.args.get("action", ""))
