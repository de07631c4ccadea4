"""Broadcasts from the disaster desk: composed, previewed, approved by a second person, sent once.

    compose (a template of content/disaster.yaml, filled with an incident's fields, each
    language editable) -> target (all friends, districts, or a named segment)
    -> preview (the messages per language and how many residents) -> submit
    -> approve by another desk user   |  or a lead sends alone, with a written reason
    -> sent: one urgent push through the durable delivery (bot/delivery.py)

Every transition is one conditional UPDATE on the broadcast's status, and the push's
source key is the broadcast's id, so a re-submitted form, a double click or two desk
users approving at the same moment send it once. In training mode the push goes only
to residents flagged as testers, and every message starts with 【訓練】.

"All friends" goes through LINE's broadcast endpoint (it also reaches friends who never
wrote to the bot); districts and segments are multicasts to the residents who
registered them, each in the language they chose. The preview says how many friends a
district or segment cannot reach (reach.py) — those who registered no district, or never
agreed to registration — so that the desk can switch to all friends before sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import delivery, segments
from bot.content.models import LANGUAGES
from bot.content.store import Content, _Keep
from bot.db import insert_for
from bot.messages import ShareLocation, Tap, listing
from bot.messages import text as text_message
from bot.models import Resident

from .incidents import district_names, hazard_name, level_name
from .reach import reach
from .shelters import shelters_of
from .tables import Broadcast, BroadcastStatus, Incident

Target = Literal["all", "districts", "segment"]
STATUSES = tuple(BroadcastStatus)


# -- composing -------------------------------------------------------------------------------------
def fill(content: Content, template_id: str, incident: Incident | None) -> dict[str, str]:
    """The template's text per language, with the incident's fields filled in."""
    template = content["disaster"].template(template_id)
    if template is None:
        raise ValueError(f"テンプレート {template_id!r} はありません（content/disaster.yaml）")
    out = {}
    for lang in LANGUAGES:
        values: dict[str, Any] = {}
        if incident is not None:
            sites = shelters_of(content)
            values = {"level": incident.level, "level_name": level_name(content, lang, incident.level),
                      "hazard": hazard_name(content, lang, incident.hazard),
                      "districts": district_names(content, lang, incident.districts),
                      "shelters": listing((s.name_in(lang) for i in incident.shelters if (s := sites.get(i))),
                                          lang) or "-",   # named as residents of `lang` read them
                      "status": incident.status_in(lang)}
        out[lang] = template.text.get(lang).format_map(_Keep(values))
    return out


@dataclass(frozen=True)
class Audience:
    target: Target
    districts: tuple[str, ...] = ()
    segment: str | None = None
    training: bool = False

    def check(self, content: Content) -> None:
        known = {d.id for d in content["settings"].districts}
        if self.target == "districts":
            if not self.districts:
                raise ValueError("区を1つ以上選んでください")
            unknown = [d for d in self.districts if d not in known]
            if unknown:
                raise ValueError(f"登録されていない区です: {'、'.join(unknown)}")
        elif self.target == "segment":
            if self.segment not in content["segments"].segments:
                raise ValueError(f"グループ {self.segment!r} はありません（content/segments.yaml）")
        elif self.target != "all":
            raise ValueError(f"送信先 {self.target!r} は選べません")

    def recipients(self, content: Content, on: date):
        """SELECT of resident ids (training: testers only, wherever they live)."""
        if self.training:
            return select(Resident.id).where(Resident.following.is_(True), Resident.tester.is_(True))
        if self.target == "districts":
            return segments.recipients(segments.Segment(districts=list(self.districts)), on)
        if self.target == "segment":
            return segments.recipients(content["segments"].segments[self.segment], on)
        return segments.recipients(segments.Segment(everyone=True), on)

    def count(self, session: Session, content: Content, on: date) -> int:
        return session.scalar(select(func.count()).select_from(self.recipients(content, on).subquery())) or 0

    def via_line_broadcast(self) -> bool:
        return self.target == "all" and not self.training


MAX_TEXT = 5000  # LINE counts UTF-16 code units


def messages_for(content: Content, texts: dict[str, str], training: bool,
                 template: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """One text message per language; in training mode each starts with the language's
    drill mark (【訓練】, [DRILL], 【くんれん】: content/disaster.yaml). Each carries a "send my
    location" button: one tap and the resident gets the nearest open shelters; a template
    the city marked `ask_safety` also 「安否を知らせる」, which starts a safety report."""
    chosen = content["disaster"].template(template) if template else None
    ask_safety = bool(chosen and chosen.ask_safety and "safety" in content.intents())
    def mark(lang: str) -> str:
        if not training:
            return ""
        word = content.text("disaster.training_mark", lang)
        return word + (" " if word[-1:].isascii() else "")  # "[DRILL] Evacuate", "【訓練】避難"

    def located(lang: str) -> list[Tap]:
        taps: list[Tap] = [ShareLocation(content["disaster"].labels["location"].get(lang))]
        if ask_safety:
            from .safety_reports import report_button

            taps.append(report_button(content, lang))
        return taps
    return {lang: [text_message(f"{mark(lang)}{texts[lang]}", quick=located(lang))] for lang in LANGUAGES}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def preview(session: Session, content: Content, texts: dict[str, str], audience: Audience, on: date,
            incident_id: int | None = None, template: str | None = None) -> dict[str, Any]:
    """What the desk sees before submitting: the messages per language, and the count.
    A drill's incident can only be sent as a drill (never to everyone as a real order)."""
    incident = session.get(Incident, incident_id) if incident_id is not None else None
    if incident is not None and incident.training and not audience.training:
        raise ValueError("訓練の災害情報からは、訓練モード（テスター宛て・【訓練】付き）でしか配信できません")
    audience.check(content)
    missing = [lang for lang in LANGUAGES if not (texts.get(lang) or "").strip()]
    if missing:
        raise ValueError(f"すべての言語で本文を書いてください（未入力: {'、'.join(missing)}）")
    messages = messages_for(content, texts, audience.training, template)
    long = [lang for lang, [message] in messages.items() if _utf16_len(message["text"]) > MAX_TEXT]
    if long:
        raise ValueError(f"本文が長すぎます（LINEは{MAX_TEXT}文字まで）: {'、'.join(long)}")
    return {"messages": messages, "count": audience.count(session, content, on),
            "line_broadcast": audience.via_line_broadcast(), "reach": reach(session, content, audience, on)}


