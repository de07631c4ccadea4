"""よくある質問: city-hall questions answered from the city's prepared answers.

The FAQ comes after the services. It is asked in two places only:

- the fallback (handlers/fallback.py), when no service took the message: a question
  like 「住民票を取りたい」 or 「市役所で住民票はどこで取れる」 (two intents named) lands
  there, and the FAQ answers before anyone says "did you mean";
- its own keywords (content/faq.yaml): よくある質問, and the names of procedures
  (印鑑登録, 住民票, 児童手当 …). A service's generic word inside a longer procedure name
  (登録 in 印鑑登録) is not the service's (bot/router.py, _named_in): the name is ours.

The search (search.py) gives one confident answer, up to three choices, or nothing:
an answer comes with the close neighbours it was picked from as chips (「こちらですか」:
児童手当の申請 answered, 支給日 one tap away), so answering the best of a close cluster
at once costs a resident who meant the neighbour no more than the choice list did. Nothing:
then the city's contact (content/contact.yaml) and the question goes on the staff's
list of unanswered questions (text only, tables.py). After an answer, 「役に立ちましたか」
はい／いいえ; いいえ puts the question on that list too, so the city grows its answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.content.store import Content
from bot.conversation import Conversation
from bot.lookup import normalize
from bot.messages import Tap
from bot.router import Intent

from ..menu import menu_chip
from . import record
from .entries import QUESTIONS, TEXTS, Entry, FaqContent, QuestionsFile, check_faq
from .search import MAX_CHOICES, Found, index_for

intent = Intent("faq", content=FaqContent, texts=TEXTS, files={QUESTIONS: QuestionsFile}, checks=[check_faq],
                warm=index_for)
# 「役に立ちましたか」 remembers the question asked until はい or いいえ (or 30 minutes); it
# answers only those two taps, so anything typed meanwhile is routed as usual.
feedback = intent.conversation(Conversation("faq_feedback", "faq", timeout=timedelta(minutes=30),
                                            action_prefix="faq.feedback."))


def search(content: Content, text: str) -> Found:
    return index_for(content).search(text) if text and text.strip() else Found()


# -- what is said ---------------------------------------------------------------------------------
def answer(reply, content: Content, lang: str, entry: Entry, *, conversation: Any = None, question: str = "",
           notes: tuple[str, ...] = (), nearby: tuple[Entry, ...] = (), others: tuple[Entry, ...] = ()) -> None:
    """A prepared answer, its link and department, the close questions it was picked from
    (`nearby`: one tap to theirs), and 役に立ちましたか. The search's next candidates (`others`)
    are remembered with the question: いいえ offers them (answered_feedback)."""
    words: FaqContent = content["faq"]
    body = shown(content, lang, entry.answer.ja, entry.answer.get(lang), lang == "en" and not entry.answer.en)
    said = content.text("faq.answer", lang, question=shown(content, lang, entry.question.ja,
                                                           entry.question.get(lang),
                                                           lang == "en" and not entry.question.en),
                        answer=body)
    if entry.department:
        said += "\n" + content.text("faq.department", lang, department=entry.department)
    if entry.url:
        said += "\n" + content.text("faq.more_info", lang, url=entry.url)
    if nearby:
        said += "\n\n" + content.text("faq.nearby", lang)
    chips = [Tap(words.labels["yes"].get(lang), f"action=faq.feedback.yes&id={entry.id}", words.labels["yes"].get(lang)),
             Tap(words.labels["no"].get(lang), f"action=faq.feedback.no&id={entry.id}", words.labels["no"].get(lang)),
             *(choice_chip(lang, e) for e in nearby if e.id != entry.id),
             menu_chip(content, lang)]
    helpful = content.text("faq.helpful", lang)
    reply(*notes, said[:4990 - len(helpful)] + "\n\n" + helpful, quick=chips)  # one message: one reply, one bubble
    active = getattr(conversation, "active", None)
    if question and conversation is not None and (active is None or active.conversation == feedback.name):
        conversation.start(feedback.name, "asked", question=question[:200], id=entry.id,
                           nearby=[e.id for e in nearby if e.id != entry.id],
                           others=[e.id for e in others if e.id != entry.id])


def answer_found(reply, content: Content, lang: str, found: Found, *, conversation: Any = None,
                 question: str = "") -> None:
    """The search's answer, with the neighbours it was picked from."""
    assert found.best is not None
    answer(reply, content, lang, found.best.entry, conversation=conversation, question=question,
           nearby=tuple(hit.entry for hit in found.nearby), others=tuple(hit.entry for hit in found.others))


