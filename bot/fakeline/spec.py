"""Validate request bodies against LINE's own OpenAPI specs, the way LINE does.

The vendored `messaging-api.yml` and `webhook.yml` select the schema of a message, an action,
a Flex component and so on through an OpenAPI `discriminator` on `type`. JSON Schema
validators ignore `discriminator`, so with the spec taken as-is a text message without
`text`, a message of type `texty` or a Flex component of type `textt` all pass. This module
rewrites every discriminated schema into JSON Schema that checks the value against the
mapping and then the object against the schema it names (a keyword of our own,
`lineDiscriminator`) before handing the schemas to `jsonschema`, which does all the actual
validating. It also adds the limits LINE enforces that the spec leaves out (text length in
UTF-16 units, altText, carousel size, rich menu sizes) and turns errors into LINE's error
body (`{"message": "The request body has N error(s)", "details": [...]}`).
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import jsonschema
import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

DEFAULT_OPENAPI_DIR = Path(__file__).resolve().parent / "openapi"
MESSAGING_SPEC = "messaging-api.yml"
WEBHOOK_SPEC = "webhook.yml"
SCHEMA_PREFIX = "#/components/schemas/"
BASE_SUFFIX = "__base"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Limits LINE enforces (see /work/shared/line-facts.md and LINE's message/rich menu docs)
# that the spec does not state. Each entry is appended to the named schema's `allOf`, so
# jsonschema checks it like any other constraint. `maxUtf16Length` is a keyword added
# below because LINE counts text length in UTF-16 code units, not code points.
LINE_LIMITS: dict[str, dict[str, Any]] = {
    "TextMessage": {"properties": {"text": {"minLength": 1, "maxUtf16Length": 5000}}},
    "TextMessageV2": {"properties": {"text": {"minLength": 1, "maxUtf16Length": 5000}}},
    "TemplateMessage": {"properties": {"altText": {"minLength": 1, "maxUtf16Length": 1500}}},
    "FlexMessage": {"properties": {"altText": {"minLength": 1, "maxUtf16Length": 1500}}},
    "FlexCarousel": {"properties": {"contents": {"minItems": 1, "maxItems": 12}}},
    "QuickReply": {"properties": {"items": {"maxItems": 13}}},
    "PostbackAction": {"properties": {"data": {"maxUtf16Length": 300}}},
    "DatetimePickerAction": {"properties": {"data": {"maxUtf16Length": 300}}},
    "RichMenuRequest": {
        "required": ["size", "selected", "name", "chatBarText", "areas"],
        "properties": {"areas": {"maxItems": 20}},
    },
    "RichMenuSize": {
        "required": ["width", "height"],
        "properties": {"width": {"minimum": 800, "maximum": 2500}, "height": {"minimum": 250}},
    },
    "RichMenuArea": {"required": ["bounds", "action"]},
    "RichMenuBounds": {"required": ["x", "y", "width", "height"]},
}


# -- error details ----------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorDetail:
    """One entry of LINE's `details` array."""

    message: str
    property: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"message": self.message}
        if self.property:
            out["property"] = self.property
        return out


def error_body(details: list[ErrorDetail]) -> dict[str, Any]:
    """LINE's 400 body for a request that failed validation."""
    body: dict[str, Any] = {"message": f"The request body has {len(details)} error(s)"}
    if details:
        body["details"] = [d.to_dict() for d in details]
    return body


