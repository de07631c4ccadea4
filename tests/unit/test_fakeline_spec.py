"""The fake platform's request validation follows LINE's spec, discriminators included."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from bot.fakeline.spec import (
    DEFAULT_OPENAPI_DIR,
    MESSAGING_SPEC,
    ErrorDetail,
    LineValidator,
    SpecValidator,
    error_body,
    load_document,
    prepare_schemas,
    property_path,
    resolve_discriminators,
    utf16_length,
)

pytestmark = pytest.mark.contract

USER = "U" + "a" * 32
PUSH = "/v2/bot/message/push"

TEXT_WITHOUT_TEXT = {"type": "text"}
TEXTY = {"type": "texty", "text": "hello"}
BUBBLE_WITH_TEXTT = {
    "type": "flex", "altText": "menu",
    "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                            "contents": [{"type": "textt", "text": "x"}]}},
}


@pytest.fixture(scope="module")
def spec() -> SpecValidator:
    return SpecValidator()


def push(*messages: dict) -> dict:
    return {"to": USER, "messages": list(messages)}


def text(value: str = "こんにちは", **extra: object) -> dict:
    return {"type": "text", "text": value, **extra}


def message_action(label: str) -> dict:
    return {"type": "action", "action": {"type": "message", "label": label, "text": label}}


# -- the three bodies generic validators let through --------------------------------------
@pytest.mark.parametrize("message", [TEXT_WITHOUT_TEXT, TEXTY, BUBBLE_WITH_TEXTT])
def test_the_spec_as_written_lets_these_through(message: dict) -> None:
    """Why the discriminator rewrite exists: plain JSON Schema on the raw components."""
    schemas = load_document(str(DEFAULT_OPENAPI_DIR / MESSAGING_SPEC))["components"]["schemas"]
    root = {"$ref": "#/components/schemas/PushMessageRequest",
            "components": {"schemas": schemas}}
    assert Draft202012Validator(root).is_valid(push(message))


def test_text_message_without_text_is_refused(spec: SpecValidator) -> None:
    assert spec.validate("POST", PUSH, push(TEXT_WITHOUT_TEXT)) == [
        ErrorDetail("May not be empty", "messages[0].text")]


def test_unknown_message_type_is_refused(spec: SpecValidator) -> None:
    [detail] = spec.validate("POST", PUSH, push(TEXTY))
    assert detail.property == "messages[0].type"
    assert detail.message.startswith("Must be one of the following values: [text, ")


def test_unknown_flex_component_type_is_refused_with_its_full_path(spec: SpecValidator) -> None:
    [detail] = spec.validate("POST", PUSH, push(text(), BUBBLE_WITH_TEXTT))
    assert detail.property == "messages[1].contents.body.contents[0].type"
    assert "box" in detail.message and "textt" not in detail.message


def test_unknown_action_type_inside_quick_reply_is_refused(spec: SpecValidator) -> None:
    item = {"type": "action", "action": {"type": "messag", "label": "a", "text": "a"}}
    [detail] = spec.validate("POST", PUSH, push(text(quickReply={"items": [item]})))
    assert detail.property == "messages[0].quickReply.items[0].action.type"


def test_subtype_referenced_directly_still_checks_its_type(spec: SpecValidator) -> None:
    """A carousel's `contents` refer to FlexBubble directly, not through FlexContainer."""
    carousel = {"type": "flex", "altText": "a",
                "contents": {"type": "carousel", "contents": [{"type": "carousel", "contents": []}]}}
    [detail] = spec.validate("POST", PUSH, push(carousel))
    assert detail == ErrorDetail("Must be one of the following values: [bubble]",
                                 "messages[0].contents.contents[0].type")


def test_missing_discriminator_is_reported(spec: SpecValidator) -> None:
    assert spec.validate("POST", PUSH, push({"text": "hi"})) == [
        ErrorDetail("May not be empty", "messages[0].type")]


