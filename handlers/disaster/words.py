"""The desk's actions in staff's words: audit sentences and the titles of broadcast pushes.

Registered with the engine's registries (bot.admin.sentences.sentence, bot.admin.titles.title)
when admin.py is imported: 「desk-a が北区に洪水レベル4（避難指示）を発令」,
「【訓練】緊急配信 #3 避難指示（北区）」. Hazard, level and template ids are named from the
content in use; an id content no longer knows is shown as it is.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.admin.models import AuditEntry
from bot.admin.sentences import Words, sentence
from bot.admin.titles import title
from bot.content.store import Content

from .incidents import hazard_name, level_name
from .room import LABELS as ROOM_WORDS  # Room members are their strings: LABELS.get('full') works
from .tables import Broadcast


def _hazard(w: Words, hazard: Any) -> str:
    return hazard_name(w.content, "ja", str(hazard)) if w.content else str(hazard)


def _level(w: Words, level: Any) -> str:
    try:
        return f"レベル{level}（{level_name(w.content, 'ja', int(level))}）" if w.content else f"レベル{level}"
    except (KeyError, ValueError, TypeError):
        return f"レベル{level}"


def _template(w: Words, template_id: Any) -> str:
    found = w.content["disaster"].template(str(template_id)) if w.content else None
    return found.name if found else str(template_id)


def _d(entry: AuditEntry) -> dict[str, Any]:
    return entry.detail or {}


def _number(target: str | None) -> str:
    return (target or "").split(":", 1)[-1]


def _drill(e: AuditEntry) -> str:
    return "【訓練】" if _d(e).get("training") else ""


# -- incidents ------------------------------------------------------------------------------------------
@sentence("incident.declare")
def _declare(e, w):
    d = _d(e)
    return f"{_drill(e)}{e.actor} が{w.districts(d.get('districts'))}に{_hazard(w, d.get('hazard'))}{_level(w, d.get('level'))}を発令"


@sentence("incident.change")
def _change(e, w):
    d, parts = _d(e), []
    if "level" in d:
        parts.append(f"警戒レベル {d['level'].get('from')}→{d['level'].get('to')}")
    if "districts" in d:
        parts.append(f"対象 {w.districts(d['districts'].get('from'))}→{w.districts(d['districts'].get('to'))}")
    if "shelters" in d:
        parts.append(f"開設した避難所 {d['shelters'].get('from')}→{d['shelters'].get('to')} か所")
    if "status" in d:
        parts.append("状況の文面")
    return f"{e.actor} が災害・避難情報 #{_number(e.target)} を変更（{'、'.join(parts) or '内容'}）"


@sentence("incident.end")
def _end(e, w):
    d = _d(e)
    return f"{_drill(e)}{e.actor} が{w.districts(d.get('districts'))}の{_hazard(w, d.get('hazard'))}{_level(w, d.get('level'))}を解除"


# -- the room at open sites ------------------------------------------------------------------------------
@sentence("shelter.room")
def _room(e, w):
    d = _d(e)
    before = f"（{ROOM_WORDS.get(d['from'], d['from'])}から）" if d.get("from") else ""
    who = "避難所のスタッフ（リンク）が" if e.actor.startswith("link:") else f"{e.actor} が"
    return (f"{who}避難所「{d.get('site') or _number(e.target)}」を"
            f"「{ROOM_WORDS.get(d.get('to'), d.get('to'))}」に{before}")


@sentence("shelter.link")
def _link(e, w):
    d = _d(e)
    return f"{e.actor} が避難所「{d.get('site') or _number(e.target)}」のスタッフ用リンクを表示"


@sentence("shelter.link_revoke")
def _link_revoke(e, w):
    d = _d(e)
    return f"{e.actor} が避難所「{d.get('site') or _number(e.target)}」のスタッフ用リンクをすべて無効に"


# -- broadcasts -----------------------------------------------------------------------------------------
def _audience(e: AuditEntry, w: Words) -> str:
    d = _d(e)
    if d.get("target") == "districts":
        whom = w.districts(d.get("districts"))
    elif d.get("target") == "segment":
        whom = f"グループ「{w.segment(d.get('segment'))}」"
    else:
        whom = "友だち全員（LINEの一斉配信）"
    count = f"・{d['audience']} 人" if "audience" in d else ""
    return f"{whom}{count}"


@sentence("broadcast.submit")
def _submit(e, w):
    d = _d(e)
    return (f"{_drill(e)}{e.actor} が緊急配信 #{_number(e.target)}（{_template(w, d.get('template'))}、{_audience(e, w)}）"
            "の承認を依頼")


@sentence("broadcast.approve")
def _approve(e, w):
    return f"{_drill(e)}{e.actor} が {_d(e).get('author', '?')} の緊急配信 #{_number(e.target)}（{_audience(e, w)}）を承認して送信"


@sentence("broadcast.approve_alone")
def _alone(e, w):
    return (f"{_drill(e)}{e.actor} が緊急配信 #{_number(e.target)}（{_audience(e, w)}）を責任者として単独で送信"
            f"（理由：{_d(e).get('reason') or '—'}）")


@sentence("broadcast.reject")
def _reject(e, w):
    reason = f"（理由：{_d(e)['reason']}）" if _d(e).get("reason") else ""
    return f"{e.actor} が {_d(e).get('author', '?')} の緊急配信 #{_number(e.target)} を差し戻し{reason}"


@sentence("broadcast.cancel")
def _cancel(e, w):
    return f"{e.actor} が自分の緊急配信 #{_number(e.target)} を取り消し"


# -- a broadcast's push, as the push pages name it ------------------------------------------------------
@title("broadcast")
def _broadcast(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    row = session.get(Broadcast, int(parts[0]))
    words = Words(content)
    if row is None:
        return f"緊急配信 #{parts[0]}"
    if row.target == "districts":
        whom = words.districts(row.districts)
    elif row.target == "segment":
        whom = f"グループ「{words.segment(row.segment)}」"
    else:
        whom = "友だち全員"
    return f"{'【訓練】' if row.training else ''}緊急配信 #{row.id} {_template(words, row.template)}（{whom}）"


# -- 安否・避難報告 (safety_desk.py) -------------------------------------------------------------------
@sentence("safety.view_help")
def _view_help(e, w):
    d = _d(e)
    return f"{e.actor} が安否・避難報告（助けが必要な方 {d.get('rows', 0)} 件を含む）を閲覧"


@sentence("safety.export_help")
def _export_help(e, w):
    return f"{e.actor} が災害 #{_number(e.target)} の助けが必要な方の一覧（{_d(e).get('rows', 0)} 件）をCSVで出力"


@sentence("safety.remind")
def _remind(e, w):
    return f"{_drill(e)}{e.actor} が災害 #{_number(e.target)} の未報告の方に安否確認を送信（{w.districts(_d(e).get('districts'))}）"


@title("safety-reminder")
def _safety_reminder(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    return f"安否確認 災害 #{parts[0]}（未報告の方へ）"