def property_path(parts: Iterable[Any]) -> str:
    """`["messages", 0, "text"]` -> `messages[0].text`, the form LINE reports."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def utf16_length(text: str) -> int:
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _range_text(low: Any, high: Any) -> str:
    if high is None:
        return f"at least {low}"
    return f"between {low if low is not None else 0} and {high}"


def _length_message(error: ValidationError) -> str:
    low = error.schema.get("minLength")
    high = error.schema.get("maxUtf16Length", error.schema.get("maxLength"))
    if low and isinstance(error.instance, str) and not error.instance:
        return "May not be empty"
    return f"Length must be {_range_text(low, high)}"


def _size_message(error: ValidationError) -> str:
    low, high = error.schema.get("minItems"), error.schema.get("maxItems")
    return f"Size must be {_range_text(low, high)}"


def _details_for(error: ValidationError) -> list[ErrorDetail]:
    """Translate one jsonschema error into LINE-style details (a `required` error names
    the missing property itself, as LINE does: `messages[0].text`)."""
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        return [ErrorDetail("May not be empty", property_path(path + [p])) for p in missing]
    if kind in ("enum", "const"):
        values = error.validator_value if kind == "enum" else [error.validator_value]
        message = f"Must be one of the following values: [{', '.join(map(str, values))}]"
    elif kind in ("minLength", "maxLength", "maxUtf16Length"):
        message = _length_message(error)
    elif kind in ("minItems", "maxItems"):
        message = _size_message(error)
    elif kind == "type":
        message = f"Must be of type {error.validator_value}"
    elif kind == "minimum":
        message = f"Must be greater than or equal to {error.validator_value}"
    elif kind == "maximum":
        message = f"Must be less than or equal to {error.validator_value}"
    elif kind == "pattern":
        message = f"Must match the pattern {error.validator_value}"
    elif kind == "format":
        message = f"Invalid {error.validator_value} format"
    else:
        message = error.message
    return [ErrorDetail(message, property_path(path))]


def _to_details(errors: Iterable[ValidationError]) -> list[ErrorDetail]:
    """Details in document order, without the duplicates `allOf` layering can produce."""
    seen: dict[ErrorDetail, None] = {}
    def position(error: ValidationError) -> list[tuple[int, Any]]:
        return [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path]

    for error in sorted(errors, key=position):
        for detail in _details_for(error):
            seen.setdefault(detail, None)
    return list(seen)


# -- the extended validator -------------------------------------------------------------
def _max_utf16_length(validator: Any, limit: int, instance: Any, schema: Mapping) -> Iterator:
    if isinstance(instance, str) and utf16_length(instance) > limit:
        yield ValidationError(f"{instance[:20]!r}... is longer than {limit} UTF-16 units")


def _line_discriminator(validator: Any, spec: Mapping[str, Any], instance: Any, schema: Mapping) -> Iterator:
    """Go straight to the schema the value names. Plain JSON Schema can only say it as an
    `if`/`then` per value, and every Flex component then tried all fifteen `if`s: most of
    the fake platform's time on a Flex reply went there."""
    if not isinstance(instance, dict):
        return
    value = instance.get(spec["propertyName"])
    ref = spec["mapping"].get(value) if isinstance(value, str) else None
    if ref is not None:
        yield from validator.descend(instance, {"$ref": ref})


LineValidator = jsonschema.validators.extend(
    Draft202012Validator, {"maxUtf16Length": _max_utf16_length, "lineDiscriminator": _line_discriminator}
)

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _format_checker() -> FormatChecker:
    """Only the formats the specs use and that LINE can be expected to check; `uri` is
    deliberately loose (scheme + no whitespace) so `tel:`/`line:` URIs stay valid."""
    checker = FormatChecker(formats=())
    checker.checks("uri")(lambda v: not isinstance(v, str) or bool(_URI.match(v)))
    checker.checks("uuid")(lambda v: not isinstance(v, str) or bool(_UUID.match(v)))
    checker.checks("int32")(lambda v: not isinstance(v, int) or -(2**31) <= v < 2**31)
    checker.checks("int64")(lambda v: not isinstance(v, int) or -(2**63) <= v < 2**63)
    return checker


# -- spec transformation ----------------------------------------------------------------
def _ref_name(ref: str) -> str:
    if not ref.startswith(SCHEMA_PREFIX):
        raise ValueError(f"unsupported $ref {ref!r}")
    return ref[len(SCHEMA_PREFIX):]


