"""The AsyncAPI page at ``/docs/asyncapi``, rendered by regwatch itself.

FastStream's page loads the AsyncAPI viewer from a CDN and is blank without internet, and no
viewer ships its assets on PyPI: :func:`render_page` turns the AsyncAPI 3.0 document
(:func:`shared.ops.asyncapi.as_dict`) into one self-contained HTML page instead, with no
script and nothing loaded from elsewhere. Topics are grouped by address: who sends and who
receives (the service named in the channel's description, operation or id), and the payload
of every message as nested tables of fields, following ``$ref``s into
``components/schemas`` (a schema met again on its own path is named, not expanded; nesting
stops after :data:`MAX_DEPTH` levels). Everything from the document is autoescaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined

MAX_DEPTH: Final = 8
JSON_URL: Final = "/docs/asyncapi.json"
SERVICES: Final = ("ingestor", "matcher", "notifier")

_ENV: Final = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_SERVICE = re.compile(r"\b(" + "|".join(SERVICES) + r")\b")


@dataclass(frozen=True)
class Fact:
    """One constraint of a schema: ``format: date``, ``one of: a, b``, ``default: null``."""

    label: str
    value: str


@dataclass(frozen=True)
class Shape:
    """What a schema allows, as the page shows it."""

    type: str
    description: str = ""
    facts: tuple[Fact, ...] = ()
    fields: tuple[Field, ...] = ()
    fields_of: str = ""  # what the nested fields belong to ("Regulator", "each item")
    note: str = ""  # why it is not expanded (recursive, too deep, not in the document)


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    shape: Shape


@dataclass(frozen=True)
class MessageRef:
    anchor: str  # "" when the message is not on the page
    label: str


@dataclass(frozen=True)
class OperationRow:
    id: str
    action: str
    service: str
    channel: str
    details: str
    messages: tuple[MessageRef, ...]


@dataclass
class MessageGroup:
    """Messages of one topic with the same payload and headers: shown once."""

    names: list[tuple[str, str]]  # (anchor, name)
    payload: Shape
    headers: Shape | None
    content_type: str
    correlation: str
    descriptions: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The payload's schema name, or the first message's name for a payload of no
        schema (``any``)."""
        return self.payload.type if self.payload.fields else self.names[0][1]


@dataclass
class Topic:
    anchor: str
    address: str
    descriptions: list[str] = field(default_factory=list)
    operations: list[OperationRow] = field(default_factory=list)
    messages: list[MessageGroup] = field(default_factory=list)


@dataclass(frozen=True)
class Server:
    name: str
    host: str
    protocol: str
    pathname: str
    description: str


def render_page(doc: Mapping[str, Any], *, json_url: str = JSON_URL) -> str:
    """A complete HTML page of the AsyncAPI 3.0 document ``doc`` (no script, no external
    resource); ``json_url`` is where the page links to the document itself."""
    return _Page(doc).render(json_url)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _value(value: Any) -> str:
    if isinstance(value, str) and value:
        return value
    return json.dumps(value, ensure_ascii=False)