def shown(content: Content, lang: str, ja: str, text: str, untranslated: bool) -> str:
    """Imported answers are Japanese until staff translate them: an English answer says so."""
    return content.text("faq.untranslated", lang, text=ja) if untranslated else text


def offer(reply, content: Content, lang: str, found: Found, extra: list[Tap] = (), *, conversation: Any = None,
          question: str = "") -> None:
    """Up to three prepared questions to choose from."""
    offer_entries(reply, content, lang, content.text("faq.choose", lang), [hit.entry for hit in found.choices], extra,
                  conversation=conversation, question=question)


def offer_entries(reply, content: Content, lang: str, said: str, entries: list[Entry], extra: list[Tap] = (), *,
                  conversation: Any = None, question: str = "") -> None:
    """`said`, the prepared questions as chips, the contact, `extra`; a tap answers `question`."""
    chips = [choice_chip(lang, e) for e in entries]
    reply(said, quick=[*chips, other_chip(content, lang), *extra][:13])
    remember_choices(conversation, question, entries)


def remember_choices(conversation: Any, question: str, entries: list[Entry]) -> None:
    """The question asked, while its choices are on screen: the one tapped is answered with
    役に立ちましたか about *this* question (show_entry), so いいえ puts it on the staff's list
    as an answer given at once does. No step answers in this state: はい／いいえ of an older
    answer are counted as they always are."""
    active = getattr(conversation, "active", None)
    if question and entries and conversation is not None and (active is None or active.conversation == feedback.name):
        conversation.start(feedback.name, "offered", question=question[:200], choices=[e.id for e in entries])


def choice_chip(lang: str, entry: Entry) -> Tap:
    question = entry.question.get(lang)
    return Tap(question[:20], f"action=faq.show&id={entry.id}", question[:300])


def other_chip(content: Content, lang: str) -> Tap:
    label = content["faq"].labels["other"].get(lang)
    return Tap(label, "action=contact", label)


def not_found(reply, content: Content, lang: str, text: str, session: Session | None, now: datetime | None,
              quick: list[Tap]) -> None:
    """Nothing prepared: say so, give the city's contact, and put the question on the list."""
    info = content["contact"]
    short = " ".join(text.split())
    reply(content.text("faq.not_found", lang, text=short if len(short) <= 30 else short[:29] + "…",
                       phone=info.phone, hours=info.hours.get(lang)), quick=quick)
    if session is not None and now is not None:
        record.unanswered(session, text, lang, now)


# -- the intent's own routes ------------------------------------------------------------------------
@intent.entry
def ask_faq(turn):
    """「よくある質問」 or the menu: the intro; 「印鑑登録をしたい」: the answer."""
    reply, content, lang, text = turn.reply, turn.content, turn.lang, turn.text
    session, conversation, now = turn.session, turn.conversation, turn.now
    words: FaqContent = content["faq"]
    typed = normalize(text)
    if not typed or typed in {normalize(k) for k in _own_words(words)}:
        return intro(reply, content, lang)
    found = search(content, text)
    if found.best is not None:
        return answer_found(reply, content, lang, found, conversation=conversation, question=text)
    if found.choices:
        return offer(reply, content, lang, found, [menu_chip(content, lang)], conversation=conversation, question=text)
    not_found(reply, content, lang, text, session, now, [other_chip(content, lang), menu_chip(content, lang)])


def _own_words(words: FaqContent) -> list[str]:
    """The words naming the FAQ itself (its label, `about_faq`), not a procedure."""
    label = [words.label.ja, words.label.en, words.label.easy_ja] if words.label else []
    return [*label, *words.about_faq]


