"""Following a facility: 「空きが出たら知らせる」, stopping, and the list 「設定」 links to.

Nothing is kept before the resident agrees (they may follow without registering: the
consent is asked at the first follow).
"""

from __future__ import annotations

import re

from bot.messages import Tap

from ..menu import menu_chip
from ..settings import KEPT, Kept
from . import places as cc, tables
from .cards import ward_or_city
from .chat import ChildcareContent, cohort_of, intent


# 「設定」 links to the list; a resident following a facility is not new there
KEPT.append(Kept("action=childcare.following",
                 label=lambda content, lang: content["childcare"].labels["in_settings"].get(lang),
                 has=lambda session, resident: bool(tables.follows_of(session, resident))))


# -- following a facility ---------------------------------------------------------------------------
@intent.postback("childcare.follow")
def follow(turn):
    reply, content, lang = turn.reply, turn.content, turn.lang
    resident, session, now, params = turn.resident, turn.session, turn.now, turn.params
    facility = cc.facilities_of(content).get(params.get("f", ""))
    cohort = cohort_of(params)
    if facility is None or cohort is None:
        return reply(content.text("childcare.unknown_facility", lang), quick=[menu_chip(content, lang)])
    words: ChildcareContent = content["childcare"]
    if resident.consented_at is None and not tables.follows_of(session, resident):  # nothing kept before they agree
        if params.get("agree") != "yes":
            yes, no = words.labels["agree"].get(lang), words.labels["disagree"].get(lang)
            return reply(content.text("childcare.follow_consent", lang, name=facility.name_in(lang)),
                         quick=[Tap(yes, f"action=childcare.follow&f={facility.id}&cohort={cohort}&agree=yes", yes),
                                Tap(no, "action=menu", no)])
    table = cc.vacancies_of(content)
    age = cc.class_of(cohort, table.as_of)
    new = tables.follow(session, resident, facility.id, cohort, now)
    key = "childcare.followed" if new else "childcare.already_following"
    unfollow_label = words.labels["unfollow"].get(lang)
    reply(content.text(key, lang, name=facility.name_in(lang),
                       age=content.text("childcare.age_class", lang, age=age)),
          quick=[Tap(unfollow_label, f"action=childcare.unfollow&f={facility.id}", unfollow_label),
                 menu_chip(content, lang)])


@intent.postback("childcare.unfollow")
def unfollow(reply, content, lang, resident, session, params):
    facility_id = params.get("f", "")
    facility = cc.facilities_of(content).get(facility_id)
    removed = tables.unfollow(session, resident, facility_id)
    if not removed:
        return reply(content.text("childcare.not_following", lang), quick=[menu_chip(content, lang)])
    name = facility.name_in(lang) if facility else facility_id
    reply(content.text("childcare.unfollowed", lang, name=name), quick=[menu_chip(content, lang)])


@intent.postback("childcare.following")
def following(reply, content, lang, resident, session):
    """What the resident follows, each with a chip to stop (「設定」 links here)."""
    follows = tables.follows_of(session, resident)
    words: ChildcareContent = content["childcare"]
    if not follows:
        search = words.labels["search"].get(lang)
        return reply(content.text("childcare.no_following", lang),
                     quick=[Tap(search, "action=childcare", search), menu_chip(content, lang)])
    facilities, table = cc.facilities_of(content), cc.vacancies_of(content)
    lines, chips = [], []
    for row in follows:
        facility = facilities.get(row.facility_id)
        name = facility.name_in(lang) if facility else row.facility_id
        lines.append(content.text("childcare.following_line", lang, name=name,
                                  ward=ward_or_city(content, lang, facility) if facility else "-",
                                  age=content.text("childcare.age_class", lang, age=row.class_on(table.as_of))))
        label = f"× {name}"
        if not any(c.data.endswith(f"f={row.facility_id}") for c in chips):
            chips.append(Tap(label[:20], f"action=childcare.unfollow&f={row.facility_id}", label))
    reply(content.text("childcare.following", lang, list="\n".join(lines)), quick=[*chips[:12], menu_chip(content, lang)])
