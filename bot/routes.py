"""What the router shows and checks about itself: `citybot routes` and the content checks
that keep keywords, buttons and examples answerable (run on every load and reload).

A button naming a service that is not here (its package removed, or never installed in
this city) is not an error: the menu, the rich menu and every list of choices leave it
out (`unoffered_buttons`, a warning with its file:line), so removing a service's folder
and its content leaves a bot that starts. A button naming a step that an installed
service does not have is a typo, and stays an error."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from pydantic import BaseModel

from .content.store import Content
from .content.yamlfile import Problem, YamlDocument
from .conversation import RESUME_ACTION, said_ended
from .lookup import normalize
from .router import Incoming, Router, _name, parse_postback

#: an unknown service name this close to an installed intent's is a typo of it
TYPO_SCORE = 80.0


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
            if not answered(router, action) and not absent_service(router, action):
                problems.append(source.problem(loc, f"postback action {action!r} is not answered by any handler"))
    return problems

def answered(router: Router, action: str) -> bool:
    """Some handler answers a button sending `action` (a conversation's step, or the way back into one)."""
    return (action == RESUME_ACTION or action in router.postbacks
            or any(c.owns_action(action) for c in router.conversations.values()))


def absent_service(router: Router, action: str) -> bool:
    """No handler answers `action` and no installed intent has its name (`large_waste` or
    `large_waste.cancel` when that service is not here): a button to leave out. A name
    that nearly is an installed intent's (`contactt`, `menuu`) is a typo, not a service
    that is missing: that stays an error."""
    service = action.partition(".")[0]
    if answered(router, action) or service in router.intents:
        return False
    from rapidfuzz import fuzz, process  # here: `citybot ask` imports this module and seldom gets this far

    return process.extractOne(service, list(router.intents), scorer=fuzz.ratio, score_cutoff=TYPO_SCORE) is None


def unoffered_buttons(router: Router, documents: Mapping[str, BaseModel],
                      sources: Mapping[str, YamlDocument]) -> tuple[dict[str, BaseModel], list[Problem]]:
    """The documents without the list entries (menu items, rich-menu areas, choices) whose
    postback names a service that is not here, and a warning for each one left out."""
    warnings: list[Problem] = []
    kept = {}
    for stem, model in documents.items():
        left_out: list[tuple[tuple, str]] = []
        kept[stem] = _without_absent(router, model, (), left_out)
        warnings += [sources[stem].problem(loc, f"button for action {action!r} left out: no service here answers "
                                                f"it (its service is not installed)") for loc, action in left_out]
    return kept, warnings


def _without_absent(router: Router, value: Any, loc: tuple, left_out: list[tuple[tuple, str]]) -> Any:
    """`value` (a model, list or dict of them) rebuilt without the absent services' buttons;
    the same object when nothing in it changed."""
    if isinstance(value, BaseModel):
        updates = {}
        for name in type(value).model_fields:
            field = getattr(value, name)
            new = _without_absent(router, field, loc + (name,), left_out)
            if new is not field:
                updates[name] = new
        return value.model_copy(update=updates) if updates else value
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            postback = getattr(item, "postback", None) if isinstance(item, BaseModel) else None
            if isinstance(postback, str) and absent_service(router, action := parse_postback(postback)[0]):
                left_out.append((loc + (index, "postback"), action))
                continue
            items.append(_without_absent(router, item, loc + (index,), left_out))
        changed = len(items) != len(value) or any(a is not b for a, b in zip(items, value))
        return items if changed else value
    if isinstance(value, dict):
        entries = {key: _without_absent(router, item, loc + (key,), left_out) for key, item in value.items()}
        return entries if any(entries[key] is not value[key] for key in value) else value
    return value


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
        said = (route.handler.__doc__ or "").strip().split("\n")[0] if kind == "fallback" else ""
        rows.append((order, f"{kind}: {said}" if said else kind, route.intent, route.handler_name))
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