def _pointer_part(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


class _Anchors:
    def __init__(self) -> None:
        self.used: set[str] = {"overview", "servers", "topics", "other-messages"}

    def make(self, prefix: str, text: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
        anchor = f"{prefix}-{slug}"
        n = 1
        while anchor in self.used:
            n += 1
            anchor = f"{prefix}-{slug}-{n}"
        self.used.add(anchor)
        return anchor


class _Page:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.anchors = _Anchors()

    # -- references -------------------------------------------------------------------

    def lookup(self, ref: str) -> Any:
        """The value a local JSON pointer (``#/components/schemas/X``) names, or None."""
        if not ref.startswith("#/"):
            return None
        node: Any = self.doc
        for raw in ref[2:].split("/"):
            key = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node

    def follow(self, pointer: str, value: Any) -> tuple[str, Any]:
        """Follows ``$ref`` chains: the pointer of the object in the end and the object."""
        seen: set[str] = set()
        while isinstance(value, Mapping) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if ref in seen:
                return ref, None
            seen.add(ref)
            pointer, value = ref, self.lookup(ref)
        return pointer, value

    # -- schemas ----------------------------------------------------------------------

    def shape(self, schema: Any, seen: tuple[str, ...] = (), depth: int = 0) -> Shape:
        if schema is True or schema == {}:
            return Shape("any")
        if schema is False:
            return Shape("nothing (never valid)")
        if not isinstance(schema, Mapping):
            return Shape("any")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._ref_shape(schema, ref, seen, depth)
        for keyword in ("anyOf", "oneOf"):
            if isinstance(schema.get(keyword), list):
                return self._alternatives(schema, schema[keyword], seen, depth)
        if isinstance(schema.get("allOf"), list):
            return self._all_of(schema, schema["allOf"], seen, depth)
        description = _text(schema.get("description"))
        facts = self._facts(schema)
        kind = self._type(schema)
        if kind == "array" or "items" in schema or "prefixItems" in schema:
            return self._array(schema, description, facts, seen, depth)
        if kind == "object" or "properties" in schema or "additionalProperties" in schema:
            return self._object(schema, description, facts, seen, depth)
        return Shape(kind or "any", description, facts)

    def _ref_shape(
        self, schema: Mapping[str, Any], ref: str, seen: tuple[str, ...], depth: int
    ) -> Shape:
        name = ref.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        description = _text(schema.get("description"))
        facts = self._facts(schema)
        if ref in seen:
            return Shape(name, description, facts, note=f"{name} again (recursive): see above")
        target = self.lookup(ref)
        if target is None:
            return Shape(name, description, facts, note=f"{ref} is not in this document")
        inner = self.shape(target, (*seen, ref), depth)
        if inner.type in ("object", name):
            kind = name
        elif not target or name.endswith(":Payload"):  # FastStream's name for a bare payload
            kind = inner.type
        else:
            kind = f"{name} ({inner.type})"
        return Shape(
            kind,
            description or inner.description,
            facts + inner.facts,
            inner.fields,
            name if inner.fields and inner.fields_of in ("", "object") else inner.fields_of,
            inner.note,
        )

    def _alternatives(
        self, schema: Mapping[str, Any], options: list[Any], seen: tuple[str, ...], depth: int
    ) -> Shape:
        shapes = [self.shape(option, seen, depth) for option in options]
        kind = " | ".join(dict.fromkeys(s.type for s in shapes)) or "any"
        description = _text(schema.get("description"))
        facts = self._facts(schema)
        real = [s for s in shapes if s.type != "null"]
        if len(real) == 1:
            only = real[0]
            return Shape(
                kind,
                description or only.description,
                facts + only.facts,
                only.fields,
                only.fields_of or only.type,
                only.note,
            )
        fields = tuple(
            Field(f"option {n}: {s.type}", False, s)
            for n, s in enumerate(real, start=1)
            if s.fields or s.facts or s.description or s.note
        )
        return Shape(kind, description, facts, fields, "the options" if fields else "")

    def _all_of(
        self, schema: Mapping[str, Any], parts: list[Any], seen: tuple[str, ...], depth: int
    ) -> Shape:
        shapes = [self.shape(part, seen, depth) for part in parts]
        if len(shapes) == 1:
            only = shapes[0]
            return Shape(
                only.type,
                _text(schema.get("description")) or only.description,
                self._facts(schema) + only.facts,
                only.fields,
                only.fields_of,
                only.note,
            )
        kind = " & ".join(dict.fromkeys(s.type for s in shapes)) or "object"
        fields = tuple(f for s in shapes for f in s.fields)
        facts = self._facts(schema) + tuple(f for s in shapes for f in s.facts)
        notes = "; ".join(s.note for s in shapes if s.note)
        return Shape(kind, _text(schema.get("description")), facts, fields, "all of", notes)

    def _array(
        self,
        schema: Mapping[str, Any],
        description: str,
        facts: tuple[Fact, ...],
        seen: tuple[str, ...],
        depth: int,
    ) -> Shape:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            if depth >= MAX_DEPTH:
                return Shape("array (tuple)", description, facts, note=_too_deep())
            fields = tuple(
                Field(f"[{n}]", True, self.shape(item, seen, depth + 1))
                for n, item in enumerate(prefix)
            )
            return Shape("array (tuple)", description, facts, fields, "the items")
        items = self.shape(schema.get("items", {}), seen, depth)
        item_facts = tuple(Fact(f"items {f.label}", f.value) for f in items.facts)
        return Shape(
            f"array of {items.type}",
            description,
            facts + item_facts,
            items.fields,
            f"each item ({items.fields_of or items.type})" if items.fields else "",
            items.note,
        )

    def _object(
        self,
        schema: Mapping[str, Any],
        description: str,
        facts: tuple[Fact, ...],
        seen: tuple[str, ...],
        depth: int,
    ) -> Shape:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, Mapping) and extra:
            values = self.shape(extra, seen, depth)
            return Shape(
                f"map of string to {values.type}",
                description,
                facts + tuple(Fact(f"values {f.label}", f.value) for f in values.facts),
                values.fields,
                f"each value ({values.fields_of or values.type})" if values.fields else "",
                values.note,
            )
        if not properties:
            return Shape("object", description, facts)
        if depth >= MAX_DEPTH:
            names = ", ".join(str(name) for name in properties)
            return Shape("object", description, facts, note=f"{_too_deep()}; fields: {names}")
        required = schema.get("required")
        required = set(required) if isinstance(required, list) else set()
        fields = [
            Field(str(name), name in required, self.shape(value, seen, depth + 1))
            for name, value in properties.items()
        ]
        if isinstance(extra, Mapping) and extra:
            fields.append(Field("(any other name)", False, self.shape(extra, seen, depth + 1)))
        return Shape("object", description, facts, tuple(fields), "object")

    @staticmethod
    def _type(schema: Mapping[str, Any]) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            return " | ".join(str(k) for k in kind)
        if isinstance(kind, str):
            return kind
        if "const" in schema:
            const = schema["const"]
            return {str: "string", bool: "boolean", int: "integer", float: "number"}.get(
                type(const), "any"
            )
        if "enum" in schema:
            return "enum"
        return ""

    @staticmethod
    def _facts(schema: Mapping[str, Any]) -> tuple[Fact, ...]:
        facts: list[Fact] = []
        if "const" in schema:
            facts.append(Fact("always", _value(schema["const"])))
        elif isinstance(schema.get("enum"), list):
            facts.append(Fact("one of", ", ".join(_value(v) for v in schema["enum"])))
        for key, label in (
            ("format", "format"),
            ("pattern", "pattern"),
            ("minLength", "min length"),
            ("maxLength", "max length"),
            ("minimum", "minimum"),
            ("exclusiveMinimum", "greater than"),
            ("maximum", "maximum"),
            ("exclusiveMaximum", "less than"),
            ("multipleOf", "multiple of"),
            ("minItems", "min items"),
            ("maxItems", "max items"),
            ("uniqueItems", "unique items"),
            ("contentEncoding", "encoding"),
            ("contentMediaType", "media type"),
            ("default", "default"),
        ):
            if key not in schema or (key == "default" and "const" in schema):
                continue
            facts.append(Fact(label, _value(schema[key])))
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            facts.append(Fact("example", _value(schema["examples"][0])))
        return tuple(facts)

    # -- document ---------------------------------------------------------------------

    def servers(self) -> list[Server]:
        servers = self.doc.get("servers")
        found = []
        for name, server in (servers if isinstance(servers, Mapping) else {}).items():
            if not isinstance(server, Mapping):
                continue
            protocol = _text(server.get("protocol"))
            version = _text(server.get("protocolVersion"))
            found.append(
                Server(
                    name=str(name),
                    host=_text(server.get("host")),
                    protocol=f"{protocol} {version}".strip(),
                    pathname=_text(server.get("pathname")),
                    description=_text(server.get("description")),
                )
            )
        return found

    def topics(self) -> tuple[list[Topic], list[MessageGroup]]:
        channels = self.doc.get("channels")
        channels = channels if isinstance(channels, Mapping) else {}
        operations = self.doc.get("operations")
        operations = operations if isinstance(operations, Mapping) else {}
        default_type = _text(self.doc.get("defaultContentType"))

        by_address: dict[str, list[str]] = {}
        for channel_id, channel in channels.items():
            channel = channel if isinstance(channel, Mapping) else {}
            address = _text(channel.get("address")) or f"(no address: channel {channel_id})"
            by_address.setdefault(address, []).append(str(channel_id))

        ops_by_channel: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
        orphans: list[tuple[str, Mapping[str, Any]]] = []
        for op_id, operation in operations.items():
            if not isinstance(operation, Mapping):
                continue
            ref = (operation.get("channel") or {}).get("$ref", "")
            channel_id = (
                str(ref)[len("#/channels/") :] if str(ref).startswith("#/channels/") else ""
            )
            channel_id = channel_id.replace("~1", "/").replace("~0", "~")
            if channel_id in channels:
                ops_by_channel.setdefault(channel_id, []).append((str(op_id), operation))
            else:
                orphans.append((str(op_id), operation))

        message_anchor: dict[str, str] = {}
        topics: list[Topic] = []
        for address in sorted(by_address):
            topic = Topic(self.anchors.make("topic", address), address)
            ids = by_address[address]
            sends = {
                c for c in ids if any(_action(o) == "send" for _, o in ops_by_channel.get(c, []))
            }
            ids.sort(key=lambda c: c not in sends)
            # The topic's own description: what its senders' channels say (a receiving
            # channel's goes with its operation: which consumer group reads it).
            about = [c for c in ids if c in sends or c not in ops_by_channel] or ids
            for channel_id in about:
                description = _channel_text(channels[channel_id], "description")
                if description and description not in topic.descriptions:
                    topic.descriptions.append(description)
            groups: dict[str, MessageGroup] = {}
            for channel_id in ids:
                for pointer, name, message in self._channel_messages(
                    channel_id, channels[channel_id]
                ):
                    if pointer in message_anchor:
                        continue
                    anchor = self.anchors.make("message", name)
                    message_anchor[pointer] = anchor
                    self._add_message(groups, anchor, name, message, default_type)
            topic.messages = list(groups.values())
            for channel_id in ids:
                channel = channels[channel_id]
                rows = ops_by_channel.get(channel_id) or [("", {})]
                for op_id, operation in rows:
                    row = self._operation(op_id, operation, channel_id, channel, message_anchor)
                    description = _channel_text(channel, "description")
                    if not row.details and description not in topic.descriptions:
                        row = replace(row, details=description)
                    topic.operations.append(row)
            topic.operations.sort(key=lambda row: (row.action != "send", row.action, row.id))
            topics.append(topic)

        if orphans:
            topic = Topic(
                self.anchors.make("topic", "other operations"), "(operations of no channel)"
            )
            for op_id, operation in orphans:
                topic.operations.append(self._operation(op_id, operation, "", {}, message_anchor))
            topics.append(topic)

        others: dict[str, MessageGroup] = {}
        components = self.doc.get("components")
        messages = components.get("messages") if isinstance(components, Mapping) else None
        for key, message in (messages if isinstance(messages, Mapping) else {}).items():
            pointer, message = self.follow(
                f"#/components/messages/{_pointer_part(str(key))}", message
            )
            if pointer in message_anchor or not isinstance(message, Mapping):
                continue
            anchor = self.anchors.make("message", str(key))
            message_anchor[pointer] = anchor
            self._add_message(
                others, anchor, _message_name(message, str(key)), message, default_type
            )
        return topics, list(others.values())

    def _channel_messages(
        self, channel_id: str, channel: Any
    ) -> Iterable[tuple[str, str, Mapping[str, Any]]]:
        messages = channel.get("messages") if isinstance(channel, Mapping) else None
        for key, message in (messages if isinstance(messages, Mapping) else {}).items():
            start = f"#/channels/{_pointer_part(channel_id)}/messages/{_pointer_part(str(key))}"
            pointer, found = self.follow(start, message)
            if isinstance(found, Mapping):
                yield pointer, _message_name(found, pointer.rsplit("/", 1)[-1]), found

    def _add_message(
        self,
        groups: dict[str, MessageGroup],
        anchor: str,
        name: str,
        message: Mapping[str, Any],
        default_type: str,
    ) -> None:
        correlation = message.get("correlationId")
        if isinstance(correlation, Mapping) and "$ref" in correlation:
            correlation = self.follow("", correlation)[1]
        location = _text(correlation.get("location")) if isinstance(correlation, Mapping) else ""
        content_type = _text(message.get("contentType")) or default_type
        key = json.dumps(
            [message.get("payload"), message.get("headers"), content_type, location],
            sort_keys=True,
            default=str,
        )
        group = groups.get(key)
        if group is None:
            headers = message.get("headers")
            group = groups[key] = MessageGroup(
                names=[],
                payload=self.shape(message.get("payload", {})),
                headers=self.shape(headers) if isinstance(headers, Mapping) and headers else None,
                content_type=content_type,
                correlation=location,
            )
        group.names.append((anchor, name))
        for text in (_text(message.get("summary")), _text(message.get("description"))):
            if text and text not in group.descriptions:
                group.descriptions.append(text)

    def _operation(
        self,
        op_id: str,
        operation: Mapping[str, Any],
        channel_id: str,
        channel: Any,
        message_anchor: Mapping[str, str],
    ) -> OperationRow:
        channel = channel if isinstance(channel, Mapping) else {}
        details = " ".join(
            t for t in (_text(operation.get("summary")), _text(operation.get("description"))) if t
        )
        texts = (
            details,
            _text(operation.get("title")),
            _text(channel.get("description")),
            _text(channel.get("title")),
            op_id,
            channel_id,
        )
        service = next((m.group(1) for t in texts if (m := _SERVICE.search(t))), "")
        refs = operation.get("messages")
        if isinstance(refs, list):
            entries = [(str(r.get("$ref", "")), r) for r in refs if isinstance(r, Mapping)]
        else:  # no list: all the channel's messages
            messages = channel.get("messages")
            entries = [
                (f"#/channels/{_pointer_part(channel_id)}/messages/{_pointer_part(str(k))}", m)
                for k, m in (messages if isinstance(messages, Mapping) else {}).items()
            ]
        links = []
        for start, entry in entries:
            pointer, message = self.follow(start, entry)
            fallback = pointer.rsplit("/", 1)[-1] or start
            label = _message_name(message, fallback) if isinstance(message, Mapping) else fallback
            links.append(MessageRef(message_anchor.get(pointer, ""), label))
        return OperationRow(
            id=op_id,
            action=_action(operation) or "—",
            service=service,
            channel=channel_id,
            details=details,
            messages=tuple(links),
        )

    def render(self, json_url: str) -> str:
        info = self.doc.get("info")
        info = info if isinstance(info, Mapping) else {}
        topics, others = self.topics()
        return _ENV.get_template("asyncapi.html").render(
            title=_text(info.get("title")) or "AsyncAPI document",
            version=_text(info.get("version")),
            description=_text(info.get("description")),
            asyncapi=_text(self.doc.get("asyncapi")),
            content_type=_text(self.doc.get("defaultContentType")),
            servers=self.servers(),
            topics=topics,
            others=others,
            json_url=json_url,
            max_depth=MAX_DEPTH,
        )


def _action(operation: Mapping[str, Any]) -> str:
    return _text(operation.get("action"))


def _channel_text(channel: Any, key: str) -> str:
    return _text(channel.get(key)) if isinstance(channel, Mapping) else ""


def _message_name(message: Any, fallback: str) -> str:
    if not isinstance(message, Mapping):
        return fallback
    return _text(message.get("name")) or _text(message.get("title")) or fallback


def _too_deep() -> str:
    return f"nested deeper than {MAX_DEPTH} levels: not shown"