def intro(reply, content: Content, lang: str) -> None:
    words: FaqContent = content["faq"]
    questions: QuestionsFile = content[QUESTIONS]
    chips = [choice_chip(lang, e) for e in (questions.entry(i) for i in words.popular) if e is not None]
    reply(content.text("faq.intro", lang), quick=[*chips, menu_chip(content, lang)][:13])


@intent.postback("faq.show")
def show_entry(reply, content, lang, params, conversation):
    """A prepared question tapped: from the intro, a choice list, or a 「こちらですか」 chip
    under an answer. A chip means the resident's question was about that neighbour, not the
    answer first given: the question's record (the 役に立ちましたか conversation) now names
    the neighbour, so what is said about the question next (はい, いいえ) is about it. A
    choice tapped answers the question that offered it (remember_choices), recorded as an
    answer given at once is; a question tapped with no question on record (the intro) is
    recorded as itself, so いいえ puts it on the staff's list too. A question tapped while
    another answer's record is open (an older intro) leaves that record as it is."""
    entry = content[QUESTIONS].entry(params.get("id", ""))
    if entry is None:
        return intro(reply, content, lang)
    active = getattr(conversation, "active", None)
    data = conversation.data if active is not None else {}
    question = ""
    if active is None:
        question = entry.question.get(lang)
    elif active.conversation == feedback.name and active.state == "offered":
        question = data["question"] if entry.id in data.get("choices", ()) else entry.question.get(lang)
    elif active.conversation == feedback.name and entry.id in data.get("nearby", ()):
        conversation.goto("asked", id=entry.id, nearby=[i for i in (data["id"], *data["nearby"]) if i != entry.id],
                          others=[i for i in data.get("others", ()) if i != entry.id])  # not the one read and left
    answer(reply, content, lang, entry, conversation=conversation, question=question)


@feedback.state("asked", kinds=("postback",))
def answered_feedback(turn):
    """はい／いいえ while the question is remembered: いいえ puts it on the staff's list."""
    data, got = turn.conversation.data, feedback.answer(turn)
    turn.conversation.end()
    helpful = got.verb == "yes"
    record.feedback(turn.session, got.params.get("id") or data.get("id", ""), helpful, turn.now)
    if not helpful and data.get("question"):
        record.unanswered(turn.session, data["question"], turn.lang, turn.now, reason="unhelpful")
    about_it = got.params.get("id", data.get("id")) == data.get("id")  # not an older answer's いいえ
    if not helpful and about_it and data.get("question"):
        # the question was likely one of the candidates the search passed over: one tap answers it
        questions: QuestionsFile = turn.content[QUESTIONS]
        others = [e for e in (questions.entry(i) for i in data.get("others", ())) if e is not None][:MAX_CHOICES]
        if others:
            info = turn.content["contact"]
            said = turn.content.text("faq.not_this", turn.lang, phone=info.phone, hours=info.hours.get(turn.lang))
            return offer_entries(turn.reply, turn.content, turn.lang, said, others,
                                 [menu_chip(turn.content, turn.lang)], conversation=turn.conversation,
                                 question=data["question"])
    _thank(turn.reply, turn.content, turn.lang, helpful)


@intent.postback("faq.feedback.yes")
def helpful_later(reply, content, lang, params, session, now):
    record.feedback(session, params.get("id", ""), True, now)
    _thank(reply, content, lang, True)


@intent.postback("faq.feedback.no")
def unhelpful_later(reply, content, lang, params, session, now):
    record.feedback(session, params.get("id", ""), False, now)
    _thank(reply, content, lang, False)


def _thank(reply, content: Content, lang: str, helpful: bool) -> None:
    if helpful:
        return reply(content.text("faq.thanks", lang), quick=[menu_chip(content, lang)])
    info = content["contact"]
    reply(content.text("faq.sorry", lang, phone=info.phone, hours=info.hours.get(lang)),
          quick=[other_chip(content, lang), menu_chip(content, lang)])