def submit(session: Session, content: Content, *, form_key: str, template: str, texts: dict[str, str],
           audience: Audience, incident_id: int | None, by: str, now: datetime, on: date) -> tuple[Broadcast, bool]:
    """Store the broadcast for approval; (broadcast, created). The same form submitted again
    returns the first one and creates nothing, also when the two arrive at the same moment
    (INSERT ... ON CONFLICT DO NOTHING on the unique form_key, not a check then an insert)."""
    existing = session.scalars(select(Broadcast).where(Broadcast.form_key == form_key)).first()
    if existing is not None:
        return existing, False
    shown = preview(session, content, texts, audience, on, incident_id=incident_id, template=template)
    row_id = session.scalar(insert_for(session, Broadcast).values(
        form_key=form_key, incident_id=incident_id, template=template,
        texts={lang: texts[lang].strip() for lang in LANGUAGES}, target=audience.target,
        districts=list(audience.districts), segment=audience.segment, training=audience.training,
        status=BroadcastStatus.PENDING, audience=shown["count"], created_by=by, created_at=now,
    ).on_conflict_do_nothing(index_elements=["form_key"]).returning(Broadcast.id))
    if row_id is None:  # the same form, stored by a request that got there first
        return session.scalars(select(Broadcast).where(Broadcast.form_key == form_key)).one(), False
    return session.get(Broadcast, row_id), True


class NotAllowed(Exception):
    """The action is refused (the author approving their own, no reason given); the
    message is for the staff member, in Japanese like the rest of /admin."""


def audience_of(row: Broadcast) -> Audience:
    return Audience(row.target, tuple(row.districts or ()), row.segment, row.training)


def approve(session: Session, content: Content, row: Broadcast, *, by: str, now: datetime, on: date,
            alone_reason: str | None = None, is_lead: bool = False) -> int | None:
    """Send it: by a second desk user, or by a lead alone with a written reason.

    Returns the push id, or None when someone else decided first (nothing sent twice)."""
    if row.created_by == by:
        if not is_lead:
            raise NotAllowed("自分が作成した配信は、別の窓口担当の承認が必要です"
                             "（責任者は理由を書いて単独で送信できます）。")
        if not (alone_reason or "").strip():
            raise NotAllowed("単独で送信する理由を書いてください。")
    taken = session.execute(
        update(Broadcast).where(Broadcast.id == row.id,
                                Broadcast.status.in_(BroadcastStatus.sources(BroadcastStatus.SENT)))
        .values(status=BroadcastStatus.SENT, decided_by=by, decided_at=now,
                alone_reason=(alone_reason or "").strip() or None if row.created_by == by else None)
        .execution_options(synchronize_session=False))
    if not taken.rowcount:
        return None
    audience = audience_of(row)
    messages = messages_for(content, row.texts, row.training, row.template)
    key = f"broadcast:{row.id}"
    if audience.via_line_broadcast():
        together = [m for lang in ("ja", "easy_ja", "en") for m in messages[lang]]
        push_id = delivery.create_line_broadcast(session, source_key=key, messages=together, now=now,
                                                 audience=audience.count(session, content, on))
    else:
        push_id = delivery.create_push(session, source_key=key, kind="broadcast", messages=messages,
                                       recipients=audience.recipients(content, on), now=now, urgent=True,
                                       segment={"target": row.target, "districts": row.districts,
                                                "segment": row.segment, "training": row.training})
    session.execute(update(Broadcast).where(Broadcast.id == row.id).values(push_id=push_id)
                    .execution_options(synchronize_session=False))
    return push_id


def reject(session: Session, row: Broadcast, *, by: str, now: datetime,
           status: BroadcastStatus = BroadcastStatus.REJECTED) -> bool:
    """Reject (another desk user) or cancel (its author); False when already decided."""
    if not BroadcastStatus.sources(status):
        raise ValueError(f"a broadcast is not decided as {status!r}")
    taken = session.execute(
        update(Broadcast).where(Broadcast.id == row.id, Broadcast.status.in_(BroadcastStatus.sources(status)))
        .values(status=status, decided_by=by, decided_at=now).execution_options(synchronize_session=False))
    return bool(taken.rowcount)


def progress(session: Session, push_id: int | None) -> dict[str, Any]:
    """sent / failed / pending recipients of a broadcast's push, for the progress bar."""
    return delivery.progress(session, push_id)


def pending(session: Session) -> Sequence[Broadcast]:
    return session.scalars(select(Broadcast).where(Broadcast.status == BroadcastStatus.PENDING).order_by(Broadcast.id)).all()
