"""Which handler answers an event, decided in one fixed order; `citybot routes` prints it.

Order, first match wins:
  1. the resident's active conversation (a multi-step dialogue owns their next message)
  2. postback data `action=...`, matched exactly
  3. keywords and synonyms from the intent's content YAML (after normalisation), and
     what an intent's own lookup recognises (garbage: an item's name, reading or typo)
  4. fuzzy similarity over the same keywords (rapidfuzz), accepted above a threshold
  5. the fallback, which offers "did you mean ..." for near misses

Handlers register through an `Intent` (one per module in handlers/) and declare what they
need by parameter name; the names are checked when the router is built, so a typo fails
at start-up instead of on a resident's message. Registering a key twice fails the same way.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import parse_qsl

from .content.models import IntentContent
from .content.store import Content, ContentSchema
from .content.yamlfile import Problem, YamlDocument
from .conversation import RESUME_ACTION, said_ended
from .lookup import normalize

#: What a handler may ask for, by parameter name (see bot/dispatch.py for each value).
INJECTABLE = frozenset({
    "event", "resident", "session", "content", "lang", "now", "reply", "push",
    "text", "params", "location", "match", "conversation", "config",
    "media",  # an image event's photo, fetched from LINE's data endpoint when called
    "turn",  # most of the above as one typed object (bot/turn.py Turn)
})

#: What a recurring job (`@intent.every`) may ask for: it runs in the clock process.
JOB_INJECTABLE = frozenset({"session", "now", "occurrence", "content", "config", "messenger"})

#: Event kinds that are not routed by text or postback.
EVENT_KINDS = frozenset({"follow", "unfollow", "location", "image", "unsupported", "fallback"})

Handler = Callable[..., Any]


class RouteConflict(Exception):
    """The same postback action, intent or event kind registered twice."""


@dataclass(frozen=True)
class Route:
    intent: str
    handler: Handler
    kind: str  # "entry", "postback", or an EVENT_KINDS member
    key: str

    @property
    def handler_name(self) -> str:
        return f"{self.handler.__module__}.{self.handler.__qualname__}"


class Intent:
    """A city service as residents see it: a name, its content file and its handlers.

    `@intent.entry` answers the intent's keywords and the postback `action=<name>`;
    `@intent.postback("name.step")` answers further buttons; `@intent.on("follow")` an
    event kind. A conversation (bot/conversation.py) is attached with `intent.conversation`.
    """

    def __init__(self, name: str, *, content: type[IntentContent] | None = IntentContent,
                 texts: Iterable[str] = (), recognize: Callable[[Content, str], "Recognized | None"] | None = None,
                 recognize_accept: float = 80.0, warm: Callable[[Content], Any] | None = None,
                 files: dict[str, type] | None = None,
                 checks: Iterable[Callable[..., Iterable[Problem]]] = (), interrupts: bool = False,
                 narrower_than: Iterable[str] = (), topics: Iterable[str] = (),
                 middleware: Iterable[Callable[[Any, Callable[[], None]], None]] = ()):
        self.name = name
        # intents this one is a part of: a message naming both is about this one
        # (「粗大ごみの収集日は？」 names 粗大ごみ and 収集日: it is a large-waste question)
        self.narrower_than = frozenset(narrower_than)
        # topics (settings.yaml `topics:`) the service's pushes go to: content must offer them
        self.topics = tuple(topics)
        # wrapped around every event's handling, whichever intent answers it (bot/dispatch.py
        # says where in the chain): a service that changes every answer (a notice line on top)
        self.middleware = list(middleware)
        # a message naming this intent is answered by it even in the middle of another
        # conversation (disaster information, shelters: never "please answer the question")
        self.interrupts = interrupts
        self.content_model = content
        self.texts = tuple(texts)
        self.files = dict(files or {})  # more content files the intent reads ("garbage/items": ItemsFile)
        self.checks = list(checks)      # cross-file checks, run by `citybot content check` and reloads
        # the intent's own lookup, asked what it makes of a message (garbage: its item
        # dictionary, with readings, spellings and typos), so that whatever the service
        # would find reaches it; a fuzzy or several-choice answer counts from `recognize_accept`
        self.recognize = recognize
        self.recognize_accept = recognize_accept
        # builds what the intent derives from a content version (an index), when it loads
        self.warm = warm
        self.routes: list[Route] = []
        self.conversations: list[Any] = []
        self.jobs: list[Any] = []

    def entry(self, handler: Handler) -> Handler:
        self.routes.append(Route(self.name, handler, "entry", self.name))
        return handler

    def postback(self, action: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(self.name, handler, "postback", action))
            return handler
        return register

    def on(self, kind: str) -> Callable[[Handler], Handler]:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; one of {sorted(EVENT_KINDS)}")

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(self.name, handler, kind, kind))
            return handler
        return register

    def conversation(self, conversation: Any) -> Any:
        self.conversations.append(conversation)
        return conversation

    def every(self, cron: str, name: str | None = None, catch_up: bool = True) -> Callable[[Handler], Handler]:
        """Run the function on a cron schedule (city time) in the clock process; `catch_up`
        False for a job that only keeps something in step with the present (bot/scheduler.py)."""
        from .scheduler import Recurring

        def register(job: Handler) -> Handler:
            self.jobs.append(Recurring(name or f"{self.name}.{job.__name__}", cron, job, self.name, catch_up))
            return job
        return register


@dataclass(frozen=True)
class Match:
    """How an event was routed; `citybot ask --explain` prints this."""

    handler: Handler
    intent: str
    how: str  # conversation | postback | keyword | recognized | fuzzy | event | fallback
    score: float | None = None
    keyword: str | None = None
    suggestions: tuple[str, ...] = ()  # intent names, best first
    detail: str | None = None
    leaving: str | None = None  # the conversation this message left for another subject
    instead: "Match | None" = None  # the other subject, should the conversation's step not take it
    then: tuple[Handler, ...] = ()  # called after `handler`, in order (the driver's fallbacks)

    def explain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"handler": f"{self.handler.__module__}.{self.handler.__qualname__}",
                               "intent": self.intent, "how": self.how}
        for key in ("score", "keyword", "detail", "leaving"):
            if getattr(self, key) is not None:
                out[key] = round(self.score, 1) if key == "score" else getattr(self, key)
        if self.suggestions:
            out["suggestions"] = list(self.suggestions)
        return out


@dataclass(frozen=True)
class Recognized:
    """What an intent's own lookup made of a message."""

    how: str      # exact | contained (named inside a longer message) | fuzzy | choices
    score: float  # 100 for exact and contained
    name: str     # the entry recognised, as written in the content


