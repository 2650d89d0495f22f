"""The AsyncAPI page is rendered by regwatch itself: every topic and field, nothing loaded from
elsewhere, the document's text escaped, recursive schemas shown without recursing forever."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from services.runtime import Runtime, spec_document
from shared.ops.asyncapi import as_dict, topic_addresses
from shared.ops.asyncapi_page import MAX_DEPTH, render_page
from shared.settings import Settings

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "poster", "data", "xlink:href"}
CSS_URLS = re.compile(r"""url\(\s*['"]?([^'")]*)|@import\s+(?:url\(\s*)?['"]?([^'");\s]*)""")
NOTICE_TOPICS = {"regwatch.notices.v1", "regwatch.notices.v1.dlq"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    return builder.root


def loaded_urls(root: Node) -> list[str]:
    """Every URL the page names: in URL attributes, in style elements and style attributes
    (url(), @import)."""
    urls: list[str] = []
    for node in root.walk():
        for name, value in node.attrs.items():
            if name in URL_ATTRIBUTES:
                urls.append(value.strip())
        css = [node.attrs.get("style", "")]
        if node.tag == "style":
            css.append(node.text())
        for block in css:
            urls += [a or b for a, b in CSS_URLS.findall(block)]
    return urls


def assert_offline(page: str) -> Node:
    root = parse(page)
    assert not [n for n in root.walk() if n.tag in ("script", "iframe", "object", "embed")]
    assert not [
        n for n in root.walk() if n.tag == "link" and "stylesheet" in n.attrs.get("rel", "")
    ]
    urls = loaded_urls(root)
    assert urls  # the contents' anchors and the JSON link at least
    for url in urls:
        assert not re.match(r"^\s*(https?:)?//", url, re.IGNORECASE), url
    assert "unpkg" not in page
    return root


async def real_document(**settings: Any) -> dict[str, Any]:
    return as_dict(await spec_document(Settings(kafka_bootstrap="kafka:9092", **settings)))


def reachable_fields(doc: dict[str, Any], name: str) -> set[str]:
    """The field names of components/schemas/name and of every schema it refers to."""
    schemas = doc["components"]["schemas"]
    names: set[str] = set()
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                visit(schemas[ref.rsplit("/", 1)[-1]])
            names.update((node.get("properties") or {}).keys())
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schemas[name])
    return names


def topic_section(root: Node, address: str) -> Node:
    for node in root.walk():
        if node.tag == "section" and "topic" in node.classes():
            heading = next(n for n in node.walk() if n.tag == "h3")
            if heading.text().strip() == address:
                return node
    raise AssertionError(f"no section for {address}")


def field_names(node: Node) -> set[str]:
    return {n.text().strip() for n in node.walk() if n.tag == "td" and "name" in n.classes()}


def operation_rows(section: Node) -> list[list[str]]:
    table = next(n for n in section.walk() if n.tag == "table" and "operations" in n.classes())
    body = next(n for n in table.walk() if n.tag == "tbody")
    return [
        [c.text().strip() for c in row.children if isinstance(c, Node) and c.tag == "td"]
        for row in body.children
        if isinstance(row, Node) and row.tag == "tr"
    ]


async def test_page_lists_every_topic_and_every_notice_field() -> None:
    doc = await real_document()
    root = parse(render_page(doc))
    headings = {n.text().strip() for n in root.walk() if n.tag == "h3"}
    addresses = topic_addresses(doc)
    assert len(addresses) >= 7
    assert addresses <= headings

    notices = topic_section(root, "regwatch.notices.v1")
    expected = reachable_fields(doc, "NoticeEvent")
    assert set(doc["components"]["schemas"]["NoticeEvent"]["properties"]) <= expected
    assert {"regulator", "entities", "developer", "due_on"} <= expected  # nested ones too
    assert expected <= field_names(notices)

    rows = operation_rows(notices)
    assert ["send", "ingestor"] in [row[:2] for row in rows]
    assert ["receive", "matcher"] in [row[:2] for row in rows]
    deliveries = operation_rows(topic_section(root, "regwatch.deliveries.v1"))
    assert [row[:2] for row in deliveries] == [["send", "notifier"]]

    ids = {n.attrs["id"] for n in root.walk() if "id" in n.attrs}
    links = [n.attrs["href"] for n in root.walk() if n.tag == "a" and "href" in n.attrs]
    in_page = [href[1:] for href in links if href.startswith("#")]
    assert len(in_page) > len(addresses)  # the contents
    assert set(in_page) <= ids
    assert "/docs/asyncapi.json" in links
    title = next(n for n in root.walk() if n.tag == "title").text()
    assert "regwatch" in title and "0.1.0" in title


async def test_page_loads_nothing_from_elsewhere() -> None:
    page = render_page(await real_document(topic_namespace="prod"))
    assert page.lstrip().lower().startswith("<!doctype html>")
    root = assert_offline(page)
    viewport = [n for n in root.walk() if n.tag == "meta" and n.attrs.get("name") == "viewport"]
    assert viewport and "width=device-width" in viewport[0].attrs["content"]
    assert "prod.regwatch.notices.v1" in {n.text().strip() for n in root.walk() if n.tag == "h3"}


def test_a_document_naming_external_urls_gets_no_link_to_them() -> None:
    doc = small_document(description="see https://example.org/x")
    doc["info"]["externalDocs"] = {"url": "https://example.org/docs"}
    doc["info"]["license"] = {"name": "MIT", "url": "https://example.org/mit"}
    root = assert_offline(render_page(doc))
    assert "https://example.org/x" in root.text()  # shown as text, not loaded or linked


HOSTILE = "<script>alert(\"x\")</script> & <b>bold</b> 'quoted'"


def small_document(
    *, description: str = "plain", schemas: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "t", "version": "1", "description": description},
        "servers": {"dev": {"host": "kafka:9092", "protocol": "kafka"}},
        "channels": {
            "topic": {
                "address": "the.topic",
                "description": description,
                "messages": {"Message": {"$ref": "#/components/messages/Message"}},
            }
        },
        "operations": {
            "topic": {
                "action": "send",
                "channel": {"$ref": "#/channels/topic"},
                "messages": [{"$ref": "#/channels/topic/messages/Message"}],
            }
        },
        "components": {
            "messages": {
                "Message": {
                    "title": "Message",
                    "payload": {"$ref": "#/components/schemas/Event"},
                }
            },
            "schemas": schemas
            or {
                "Event": {
                    "type": "object",
                    "description": description,
                    "properties": {
                        "kind": {"type": "string", "enum": [description, "b"]},
                        "note": {"type": "string", "description": description},
                    },
                    "required": ["kind"],
                }
            },
        },
    }


def test_the_documents_text_is_escaped() -> None:
    doc = small_document(description=HOSTILE)
    doc["info"]["title"] = "<i>title</i>"
    doc["channels"]["topic"]["address"] = "<img src=x>"
    page = render_page(doc)
    assert "<script>" not in page and "<b>bold</b>" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;alert(" in page and "&amp; &lt;b&gt;bold&lt;/b&gt;" in page
    root = assert_offline(page)
    assert not [n for n in root.walk() if n.tag in ("b", "img")]
    assert not [n for n in root.walk() if n.tag == "i"]
    assert root.text().count(HOSTILE) >= 4  # info, channel, schema, field (and the enum)
    assert next(n for n in root.walk() if n.tag == "h1").text().startswith("<i>title</i>")


def test_a_self_referencing_schema_is_named_not_expanded_forever() -> None:
    node = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "parent": {"anyOf": [{"$ref": "#/components/schemas/Event"}, {"type": "null"}]},
            "children": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
            "other": {"$ref": "#/components/schemas/Other"},
        },
    }
    other = {"type": "object", "properties": {"back": {"$ref": "#/components/schemas/Event"}}}
    page = render_page(small_document(schemas={"Event": node, "Other": other}))
    root = assert_offline(page)
    section = topic_section(root, "the.topic")
    names = [n.text().strip() for n in section.walk() if n.tag == "td" and "name" in n.classes()]
    assert names.count("name") == 1  # Event is expanded once, at the top
    assert {"parent", "children", "other", "back"} <= set(names)
    assert page.count("Event again (recursive)") == 3  # parent, children, other.back


def test_nesting_stops_after_the_depth_limit() -> None:
    levels = MAX_DEPTH + 4
    schemas = {
        f"L{i}": {
            "type": "object",
            "properties": {
                f"field{i}": {"$ref": f"#/components/schemas/L{i + 1}"}
                if i + 1 < levels
                else {"type": "string"}
            },
        }
        for i in range(levels)
    }
    schemas["Event"] = {"$ref": "#/components/schemas/L0"}
    root = parse(render_page(small_document(schemas=schemas)))
    names = field_names(topic_section(root, "the.topic"))
    assert {f"field{i}" for i in range(MAX_DEPTH)} == names
    assert f"nested deeper than {MAX_DEPTH} levels" in root.text()


async def test_the_http_route_serves_the_page(tmp_path: Path) -> None:
    app = Runtime(Settings(data_dir=tmp_path)).http_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as client:
        answer = await client.get("/docs/asyncapi")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    root = assert_offline(answer.text)
    headings = {n.text().strip() for n in root.walk() if n.tag == "h3"}
    assert NOTICE_TOPICS.issubset(headings)
