"""What content files may hold, as pydantic models.

Every resident-facing string is a `Text`: Japanese, English and やさしい日本語 side by
side, all three required, so no language is ever left behind by an edit. Limits LINE
enforces (text length, label length, quick-reply count) are checked here, where staff
see them with a line number, instead of as a 400 from LINE on a Sunday night.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Iterable, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

LANGUAGES = ("ja", "en", "easy_ja")
Language = Literal["ja", "en", "easy_ja"]

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def require_keys(mapping: dict, required: frozenset[str] | set[str], what: str) -> dict:
    """Validator body for a mapping a handler reads by fixed keys (texts, labels, commands)."""
    missing = sorted(set(required) - mapping.keys())
    if missing:
        raise ValueError(f"missing {what}: {', '.join(missing)}")
    return mapping


def keys_required(field: str, required: Iterable[str]) -> Any:
    """A field validator: the mapping `field` holds at least these keys (the ones the
    handler reads by name), so a missing one is a content error with its line, not a
    KeyError in front of a resident.

        _labels = keys_required("labels", {"call", "map"})
    """
    keys = frozenset(required)
    return field_validator(field)(classmethod(lambda cls, value: require_keys(value, keys, field)))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Text(Strict):
    """One message in the three languages residents can choose."""

    ja: NonEmpty
    en: NonEmpty
    easy_ja: NonEmpty

    max_len: ClassVar[int] = 5000

    @model_validator(mode="after")
    def _fits_line(self) -> "Text":
        for lang in LANGUAGES:
            value = getattr(self, lang)
            if _utf16_len(value) > self.max_len:
                raise ValueError(f"{lang} is {_utf16_len(value)} characters; LINE allows {self.max_len}")
        return self

    def get(self, lang: str) -> str:
        return getattr(self, lang if lang in LANGUAGES else "ja")


class Label(Text):
    """A button or quick-reply label: LINE cuts them at 20 characters."""

    max_len: ClassVar[int] = 20


class Keywords(Strict):
    """Words residents type for an intent; matched after normalisation, in any language."""

    ja: list[NonEmpty] = []
    en: list[NonEmpty] = []
    easy_ja: list[NonEmpty] = []

    def all(self) -> list[str]:
        return [*self.ja, *self.en, *self.easy_ja]

    def matches(self, typed: str) -> bool:
        """Whether the typed text is one of these words, in any language and spelling."""
        from ..lookup import normalize

        folded = normalize(typed)
        return bool(folded) and folded in {normalize(word) for word in self.all()}


PostbackData = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^action=[a-z0-9_.-]+(&.*)?$")]


class Choice(Strict):
    """A tappable choice: sends `postback` data; `text` is shown as the resident's bubble."""

    label: Label
    postback: PostbackData
    display: Text | None = None


class IntentContent(Strict):
    """The YAML of one intent: how residents name it and what it says."""

    label: Label | None = None  # required for intents residents can name (shown as a chip)
    keywords: Keywords = Keywords()
    # what the intent's texts offer residents to try ({examples}); `citybot content check`
    # asks the router each one, so an example never leads to "I did not understand"
    examples: Keywords = Keywords()
    texts: dict[str, Text] = {}
    choices: list[Choice] = Field(default=[], max_length=13)


class ConversationContent(IntentContent):
    """The YAML of an intent with a conversation: its buttons' labels and, per command
    (やめる, 戻る, スキップ, ...), the words a resident may type instead of tapping."""

    labels: dict[str, Label] = {}
    commands: dict[str, Keywords] = {}

    def means(self, command: str, typed: str) -> bool:
        """Whether the typed text is one of the words for a command."""
        return command in self.commands and self.commands[command].matches(typed)


class MenuContent(IntentContent):
    """The main menu: the services a resident can tap, in order."""

    items: list[Choice] = Field(min_length=1, max_length=12)


class ContactContent(IntentContent):
    phone: NonEmpty
    hours: Text
    url: NonEmpty


class MessagesContent(Strict):
    """Texts the core itself says (fallback, errors, greetings)."""

    city: Text
    texts: dict[str, Text]

    @field_validator("texts")
    @classmethod
    def _required(cls, texts: dict[str, Text]) -> dict[str, Text]:
        return require_keys(texts, REQUIRED_CORE_TEXTS, "texts")


REQUIRED_CORE_TEXTS = frozenset({
    "did_you_mean", "not_understood", "unsupported_message", "location_unused",
    "error", "menu_chip", "late_answer", "conversation_ended",
})


class Bounds(Strict):
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class RichMenuArea(Strict):
    bounds: Bounds
    label: Text
    postback: PostbackData
    display: Text | None = None
    color: str = Field(default="#06C755", pattern=r"^#[0-9A-Fa-f]{6}$")


class RichMenu(Strict):
    alias: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name: str = Field(min_length=1, max_length=300)
    chat_bar_text: str = Field(min_length=1, max_length=14)
    image: str
    width: int = Field(ge=800, le=2500)
    height: int = Field(ge=250)
    default: bool = False
    # shown to everyone instead of the default while a service is in this mode (the
    # service asks for its menu with `menu_for(mode)` and switches the default to it)
    mode: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,32}$")
    areas: list[RichMenuArea] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _areas_inside(self) -> "RichMenu":
        if self.width / self.height < 1.45:
            raise ValueError(f"{self.width}x{self.height}: LINE needs width/height >= 1.45")
        for index, area in enumerate(self.areas):
            b = area.bounds
            if b.x + b.width > self.width or b.y + b.height > self.height:
                raise ValueError(f"area {index} ({area.label.ja}) reaches outside the {self.width}x{self.height} image")
        return self


class RichMenuContent(Strict):
    menus: list[RichMenu] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_default(self) -> "RichMenuContent":
        defaults = [m.alias for m in self.menus if m.default]
        if len(defaults) != 1:
            raise ValueError(f"exactly one menu must be default: true (found {len(defaults)})")
        aliases = [m.alias for m in self.menus]
        if len(set(aliases)) != len(aliases):
            raise ValueError("menu aliases must be unique")
        modes = [m.mode for m in self.menus if m.mode is not None]
        twice = sorted({mode for mode in modes if modes.count(mode) > 1})
        if twice:
            raise ValueError(f"at most one menu per mode: {', '.join(twice)} is on more than one")
        if any(m.mode is not None and m.default for m in self.menus):
            raise ValueError("a mode's menu cannot also be the default one")
        return self

    def menu_for(self, mode: str) -> RichMenu | None:
        """The menu everyone sees while a service is in `mode`; None when content has none."""
        return next((m for m in self.menus if m.mode == mode), None)

    @property
    def default(self) -> RichMenu:
        return next(m for m in self.menus if m.default)


class LooseText(Strict):
    """A resident-facing text where only Japanese is required (imported data); the other
    languages fall back to it until staff translate."""

    ja: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)] | None = None
    easy_ja: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)] | None = None

    def get(self, lang: str) -> str:
        translated = getattr(self, lang) if lang in LANGUAGES else None
        return translated or self.ja


def _text_or_string(value: Any) -> Any:
    return {"ja": value} if isinstance(value, str) else value


Loose = Annotated[LooseText, BeforeValidator(_text_or_string)]