# -- valid messages pass ----------------------------------------------------------------
VALID_MESSAGES = {
    "text": text("ごみの日は月曜日です"),
    "text with quick reply": text("どれ？", quickReply={"items": [message_action("ごみ"),
                                                                 message_action("防災")]}),
    "flex bubble": {
        "type": "flex", "altText": "お知らせ",
        "contents": {
            "type": "bubble",
            "hero": {"type": "image", "url": "https://example.com/a.png", "size": "full"},
            "body": {"type": "box", "layout": "vertical", "contents": [
                {"type": "text", "text": "市役所", "weight": "bold", "wrap": True},
                {"type": "separator"},
                {"type": "box", "layout": "baseline", "contents": [
                    {"type": "icon", "url": "https://example.com/i.png"},
                    {"type": "text", "text": "9:00-17:00", "contents": [
                        {"type": "span", "text": "9:00"}]}]},
            ]},
            "footer": {"type": "box", "layout": "vertical", "contents": [
                {"type": "button", "style": "primary",
                 "action": {"type": "uri", "label": "地図", "uri": "https://example.com/map"}}]},
        },
    },
    "flex carousel": {"type": "flex", "altText": "a", "contents": {
        "type": "carousel", "contents": [{"type": "bubble"}] * 12}},
    "postback buttons template": {
        "type": "template", "altText": "選んでください",
        "template": {"type": "buttons", "text": "種類は？", "actions": [
            {"type": "postback", "label": "燃える", "data": "action=garbage&kind=burnable",
             "displayText": "燃えるごみ"},
            {"type": "datetimepicker", "label": "日付", "data": "d", "mode": "date"}]}},
    "location": {"type": "location", "title": "市役所", "address": "本町1-1",
                 "latitude": 35.0, "longitude": 139.0},
    "sticker": {"type": "sticker", "packageId": "446", "stickerId": "1988"},
}


@pytest.mark.parametrize("message", VALID_MESSAGES.values(), ids=VALID_MESSAGES.keys())
def test_valid_messages_pass(spec: SpecValidator, message: dict) -> None:
    assert spec.validate("POST", PUSH, push(message)) == []


# -- limits -----------------------------------------------------------------------------
def test_six_messages_are_refused(spec: SpecValidator) -> None:
    assert spec.validate("POST", PUSH, push(*[text()] * 6)) == [
        ErrorDetail("Size must be between 1 and 5", "messages")]


def test_501_multicast_recipients_are_refused(spec: SpecValidator) -> None:
    body = {"to": [USER] * 501, "messages": [text()]}
    assert spec.validate("POST", "/v2/bot/message/multicast", body) == [
        ErrorDetail("Size must be between 1 and 500", "to")]


def test_text_length_counts_utf16_units(spec: SpecValidator) -> None:
    assert spec.validate("POST", PUSH, push(text("あ" * 5000))) == []
    assert spec.validate("POST", PUSH, push(text("あ" * 5001))) == [
        ErrorDetail("Length must be between 1 and 5000", "messages[0].text")]
    emoji = "😀" * 2501  # 2501 code points, 5002 UTF-16 units
    assert utf16_length(emoji) == 5002
    assert spec.validate("POST", PUSH, push(text(emoji)))[0].property == "messages[0].text"


def test_empty_text_is_refused(spec: SpecValidator) -> None:
    assert spec.validate("POST", PUSH, push(text(""))) == [
        ErrorDetail("May not be empty", "messages[0].text")]


def test_quick_reply_has_at_most_13_items(spec: SpecValidator) -> None:
    assert spec.validate("POST", PUSH, push(text(quickReply={"items": [message_action("a")] * 13}))) == []
    [detail] = spec.validate("POST", PUSH, push(text(quickReply={"items": [message_action("a")] * 14})))
    assert detail.property == "messages[0].quickReply.items"


def test_postback_data_has_at_most_300_characters(spec: SpecValidator) -> None:
    template = {"type": "template", "altText": "a", "template": {
        "type": "confirm", "text": "ok?", "actions": [
            {"type": "postback", "label": "yes", "data": "x" * 301},
            {"type": "message", "label": "no", "text": "no"}]}}
    assert spec.validate("POST", PUSH, push(template)) == [
        ErrorDetail("Length must be between 0 and 300", "messages[0].template.actions[0].data")]


def test_alt_text_and_carousel_limits(spec: SpecValidator) -> None:
    long_alt = {"type": "flex", "altText": "a" * 1501, "contents": {"type": "bubble"}}
    assert spec.validate("POST", PUSH, push(long_alt)) == [
        ErrorDetail("Length must be between 1 and 1500", "messages[0].altText")]
    carousel = {"type": "flex", "altText": "a",
                "contents": {"type": "carousel", "contents": [{"type": "bubble"}] * 13}}
    assert spec.validate("POST", PUSH, push(carousel)) == [
        ErrorDetail("Size must be between 1 and 12", "messages[0].contents.contents")]


def test_several_errors_are_all_reported(spec: SpecValidator) -> None:
    details = spec.validate("POST", PUSH, {"messages": [TEXT_WITHOUT_TEXT, TEXTY]})
    assert {d.property for d in details} == {"to", "messages[0].text", "messages[1].type"}
    assert error_body(details)["message"] == "The request body has 3 error(s)"


