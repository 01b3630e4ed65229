"""MkDocs hook: replace ``<!-- api-reference -->`` with the routes of the HTTP API.

Generated from the app's own OpenAPI schema (``create_app(Settings(...)).openapi()``) at build
time, so it cannot drift. Building the app does not run its lifespan: no store, no model.
"""

from __future__ import annotations

import html
from typing import Any

MARKER = "<!-- api-reference -->"
_AUTH_HEADERS = {"x-api-key", "authorization"}  # on every protected route; said once on the page


def _cell(text: str) -> str:
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def _schema_name(schema: dict[str, Any]) -> str:
    """A body's type; a named schema links to its table under "Request bodies"."""
    ref = schema.get("$ref")
    if ref:
        name = str(ref).rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    if schema.get("type") == "array" and "items" in schema:
        return f"list of {_schema_name(schema['items'])}"
    return f"`{schema.get('type', 'object')}`"


def _param_type(schema: dict[str, Any]) -> str:
    options = schema.get("anyOf")
    if options:
        return " or ".join(_param_type(o) for o in options if o.get("type") != "null")
    if schema.get("type") == "array":
        return f"list of {_param_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " / ".join(str(v) for v in schema["enum"])
    return str(schema.get("type", ""))


def _operation(path: str, method: str, op: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    if op.get("summary"):
        lines += [f"**{op['summary']}**", ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    params = [p for p in op.get("parameters", []) if p["name"].lower() not in _AUTH_HEADERS]
    if params:
        lines += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for p in params:
            schema = p.get("schema", {})
            default = schema.get("default")
            note = p.get("description") or schema.get("description") or ""
            if default is not None:
                note = f"{note} (default `{default}`)".strip()
            lines.append(f"| `{p['name']}` | {p['in']} | {_cell(_param_type(schema))} | "
                         f"{'yes' if p.get('required') else 'no'} | {_cell(note)} |")
        lines.append("")
    if any(p["name"].lower() in _AUTH_HEADERS for p in op.get("parameters", [])):
        lines += ["Needs an API key.", ""]
    body = op.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            lines += [f"Request body (`{media}`): {_schema_name(content.get('schema', {}))}", ""]
    responses = op.get("responses", {})
    if responses:
        codes = ", ".join(f"`{code}` {_cell(r.get('description', ''))}"
                          for code, r in sorted(responses.items()))
        lines += [f"Responses: {codes}", ""]
    return lines


def _schemas(spec: dict[str, Any]) -> list[str]:
    lines = ["## Request bodies", ""]
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        if name in {"HTTPValidationError", "ValidationError"}:
            continue  # FastAPI's own; the service answers problem+json instead
        props = schema.get("properties", {})
        if not props:
            continue
        required = set(schema.get("required", []))
        lines += [f"### `{name}`", ""]
        if schema.get("description"):
            lines += [schema["description"].strip(), ""]
        lines += ["| field | type | required | description |", "|---|---|---|---|"]
        for field, sub in props.items():
            linked = "$ref" in sub or "$ref" in sub.get("items", {})
            kind = _schema_name(sub).replace("|", "\\|") if linked else _cell(_param_type(sub))
            lines.append(f"| `{field}` | {kind} | {'yes' if field in required else 'no'} "
                         f"| {_cell(sub.get('description', ''))} |")
        lines.append("")
    return lines


def api_reference() -> str:
    """Markdown for every route of the API, grouped by OpenAPI tag, then the request bodies."""
    from api.app import create_app  # noqa: TID251 (the docs read the API, as tests do)
    from themer.config import Settings

    spec = create_app(Settings(database_url="sqlite://")).openapi()
    by_tag: dict[str, list[str]] = {}
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).extend(_operation(path, method, op))
    lines: list[str] = []
    for tag, ops_lines in by_tag.items():
        lines += [f"## {tag.capitalize()}", "", *ops_lines]
    return "\n".join(lines + _schemas(spec))


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, api_reference())
