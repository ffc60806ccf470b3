"""Reading `post import-file`: CSV (a header row), JSON (a list of objects) or Markdown (front
matter per post), into rows with where they came from ("line 3", "item 2") for the messages.

Fields: text, to (one account, or several: `;` in CSV, a list in JSON/front matter), at (or
queue: true), tz, media (paths relative to the file; `;` in CSV), alt, text_for.<platform>
(a column in CSV, a nested object in JSON), draft, id (a correlation id), title, link.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postcli.errors import InvalidInput

FIELDS = ("text", "to", "at", "queue", "tz", "media", "alt", "draft", "id", "title", "link", "text_for")
MAX_BYTES = 50 * 1024 * 1024
_TRUE = {"true", "yes", "1", "y", "on"}
_FALSE = {"false", "no", "0", "n", "off", ""}


@dataclass
class Row:
    where: str  # "line 3" (CSV, the header is line 1), "item 2" (JSON, 1-based), "post 2 (line 7)" (Markdown)
    text: str = ""
    to: list[str] = field(default_factory=list)
    at: str | None = None
    queue: bool = False
    tz: str | None = None
    media: list[Path] = field(default_factory=list)
    alt: list[str] = field(default_factory=list)
    text_for: dict[str, str] = field(default_factory=dict)
    draft: bool = False
    id: str | None = None
    title: str | None = None
    link: str | None = None
    problems: list[str] = field(default_factory=list)  # what reading it already found wrong


def read(path: Path) -> list[Row]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}.") from None
    if size > MAX_BYTES:
        raise InvalidInput(f"{path} is {size:,} bytes; import files are at most {MAX_BYTES:,}.", hint="Split it.")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.", hint="Save it as UTF-8.") from None
    suffix = path.suffix.lower()
    base = path.parent
    if suffix == ".csv":
        return _csv(raw, base)
    if suffix == ".json":
        return _json(raw, base)
    if suffix in (".md", ".markdown"):
        return _markdown(raw, base)
    raise InvalidInput(f"{path.name}: not a .csv, .json or .md file.", hint="Name the file by its format.")


def _bool(value: Any, row: Row, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    row.problems.append(f"{name} {value!r} is not true or false")
    return False


def _list(value: Any, sep: str = ";") -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(sep) if v.strip()]


def _fill(row: Row, data: dict[str, Any], base: Path) -> Row:
    for key in data:
        if key not in FIELDS and not key.startswith("text_for."):
            row.problems.append(f"unknown field {key!r} (fields: {', '.join(FIELDS)}, text_for.PLATFORM)")
    text = data.get("text")
    row.text = "" if text is None else str(text)
    row.to = _list(data.get("to"))
    row.at = str(data["at"]).strip() if data.get("at") not in (None, "") else None
    row.queue = _bool(data.get("queue", False), row, "queue")
    row.tz = str(data["tz"]).strip() if data.get("tz") not in (None, "") else None
    row.media = [(base / m).resolve() if not Path(m).is_absolute() else Path(m) for m in _list(data.get("media"))]
    row.alt = _list(data.get("alt"))
    row.draft = _bool(data.get("draft", False), row, "draft")
    row.id = str(data["id"]).strip() if data.get("id") not in (None, "") else None
    row.title = str(data["title"]) if data.get("title") not in (None, "") else None
    row.link = str(data["link"]).strip() if data.get("link") not in (None, "") else None
    nested = data.get("text_for") or {}
    if not isinstance(nested, dict):
        row.problems.append("text_for must be an object of platform: text")
        nested = {}
    flat = {k.split(".", 1)[1]: v for k, v in data.items() if k.startswith("text_for.") and v not in (None, "")}
    row.text_for = {str(k).strip().lower(): str(v) for k, v in {**nested, **flat}.items()}
    if not row.to:
        row.problems.append("no `to`: name the account(s) to post to")
    if row.at and row.queue:
        row.problems.append("both `at` and `queue`: give one")
    return row


def _csv(raw: str, base: Path) -> list[Row]:
    reader = csv.DictReader(raw.splitlines(keepends=True))
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise InvalidInput("the CSV file has no header row with a `text` column.", hint="Start it with: text,to,at")
    rows = []
    for data in reader:
        row = Row(where=f"line {reader.line_num}")
        if None in data:  # more cells than the header has columns
            row.problems.append("more cells than the header has columns")
            data.pop(None)
        rows.append(_fill(row, {k: v for k, v in data.items() if k}, base))
    return rows


def _json(raw: str, base: Path) -> list[Row]:
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the JSON file is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
    if not isinstance(items, list):
        raise InvalidInput("the JSON file must be a list of objects, one per post.")
    rows = []
    for n, item in enumerate(items, 1):
        row = Row(where=f"item {n}")
        if not isinstance(item, dict):
            row.problems.append("not an object")
            rows.append(row)
            continue
        rows.append(_fill(row, item, base))
    return rows


def _front_matter(lines: list[str]) -> dict[str, Any]:
    """`key: value` lines; a value in [brackets] is a list; quotes are dropped."""
    out: dict[str, Any] = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            out.setdefault("__bad__", []).append(line.strip())
            continue
        value = value.strip()
        if value.startswith("[") and value.endswith("]"):
            out[key.strip()] = [v.strip().strip("\"'") for v in value[1:-1].split(",") if v.strip()]
        else:
            out[key.strip()] = (
                value.strip("\"'") if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'" else value
            )
    return out


def _markdown(raw: str, base: Path) -> list[Row]:
    lines = raw.splitlines()
    rows: list[Row] = []
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip() != "---":
        raise InvalidInput("the Markdown file must start with a front-matter block (---, the fields, ---).")
    while i < len(lines):
        start = i + 1
        try:
            end = next(j for j in range(start, len(lines)) if lines[j].strip() == "---")
        except StopIteration:
            raise InvalidInput(f"line {i + 1}: a front-matter block is not closed with ---.") from None
        body_end = next((j for j in range(end + 1, len(lines)) if lines[j].strip() == "---"), len(lines))
        data = _front_matter(lines[start:end])
        row = Row(where=f"post {len(rows) + 1} (line {i + 1})")
        for bad in data.pop("__bad__", []):
            row.problems.append(f"front matter line {bad!r} is not key: value")
        data["text"] = "\n".join(lines[end + 1 : body_end]).strip()
        rows.append(_fill(row, data, base))
        i = body_end
    return rows
