"""The audit log in sentences: 「desk-a が北区に洪水レベル4（避難指示）を発令」.

The audit log keeps what happened as data (action, target, detail: bot/admin/audit.py);
staff read it as sentences, with the raw entry one click away on the page. Each action
has a function from the entry (and the words of the current content: hazard and district
names) to its sentence; an action nobody wrote a sentence for still reads as one
(「sato が report.status を実行（report:12）」), so a new action is never hidden.

A module adding actions adds their sentences next to them:

    from bot.admin.sentences import sentence

    @sentence("report.status")
    def _(e, words):
        return f"{e.actor} が通報 {e.target} の状態を「{e.detail['to']}」に変更"
"""

from __future__ import annotations

from datetime import date
from typing import Any, Callable

from ..content.store import Content
from ..messages import listing
from .models import AuditEntry
from .roles import ROLE_LABELS

Sentence = Callable[[AuditEntry, "Words"], str]
SENTENCES: dict[str, Sentence] = {}
WEEKDAYS_JA = "月火水木金土日"
LOGIN_FAILURES = {"unknown_name": "登録のない名前", "wrong_password": "パスワード違い", "disabled": "停止中のアカウント"}


def sentence(action: str) -> Callable[[Sentence], Sentence]:
    def register(fn: Sentence) -> Sentence:
        SENTENCES[action] = fn
        return fn
    return register


class Words:
    """Names for what entries hold as ids, from the content in use (an id content no longer
    knows is shown as it is)."""

    def __init__(self, content: Content | None):
        self.content = content

    def districts(self, ids: Any) -> str:
        """The districts' names; the city's name for none (an action for the whole city)."""
        ids = [str(i) for i in ids or []]
        if not self.content:
            return "・".join(ids) or "市内全域"
        if not ids:
            return self.content.city("ja")
        settings = self.content["settings"]
        return listing((d.name.get("ja") if (d := settings.district(i)) else i for i in ids), "ja", names=True)

    def segment(self, name: Any) -> str:
        from ..segments import segment_label

        return segment_label(self.content, str(name)) if self.content else str(name)


def _who(target: str | None) -> str:
    return (target or "").removeprefix("staff:") or "（不明）"


def _number(target: str | None) -> str:
    return (target or "").split(":", 1)[-1]


def _day(value: Any) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.month}月{day.day}日({WEEKDAYS_JA[day.weekday()]})"


def _d(entry: AuditEntry) -> dict[str, Any]:
    return entry.detail or {}


def describe(entry: AuditEntry, words: Words) -> str:
    """The entry as one sentence; the generic one if its own fails on odd details."""
    fn = SENTENCES.get(entry.action)
    if fn is not None:
        try:
            return fn(entry, words)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
    target = f"（{entry.target}）" if entry.target else ""
    return f"{entry.actor} が {entry.action} を実行{target}"


# -- logging in and out --------------------------------------------------------------------------------
@sentence("login.ok")
def _login_ok(e, w):
    return f"{_who(e.target)} がログイン"


@sentence("login.failed")
def _login_failed(e, w):
    return f"{_who(e.target)} としてのログインに失敗（{LOGIN_FAILURES.get(_d(e).get('reason'), '理由不明')}）"


@sentence("login.blocked")
def _login_blocked(e, w):
    by = "この名前" if _d(e).get("limit") == "name" else "この接続元"
    return f"{_who(e.target)} のログインを{_d(e).get('retry_minutes', '?')}分間停止（{by}での失敗が続いたため）"


@sentence("logout")
def _logout(e, w):
    return f"{e.actor} がログアウト"


@sentence("session.expired")
def _expired(e, w):
    if "idle_minutes" in _d(e):
        return f"{_who(e.target)} を自動でログアウト（{_d(e)['idle_minutes']}分間操作がなかったため）"
    return f"{_who(e.target)} を自動でログアウト（ログインから{_d(e).get('max_hours', '?')}時間たったため）"


# -- staff accounts --------------------------------------------------------------------------------------
def _role(role: Any) -> str:
    return ROLE_LABELS.get(str(role), str(role))


def _via(e: AuditEntry) -> str:
    return "（サーバーのコマンドで）" if _d(e).get("via") == "cli" else ""


@sentence("user.add")
def _user_add(e, w):
    lead = "・責任者" if _d(e).get("lead") else ""
    return f"{e.actor} が職員アカウント {_who(e.target)} を追加（{_role(_d(e).get('role'))}{lead}）{_via(e)}"


@sentence("user.role")
def _user_role(e, w):
    return (f"{e.actor} が {_who(e.target)} の役割を「{_role(_d(e).get('from'))}」から「{_role(_d(e).get('to'))}」に変更"
            f"{_via(e)}")


@sentence("user.lead")
def _user_lead(e, w):
    done = "責任者に指定" if _d(e).get("lead") else "責任者から外す"
    return f"{e.actor} が {_who(e.target)} を{done}{_via(e)}"


@sentence("user.disable")
def _user_disable(e, w):
    return f"{e.actor} が {_who(e.target)} のアカウントを停止{_via(e)}"


@sentence("user.enable")
def _user_enable(e, w):
    return f"{e.actor} が {_who(e.target)} のアカウントを再開{_via(e)}"


@sentence("user.password")
def _user_password(e, w):
    if _who(e.target) == e.actor:
        return f"{e.actor} が自分のパスワードを変更"
    return f"{e.actor} が {_who(e.target)} のパスワードを再設定{_via(e)}"


