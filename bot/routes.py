"""What the router shows and checks about itself: `citybot routes` and the content checks
that keep keywords, buttons and examples answerable (run on every load and reload)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .content.store import Content
from .content.yamlfile import Problem, YamlDocument
from .conversation import RESUME_ACTION, said_ended
from .lookup import normalize
from .router import Incoming, Router, _name, parse_postback


def content_problems(router: Router, content: Content, sources: Mapping[str, YamlDocument]) -> list[Problem]:
    """Keywords claimed by two intents, and buttons whose action no handler answers."""
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for name, doc in sorted(content.intents().items()):
        if name in router.entries and doc.label is None:
            problems.append(sources[name].problem((), "label: is required (residents can ask for this intent)"))
        for lang in ("ja", "en", "easy_ja"):
            for i, keyword in enumerate(getattr(doc.keywords, lang)):
                key = normalize(keyword)
                if not key:
                    problems.append(sources[name].problem(("keywords", lang, i), f"keyword {keyword!r} has no letters"))
                elif owner.setdefault(key, name) != name:
                    problems.append(sources[name].problem(
                        ("keywords", lang, i), f"keyword {keyword!r} is already a keyword of {owner[key]}"))
    for stem, source in sources.items():
        problems.extend(_check_actions(router, source))
    problems.extend(_check_conversations(router, content, sources))
    if not problems:
        problems.extend(_check_examples(router, content, sources))
    return problems

def _check_examples(router: Router, content: Content, sources: Mapping[str, YamlDocument]) -> list[Problem]:
    """Every example an intent offers residents is answered by that intent: 「ソファ」 in
    the garbage intro must not lead to "did you mean" and back to the intro."""
    problems = []
    for name, doc in sorted(content.intents().items()):
        for lang in ("ja", "en", "easy_ja"):
            for i, example in enumerate(getattr(doc.examples, lang)):
                found = router.match(Incoming("text", text=example), content)
                if found.intent != name:
                    problems.append(sources[name].problem(
                        ("examples", lang, i), f"example {example!r} is answered by {found.intent} "
                                               f"({found.how}), not {name}: a resident who tries it is let down; "
                                               f"list things {name} answers (after an import: the new data's)"))
    return problems

def _check_conversations(router: Router, content: Content, sources: Mapping[str, YamlDocument]) -> list[Problem]:
    """What the conversation driver says and offers for a conversation comes from its
    intent's file: a missing one is a content error with its file, not a KeyError mid-chat."""
    problems = []
    documents = content.intents()
    for conv in router.conversations.values():
        doc, source = documents.get(conv.intent), sources.get(conv.intent)
        if not conv.quits or doc is None or source is None:
            continue
        needs = [("texts", "quit"), ("texts", "old_question"), ("labels", "quit"), ("commands", "quit")]
        if conv.back is not None:
            needs += [("labels", "back"), ("commands", "back")]
        if conv.resume_label:
            needs.append(("labels", conv.resume_label))
        for field, key in needs:
            if key not in (getattr(doc, field, None) or {}):
                problems.append(source.problem((field,), f"{field}.{key} is required: the {conv.name} conversation "
                                                         f"says or offers it (bot/conversation.py)"))
    return problems

def _check_actions(router: Router, source: YamlDocument) -> list[Problem]:
    problems = []
    for loc, value in _walk(source.data):
        if loc and loc[-1] == "postback" and isinstance(value, str):
            action, _ = parse_postback(value)
            if action not in router.postbacks and not any(c.owns_action(action) for c in router.conversations.values()):
                problems.append(source.problem(loc, f"postback action {action!r} is not answered by any handler"))
    return problems

def routing_table(router: Router) -> list[tuple[str, str, str, str]]:
    """(order, key, intent, handler) rows in matching order."""
    rows = []
    for conv in router.conversations.values():
        for state, kind, handler in conv.steps():
            words = ", any words" if kind == "text" and conv.takes_any_words(state) else ""
            rows.append(("1 conversation", f"{conv.name}:{state} ({kind}{words})", conv.intent, _name(handler)))
        if conv.quits:
            prefix = f"action={conv.action_prefix}"
            rows.append(("1 conversation", f"{conv.name}: {prefix}quit or commands.quit words -> end",
                         conv.intent, " + ".join(_name(h) for h in conv.fallback("quit"))))
            rows.append(("1 conversation", f"{conv.name}: a button whose step= is not the state -> ask again",
                         conv.intent, " + ".join(_name(h) for h in conv.fallback("old_question"))))
        if conv.back is not None:
            rows.append(("1 conversation", f"{conv.name}: {prefix}back or commands.back words -> the question before",
                         conv.intent, " + ".join(_name(h) for h in conv.fallback("back"))))
        rows.append(("1 conversation", f"{conv.name}: another subject -> leave"
                     + (" (paused, resume button)" if conv.resumer else ""), conv.intent, "bot.dispatch"))
        if conv.resumer:
            rows.append(("1 conversation", f"action={RESUME_ACTION}&name={conv.name}", conv.intent,
                         _name(conv.resumer)))

    for action, route in sorted(router.postbacks.items()):
        rows.append(("2 postback", f"action={action}", route.intent, route.handler_name))
    for conv in router.conversations.values():  # after every registered action: the rest of its prefix
        if conv.action_prefix:
            rows.append(("2 postback", f"action={conv.action_prefix}* when {conv.name} is over -> said so",
                         conv.intent, _name(said_ended)))
    for intent, route in sorted(router.entries.items()):
        rows.append(("3 keyword", f"content/{intent}.yaml keywords", intent, route.handler_name))
        if router.intents[intent].recognize is not None:
            owner = router.intents[intent]
            rows.append(("3 recognized", f"{_name(owner.recognize)} (exact, named inside; "
                         f"fuzzy >= {owner.recognize_accept:g})", intent, route.handler_name))
    for intent, route in sorted(router.entries.items()):
        rows.append(("4 fuzzy", f">= {router.fuzzy_accept:g} (suggest >= {router.fuzzy_suggest:g})", intent,
                     route.handler_name))
    for kind, route in sorted(router.kinds.items()):
        order = "5 fallback" if kind == "fallback" else "- event"
        rows.append((order, kind, route.intent, route.handler_name))
    for name, job in sorted(router.jobs.items()):
        rows.append(("- schedule", f"{name} ({job.cron})", job.intent, _name(job.job)))
    return rows


def _walk(data: Any, loc: tuple = ()) -> Iterable[tuple[tuple, Any]]:
    yield loc, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, loc + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _walk(value, loc + (index,))