def test_rich_menu_needs_lines_required_fields(spec: SpecValidator) -> None:
    details = spec.validate("POST", "/v2/bot/richmenu", {"name": "x"})
    assert {d.property for d in details} == {"size", "selected", "chatBarText", "areas"}
    menu = {"size": {"width": 2500, "height": 843}, "selected": True, "name": "main",
            "chatBarText": "メニュー", "areas": [{"bounds": {"x": 0, "y": 0, "width": 1250,
                                                          "height": 843},
                                              "action": {"type": "richmenuswitch",
                                                         "richMenuAliasId": "page-2",
                                                         "data": "switch"}}]}
    assert spec.validate("POST", "/v2/bot/richmenu", menu) == []


def test_alias_id_pattern(spec: SpecValidator) -> None:
    [detail] = spec.validate("POST", "/v2/bot/richmenu/alias",
                             {"richMenuAliasId": "Bad Alias", "richMenuId": "richmenu-1"})
    assert detail.property == "richMenuAliasId"


# -- operations, error body, transformation ---------------------------------------------
@pytest.mark.parametrize("method, path, template", [
    ("POST", "/v2/bot/user/U123/richmenu/richmenu-abc", "/v2/bot/user/{userId}/richmenu/{richMenuId}"),
    ("POST", "/v2/bot/user/all/richmenu/richmenu-abc", "/v2/bot/user/all/richmenu/{richMenuId}"),
    ("GET", "/v2/bot/richmenu/list", "/v2/bot/richmenu/list"),
    ("GET", "/v2/bot/richmenu/richmenu-abc", "/v2/bot/richmenu/{richMenuId}"),
    ("GET", "/v2/bot/richmenu/alias/list", "/v2/bot/richmenu/alias/list"),
    ("DELETE", "/v2/bot/richmenu/alias/page-1", "/v2/bot/richmenu/alias/{richMenuAliasId}"),
    ("GET", "/v2/bot/message/progress/narrowcast?requestId=x", "/v2/bot/message/progress/narrowcast"),
])
def test_find_operation_prefers_the_most_specific_template(spec: SpecValidator, method: str,
                                                           path: str, template: str) -> None:
    operation, _ = spec.find_operation(method, path)
    assert operation.template == template


def test_find_operation_returns_path_parameters(spec: SpecValidator) -> None:
    operation, params = spec.find_operation("POST", "/v2/bot/user/U123/richmenu/richmenu-abc")
    assert operation.operation_id == "linkRichMenuIdToUser"
    assert params == {"userId": "U123", "richMenuId": "richmenu-abc"}
    assert spec.find_operation("PATCH", "/v2/bot/message/push") is None


def test_error_body_matches_lines_shape() -> None:
    body = error_body([ErrorDetail("May not be empty", "messages[0].text")])
    assert body == {"message": "The request body has 1 error(s)",
                    "details": [{"message": "May not be empty", "property": "messages[0].text"}]}
    assert property_path(["messages", 1, "contents", "body", "contents", 0, "type"]) == \
        "messages[1].contents.body.contents[0].type"


def test_discriminator_rewrite_points_subtypes_at_a_base_copy() -> None:
    schemas = {
        "Pet": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}},
                "discriminator": {"propertyName": "kind",
                                  "mapping": {"cat": "#/components/schemas/Cat"}}},
        "Cat": {"allOf": [{"$ref": "#/components/schemas/Pet"},
                          {"required": ["purrs"],
                           "properties": {"friend": {"$ref": "#/components/schemas/Pet"}}}]},
    }
    out = resolve_discriminators(schemas)
    assert "discriminator" not in out["Pet__base"]
    assert out["Cat"]["allOf"][0] == {"$ref": "#/components/schemas/Pet__base"}
    # a nested Pet (the friend) still dispatches
    assert out["Cat"]["allOf"][1]["properties"]["friend"] == {"$ref": "#/components/schemas/Pet"}
    root = {"$ref": "#/components/schemas/Pet", "components": {"schemas": out}}
    validator = LineValidator(root)
    assert validator.is_valid({"kind": "cat", "purrs": True, "friend": {"kind": "cat", "purrs": 1}})
    assert not validator.is_valid({"kind": "cat", "purrs": 1, "friend": {"kind": "cat"}})
    assert not validator.is_valid({"kind": "dog"})


def test_nullable_becomes_a_null_type() -> None:
    out = prepare_schemas({"X": {"type": "integer", "nullable": True}}, {})
    assert out["X"]["type"] == ["integer", "null"]


def test_response_validation_uses_the_spec(spec: SpecValidator) -> None:
    assert spec.validate_response("POST", PUSH, 200, {"sentMessages": [{"id": "1"}]}) == []
    assert spec.validate_response("POST", PUSH, 200, {}) == [
        ErrorDetail("May not be empty", "sentMessages")]