def _nullable_to_type(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema `type: [X, "null"]`, recursively."""
    if isinstance(node, list):
        return [_nullable_to_type(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_to_type(value) for key, value in node.items()}
    if out.pop("nullable", None) is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _dispatch_schema(prop: str, mapping: Mapping[str, str]) -> dict[str, Any]:
    """JSON Schema for "validate against the schema the discriminator names": an unknown
    value fails the `enum`, a known one is checked against its schema (`lineDiscriminator`)."""
    return {
        "type": "object",
        "required": [prop],
        "properties": {prop: {"type": "string", "enum": list(mapping)}},
        "lineDiscriminator": {"propertyName": prop, "mapping": dict(mapping)},
    }


def _point_subtype_at_base(subtype: dict[str, Any], base_name: str) -> None:
    """A mapped subtype's `allOf: [$ref Base, ...]` must reach Base's own properties, not
    the dispatcher Base becomes (which would send it straight back here, forever)."""
    base_ref = SCHEMA_PREFIX + base_name
    for index, part in enumerate(subtype.get("allOf", [])):
        if isinstance(part, dict) and part.get("$ref") == base_ref:
            subtype["allOf"][index] = {"$ref": SCHEMA_PREFIX + base_name + BASE_SUFFIX}


def _append_constraint(schema: dict[str, Any], constraint: dict[str, Any]) -> None:
    schema.setdefault("allOf", []).append(constraint)


def resolve_discriminators(schemas: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite every schema that has `discriminator.mapping` into a dispatcher.

    For a base B with discriminator property p:
    - `B__base` is B as written, minus the discriminator (its own properties, `required`);
    - B becomes `_dispatch_schema(p, mapping)`: every `$ref B` anywhere now dispatches;
    - each mapped subtype's top-level `allOf` reference to B points to `B__base` instead,
      and the subtype pins p to its mapping key(s), so a direct `$ref` to a subtype (a
      carousel's bubbles, a bubble's body box) is as strict as going through B.
    """
    out = copy.deepcopy(dict(schemas))
    bases = {name: s for name, s in schemas.items()
             if isinstance(s, dict) and isinstance(s.get("discriminator"), dict)
             and s["discriminator"].get("mapping")}
    for name, schema in bases.items():
        prop = schema["discriminator"]["propertyName"]
        mapping = schema["discriminator"]["mapping"]
        base = copy.deepcopy(out[name])
        base.pop("discriminator", None)
        out[name + BASE_SUFFIX] = base
        out[name] = _dispatch_schema(prop, mapping)
        for value, ref in mapping.items():
            subtype = out[_ref_name(ref)]
            _point_subtype_at_base(subtype, name)
            keys = [k for k, r in mapping.items() if r == ref]
            _append_constraint(subtype, {"properties": {prop: {"enum": keys}}})
    return out


def prepare_schemas(schemas: Mapping[str, Any], limits: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's component schemas, made checkable by jsonschema (with LineValidator)."""
    prepared = resolve_discriminators(_nullable_to_type(dict(schemas)))
    for name, constraint in limits.items():
        if name in prepared:
            _append_constraint(prepared[name], copy.deepcopy(constraint))
    return prepared


class SchemaSet:
    """Validators for the named component schemas of one (transformed) spec."""

    def __init__(self, schemas: Mapping[str, Any]):
        self._components = {"schemas": dict(schemas)}
        self._checker = _format_checker()
        self._validators: dict[str, Any] = {}

    def __contains__(self, name: str) -> bool:
        return name in self._components["schemas"]

    def validator(self, name: str) -> Any:
        if name not in self._validators:
            if name not in self:
                raise KeyError(f"no schema named {name!r}")
            root = {"$ref": SCHEMA_PREFIX + name, "components": self._components}
            self._validators[name] = LineValidator(root, format_checker=self._checker)
        return self._validators[name]

    def validate(self, name: str, instance: Any) -> list[ErrorDetail]:
        return _to_details(self.validator(name).iter_errors(instance))


@functools.lru_cache(maxsize=8)
def load_document(path: str) -> dict[str, Any]:
    """Parse one YAML spec (cached: the messaging spec is ~180 kB)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.lru_cache(maxsize=8)
def _schema_set(path: str, with_limits: bool) -> SchemaSet:
    schemas = load_document(path)["components"]["schemas"]
    return SchemaSet(prepare_schemas(schemas, LINE_LIMITS if with_limits else {}))


# -- operations -------------------------------------------------------------------------
@dataclass(frozen=True)
class Operation:
    """One method + path template of the spec."""

    method: str
    template: str
    operation_id: str
    request_schema: str | None
    request_content_types: tuple[str, ...]
    body_required: bool
    responses: Mapping[str, str | None] = field(default_factory=dict)
    pattern: re.Pattern = field(default=re.compile(""), compare=False, repr=False)

    @property
    def literal_segments(self) -> int:
        return sum(1 for seg in self.template.split("/") if seg and not seg.startswith("{"))

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()


def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts
    )
    return re.compile(regex)


def _schema_name(media: Mapping[str, Any] | None) -> str | None:
    ref = ((media or {}).get("schema") or {}).get("$ref")
    return _ref_name(ref) if ref else None


def _operation(method: str, template: str, spec: Mapping[str, Any]) -> Operation:
    body = spec.get("requestBody") or {}
    content = body.get("content") or {}
    responses = {
        status: _schema_name((answer.get("content") or {}).get("application/json"))
        for status, answer in (spec.get("responses") or {}).items()
    }
    return Operation(
        method=method.upper(),
        template=template,
        operation_id=spec.get("operationId", ""),
        request_schema=_schema_name(content.get("application/json")),
        request_content_types=tuple(content),
        body_required=bool(body.get("required")),
        responses=responses,
        pattern=_template_regex(template),
    )


def load_operations(document: Mapping[str, Any]) -> list[Operation]:
    """Every operation, most specific template first (`/richmenu/list` before
    `/richmenu/{richMenuId}`), which is how OpenAPI says concrete paths win."""
    operations = [
        _operation(method, template, spec)
        for template, item in document.get("paths", {}).items()
        for method, spec in item.items()
        if method in HTTP_METHODS
    ]
    return sorted(operations, key=lambda op: -op.literal_segments)


class UnknownOperation(LookupError):
    """No operation of the spec matches this method and path."""


class SpecValidator:
    """Request (and response) body validation for the Messaging API spec."""

    def __init__(self, openapi_dir: str | Path | None = None):
        path = str(Path(openapi_dir or DEFAULT_OPENAPI_DIR) / MESSAGING_SPEC)
        self.schemas = _schema_set(path, True)
        self.operations = load_operations(load_document(path))
        # Responses are checked against the spec as written: LINE's request-side limits
        # (LINE_LIMITS) are not promises about what it answers.
        self._response_schemas = _schema_set(path, False)

    def find_operation(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a concrete path, e.g. POST `/v2/bot/user/U1/richmenu/richmenu-a`
        -> (`/v2/bot/user/{userId}/richmenu/{richMenuId}`, {"userId": ..., ...})."""
        method = method.upper()
        for operation in self.operations:
            if operation.method != method:
                continue
            params = operation.match(path.split("?", 1)[0])
            if params is not None:
                return operation, params
        return None

    def operation(self, method: str, path: str) -> Operation:
        found = self.find_operation(method, path)
        if found is None:
            raise UnknownOperation(f"{method.upper()} {path}")
        return found[0]

    def validate(self, method: str, path: str, body: Any) -> list[ErrorDetail]:
        """Errors of a JSON request body for a path (concrete or template); [] if valid
        or if the operation takes no JSON body."""
        operation = self.operation(method, path)
        if operation.request_schema is None:
            return []
        if body is None:
            return [ErrorDetail("The request body is missing")] if operation.body_required else []
        return self.schemas.validate(operation.request_schema, body)

    def validate_schema(self, name: str, instance: Any) -> list[ErrorDetail]:
        """Validate against one component schema by name, e.g. `"Message"`."""
        return self.schemas.validate(name, instance)

    def validate_response(self, method: str, path: str, status: int, body: Any) -> list[ErrorDetail]:
        """Errors of a JSON response body against the spec's schema for that status (used
        by the fake platform's own contract tests); [] if the spec gives no schema."""
        operation = self.operation(method, path)
        name = operation.responses.get(str(status))
        return [] if name is None else self._response_schemas.validate(name, body)


class WebhookSpec:
    """Validation of webhook request bodies against webhook.yml's CallbackRequest."""

    def __init__(self, openapi_dir: str | Path | None = None):
        path = str(Path(openapi_dir or DEFAULT_OPENAPI_DIR) / WEBHOOK_SPEC)
        self.schemas = _schema_set(path, False)

    def validate(self, body: Any) -> list[ErrorDetail]:
        return self.schemas.validate("CallbackRequest", body)

    def validate_event(self, event: Any) -> list[ErrorDetail]:
        return self.schemas.validate("Event", event)