@dataclass(frozen=True)
class Incoming:
    """The routable part of an event, independent of the SDK's classes."""

    kind: str  # text | postback | location | image | follow | unfollow | unsupported
    text: str = ""
    action: str = ""
    params: Mapping[str, str] = field(default_factory=dict)


def parse_postback(data: str) -> tuple[str, dict[str, str]]:
    pairs = dict(parse_qsl(data or "", keep_blank_values=True))
    return pairs.pop("action", ""), pairs


@dataclass
class _KeywordIndex:
    exact: dict[str, tuple[str, str]]  # normalised keyword -> (intent, keyword as written)
    choices: list[str]
    longest_first: list[str]  # intents' own keywords of 2+ characters, for "named somewhere in the message"


class Router:
    def __init__(self, *, fuzzy_accept: float = 88.0, fuzzy_suggest: float = 60.0):
        self.fuzzy_accept = fuzzy_accept
        self.fuzzy_suggest = fuzzy_suggest
        self.intents: dict[str, Intent] = {}
        self.entries: dict[str, Route] = {}
        self.postbacks: dict[str, Route] = {}
        self.kinds: dict[str, Route] = {}
        self.conversations: dict[str, Any] = {}
        self.jobs: dict[str, Any] = {}
        self.middleware: list[Any] = []  # the intents' own, in the order they were included
        self._index: tuple[str, _KeywordIndex] | None = None
        self._parameters: dict[Handler, tuple[str, ...]] = {said_ended: check_parameters(said_ended)}

    def parameters(self, handler: Handler) -> tuple[str, ...]:
        """The dependency names a registered handler asked for (checked at registration)."""
        return self._parameters[handler]

    # -- registration -------------------------------------------------------------------
    def include(self, intent: Intent) -> None:
        if intent.name in self.intents:
            raise RouteConflict(f"intent {intent.name!r} registered twice")
        self.intents[intent.name] = intent
        for route in intent.routes:
            self._parameters[route.handler] = check_parameters(route.handler)
            if route.kind == "entry":
                self._put(self.entries, route.key, route, "intent entry")
                self._put(self.postbacks, route.key, route, "postback action")
            elif route.kind == "postback":
                self._put(self.postbacks, route.key, route, "postback action")
            else:
                self._put(self.kinds, route.key, route, "event kind")
        for conv in intent.conversations:
            self._put(self.conversations, conv.name, conv, "conversation")
            for handler in conv.handlers():
                self._parameters[handler] = check_parameters(handler)
        self.middleware.extend(intent.middleware)
        for job in intent.jobs:
            self._put(self.jobs, job.name, job, "recurring job")
            self._parameters[job.job] = check_parameters(job.job, JOB_INJECTABLE)

    @staticmethod
    def _put(table: dict[str, Any], key: str, value: Any, what: str) -> None:
        if key in table:
            previous = table[key]
            owner = getattr(previous, "handler_name", getattr(previous, "name", previous))
            raise RouteConflict(f"{what} {key!r} is already registered by {owner}")
        table[key] = value

    def warm(self, content: Content) -> None:
        """Let every intent build what it derives from this content version, up front."""
        for intent in self.intents.values():
            if intent.warm is not None:
                intent.warm(content)

    def register_content(self, schema: ContentSchema) -> None:
        """Tell the content loader which files the intents own and what to cross-check."""
        for intent in self.intents.values():
            if intent.content_model is not None:
                schema.add(intent.name, intent.content_model, intent.texts)
            for stem, model in intent.files.items():
                schema.add(stem, model)
            schema.checks.extend(intent.checks)
        schema.checks.append(self.check_content)

    # -- matching -----------------------------------------------------------------------
    def match(self, incoming: Incoming, content: Content, conversation: Any = None, paused: Any = None) -> Match:
        if incoming.kind == "postback" and incoming.action == RESUME_ACTION:
            return self._resume(incoming.params.get("name", ""), conversation, paused)
        if conversation is not None and not self._interrupting(incoming, content, conversation):
            found = self._match_conversation(incoming, conversation, content)
            if found:
                return found
        if incoming.kind == "postback":
            route = self.postbacks.get(incoming.action)
            if route:
                return Match(route.handler, route.intent, "postback", keyword=incoming.action)
            ended = next((c for c in self.conversations.values() if c.owns_action(incoming.action)), None)
            if ended is not None:  # a button of a conversation that is over
                return Match(said_ended, ended.intent, "ended", detail=f"{ended.name}: {incoming.action}")
            return self._fallback(detail=f"unknown postback action {incoming.action!r}")
        if incoming.kind == "text":
            return self._match_text(incoming.text, content)
        route = self.kinds.get(incoming.kind)
        if route:
            return Match(route.handler, route.intent, "event", detail=incoming.kind)
        return self._fallback(detail=f"no handler for {incoming.kind} events")

    def _interrupting(self, incoming: Incoming, content: Content, conversation: Any = None) -> bool:
        """A typed message naming an intent that may interrupt conversations (its own keywords);
        not the conversation of an intent narrower than it, whose answers use its words (a
        report about where one sheltered names the shelters without asking for them)."""
        conv = self.conversations.get(getattr(conversation, "conversation", None) or "")
        own = self.intents.get(conv.intent) if conv is not None else None
        narrower = own.narrower_than if own is not None else frozenset()
        interrupting = [name for name, intent in self.intents.items()
                        if intent.interrupts and name in self.entries and name not in narrower]
        if incoming.kind != "text" or not interrupting or content is None:
            return False
        norm = normalize(incoming.text)
        documents = content.intents()
        for name in interrupting:
            if name in documents:
                if any(len(key) >= 2 and key in norm for key in map(normalize, documents[name].keywords.all())):
                    return True
        return False

    def _match_conversation(self, incoming: Incoming, state: Any, content: Content) -> Match | None:
        conv = self.conversations.get(state.conversation)
        if conv is None:
            return None
        if incoming.kind == "postback" and not conv.owns_action(incoming.action):
            return None  # a tap elsewhere (menu, rich menu) leaves the conversation waiting
        control = conv.control(incoming.kind, incoming.action, incoming.params, incoming.text, state.state, content)
        if control is not None:  # やめる, 戻る, an older question's button: the driver's, not the step's
            first, *then = conv.fallback(control)
            return Match(first, conv.intent, "conversation", detail=f"{conv.name}:{state.state} {control}",
                         then=tuple(then))
        handler = conv.step(state.state, incoming.kind)
        if handler is None:
            return None
        here = Match(handler, conv.intent, "conversation", detail=f"{conv.name}:{state.state}")
        other = self._other_subject(incoming, content, conv.intent)
        if other is None:
            return here
        if conv.takes_any_words(state.state):  # a place, a name: only another service's keyword itself leaves
            exact = other.how == "keyword" and normalize(incoming.text) == normalize(other.keyword or "")
            return replace(other, leaving=conv.name) if exact else here
        return replace(here, instead=replace(other, leaving=conv.name))

    def _other_subject(self, incoming: Incoming, content: Content, own: str) -> Match | None:
        """Another service the message clearly names: its keyword, or its own confident lookup."""
        if incoming.kind != "text" or content is None:
            return None
        found = self._match_text(incoming.text, content)
        return found if found.how in ("keyword", "recognized") and found.intent != own else None

    def _resume(self, name: str, active: Any, paused: Any) -> Match:
        conv = self.conversations.get(name)
        if conv is None or conv.resumer is None:
            return self._fallback(detail=f"no conversation {name!r} to resume")
        mine = [row for row in (active, paused) if row is not None and row.conversation == name]
        if not mine:
            return Match(said_ended, conv.intent, "ended", detail=f"{name}: nothing to resume")
        return Match(conv.resumer, conv.intent, "resume", detail=f"{name}:{mine[0].state}")

    def _match_text(self, text: str, content: Content) -> Match:
        norm = normalize(text)
        if not norm:
            return self._fallback(detail="nothing to match in the text")
        index = self._keyword_index(content)
        hit = index.exact.get(norm)
        if hit:
            return self._entry(hit[0], "keyword", keyword=hit[1])
        recognized = self._recognized(text, content)
        exact = [name for name, r in recognized.items() if r.how == "exact"]
        if len(exact) == 1:
            return self._recognized_entry(exact[0], recognized[exact[0]])
        # an intent's own keywords next: they say what the message is about
        contained = _named_in(norm, index.longest_first, index.exact)
        if len(contained) > 1:
            broader = {b for name in contained for b in self.intents[name].narrower_than}
            contained = {name: key for name, key in contained.items() if name not in broader} or contained
        if len(contained) == 1:
            intent, keyword = next(iter(contained.items()))
            return self._entry(intent, "keyword", keyword=keyword)
        if not contained:
            confident = [name for name, r in recognized.items()
                         if r.how == "contained" or r.score >= self.intents[name].recognize_accept]
            if len(confident) == 1:
                return self._recognized_entry(confident[0], recognized[confident[0]])
        from rapidfuzz import fuzz, process  # here: a message a keyword names (most) never needs it

        scored = process.extract(norm, index.choices, scorer=fuzz.ratio, limit=10,
                                 score_cutoff=self.fuzzy_suggest) if index.choices else []
        ranked: dict[str, tuple[float, str]] = {}
        for intent in contained:
            ranked[intent] = (100.0, contained[intent])
        for choice, score, _ in scored:
            intent, keyword = index.exact[choice]
            ranked.setdefault(intent, (score, keyword))
        for intent, r in recognized.items():
            if r.score >= self.fuzzy_suggest and ranked.get(intent, (0.0, ""))[0] < r.score:
                ranked[intent] = (r.score, r.name)
        if not ranked:
            return self._fallback(detail="no keyword close enough")
        order = sorted(ranked, key=lambda name: -ranked[name][0])
        best, (score, keyword) = order[0], ranked[order[0]]
        if not contained and score >= self.fuzzy_accept and (len(order) == 1 or ranked[order[1]][0] < score):
            return self._entry(best, "fuzzy", score=score, keyword=keyword)
        return self._fallback(suggestions=tuple(order[:4]), score=score,
                              detail="several intents named" if contained else "near misses")

    def _recognized(self, text: str, content: Content) -> dict[str, Recognized]:
        """Each intent's own lookup, asked once per message."""
        found = {}
        for name, intent in self.intents.items():
            if intent.recognize is not None and name in self.entries:
                result = intent.recognize(content, text)
                if result is not None:
                    found[name] = result
        return found

    def _recognized_entry(self, intent: str, recognized: Recognized) -> Match:
        return self._entry(intent, "recognized", score=recognized.score, keyword=recognized.name,
                           detail=recognized.how)

    def _entry(self, intent: str, how: str, **extra: Any) -> Match:
        route = self.entries[intent]
        return Match(route.handler, intent, how, **extra)

    def _fallback(self, suggestions: tuple[str, ...] = (), score: float | None = None,
                  detail: str | None = None) -> Match:
        route = self.kinds.get("fallback")
        if route is None:
            raise LookupError("no fallback handler registered")
        return Match(route.handler, route.intent, "fallback", score=score, suggestions=suggestions, detail=detail)

    def _keyword_index(self, content: Content) -> _KeywordIndex:
        cached = self._index
        if cached and cached[0] == content.version:
            return cached[1]
        exact: dict[str, tuple[str, str]] = {}
        for name, doc in content.intents().items():
            if name not in self.entries:
                continue
            for keyword in doc.keywords.all():
                exact.setdefault(normalize(keyword), (name, keyword))
        exact.pop("", None)
        index = _KeywordIndex(exact=exact, choices=list(exact),
                              longest_first=sorted((k for k in exact if len(k) >= 2), key=len, reverse=True))
        self._index = (content.version, index)
        return index

    # -- checks and listing (bot/routes.py) ----------------------------------------------
    def check_content(self, content: Content, sources: Mapping[str, YamlDocument]) -> list[Problem]:
        from .routes import content_problems

        return content_problems(self, content, sources)

    def unoffered_buttons(self, documents: Mapping[str, Any], sources: Mapping[str, YamlDocument]) -> Any:
        """Content without the buttons of services not installed here (bot/routes.py)."""
        from .routes import unoffered_buttons

        return unoffered_buttons(self, documents, sources)

    def table(self) -> list[tuple[str, str, str, str]]:
        """(order, key, intent, handler) rows in matching order: `citybot routes`."""
        from .routes import routing_table

        return routing_table(self)

    def verify(self) -> None:
        if "fallback" not in self.kinds:
            raise RouteConflict("no handler registered for the fallback")


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def _named_in(norm: str, keys_longest_first: Sequence[str], exact: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """intent -> keyword for the keywords the text contains. A keyword found only inside a
    longer one already found does not count: 「訓練登録」 names one thing, not also 「登録」."""
    found: dict[str, str] = {}
    taken: list[tuple[int, int]] = []
    for key in keys_longest_first:
        start = norm.find(key)
        spans = []
        while start != -1:
            spans.append((start, start + len(key)))
            start = norm.find(key, start + 1)
        free = [(a, b) for a, b in spans if not any(x <= a and b <= y for x, y in taken)]
        if free:
            taken.extend(free)
            found.setdefault(*exact[key])
    return found


def check_parameters(handler: Handler, allowed: frozenset[str] = INJECTABLE) -> tuple[str, ...]:
    """Fail at start-up when a handler asks for something dispatch cannot give."""
    parameters = inspect.signature(handler).parameters
    for name, param in parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{_name(handler)}: *args/**kwargs are not injectable; name what you need")
        if name not in allowed:
            raise TypeError(f"{_name(handler)} asks for {name!r}; it may ask for {', '.join(sorted(allowed))}")
    return tuple(parameters)
