"""Label sheets: a batch to label written as XLSX or CSV, and the filled-in sheet read back.

Columns, in order (the analyst fills in the last three; the rest are as exported)::

    statement_id  taxonomy_version_id  check  response_id  question  statement  comment
    suggested_areas  suggested_type  areas  type  new_theme

``areas``: area ids separated by ``;`` (``none``: none of these); ``type``: one type id (blank
or ``none``: no type fits); ``new_theme``: the name of a theme the taxonomy lacks. A row whose
three cells are blank is skipped. ``check`` ties the row's id to its text and taxonomy version.
Every problem names the file, the row (as the spreadsheet numbers it) and the column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from themer.errors import Errors

__all__ = ["COLUMNS", "LabelItem", "SheetRow", "read_sheet", "write_sheet"]

COLUMNS = ["statement_id", "taxonomy_version_id", "check", "response_id", "question",
           "statement", "comment", "suggested_areas", "suggested_type", "areas", "type",
           "new_theme"]
REQUIRED = ["statement_id", "taxonomy_version_id", "check", "areas", "type", "new_theme"]
NONE = "none"
SUFFIXES = (".xlsx", ".csv")


class LabelItem(BaseModel):
    """One label as a door sends it: the areas of a stored statement (empty: none of these),
    its type (none: no type fits), and a theme the taxonomy lacks (free text)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    statement_id: int = Field(ge=1, examples=[42])
    taxonomy_version_id: int = Field(ge=1, description="The stored version labelled against.")
    areas: list[str] = Field(default_factory=list, max_length=50, examples=[["search"]])
    type: str | None = Field(default=None, max_length=64, examples=["bug"])
    new_theme: str | None = Field(default=None, max_length=200,
                                  description="Name of a theme the taxonomy lacks.")


@dataclass(frozen=True)
class SheetRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    item: LabelItem
    check: str


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _check_suffix(path: Path) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise Errors.THM149.error(source=path, where="", problem=(
            f"'{path.suffix}' is not a label sheet type; use .xlsx or .csv"))


def _rows(path: Path) -> Iterator[list[str]]:
    """The sheet's rows as text cells, header first."""
    if path.suffix.lower() == ".csv":
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                for row in csv.reader(handle):
                    yield [cell.strip() for cell in row]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise Errors.THM149.error(source=path, where="",
                                      problem=f"cannot read it as CSV ({exc})") from None
        return
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError... on bad files
        raise Errors.THM149.error(source=path, where="",
                                  problem=f"cannot read it as XLSX ({type(exc).__name__})"
                                  ) from None
    try:
        sheet = book["labels"] if "labels" in book.sheetnames else book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


def _item(cells: dict[str, str], path: Path, row: int) -> LabelItem | None:
    """The row's label, or None when its areas, type and new_theme are blank."""
    areas, kind, theme = cells["areas"], cells["type"], cells["new_theme"]
    if not (areas or kind or theme):
        return None
    if not areas:
        raise Errors.THM149.error(source=path, where=f", row {row}, column 'areas'", problem=(
            "blank, while the row has a type or new theme: write the area ids separated by ; "
            "(or none)"))
    numbers: dict[str, int] = {}
    for column in ("statement_id", "taxonomy_version_id"):
        try:
            numbers[column] = int(cells[column])
        except ValueError:
            raise Errors.THM149.error(source=path, where=f", row {row}, column '{column}'",
                                      problem=f"'{cells[column]}' is not a whole number"
                                      ) from None
    chosen = [] if areas.lower() == NONE else [
        a.strip() for a in areas.replace(",", ";").split(";") if a.strip()]
    try:
        return LabelItem(**numbers, areas=chosen,
                         type=None if kind.lower() in ("", NONE) else kind,
                         new_theme=theme or None)
    except ValidationError as exc:
        first = exc.errors()[0]
        column = str(first["loc"][0]) if first["loc"] else "areas"
        raise Errors.THM149.error(source=path, where=f", row {row}, column '{column}'",
                                  problem=str(first["msg"])) from None


def read_sheet(path: Path, max_rows: int) -> list[SheetRow]:
    """The labelled rows of a filled-in sheet, each checked for shape (not yet against the
    store or the taxonomy: the caller does that before anything is written)."""
    _check_suffix(path)
    if not path.is_file():
        raise Errors.THM103.error(path=path)
    rows = _rows(path)
    header = next(rows, None)
    if header is None:
        raise Errors.THM149.error(source=path, where="", problem="the sheet is empty")
    absent = [c for c in REQUIRED if c not in header]
    if absent:
        raise Errors.THM149.error(source=path, where=", row 1", problem=(
            f"column(s) {absent} missing; the sheet has {[c for c in header if c]}"))
    position = {name: header.index(name) for name in REQUIRED}
    found: list[SheetRow] = []
    first_row: dict[int, int] = {}
    for number, values in enumerate(rows, start=2):
        if number - 1 > max_rows:
            raise Errors.THM149.error(source=path, where="", problem=(
                f"more than {max_rows} rows; split the sheet"))
        cells = {name: values[i] if i < len(values) else "" for name, i in position.items()}
        item = _item(cells, path, number)
        if item is None:
            continue
        if item.statement_id in first_row:
            raise Errors.THM149.error(source=path, where=f", row {number}, column "
                                      "'statement_id'", problem=(
                                          f"statement {item.statement_id} is also on row "
                                          f"{first_row[item.statement_id]}"))
        first_row[item.statement_id] = number
        found.append(SheetRow(number, item, cells["check"]))
    return found


def _records(batch: dict[str, Any]) -> list[list[Any]]:
    version = batch["taxonomy"]["taxonomy_version_id"]
    out = []
    for item in batch["items"]:
        earlier = item["label"] or {}
        out.append([item["statement_id"], version, item["check"], item["response_id"],
                    item["question"], item["text"], item["comment"],
                    "; ".join(item["suggested"]["areas"]), item["suggested"]["type"] or "",
                    ("; ".join(earlier["areas"]) or NONE) if earlier else "",
                    earlier.get("type") or "", earlier.get("new_theme") or ""])
    return out


def write_sheet(path: Path, batch: dict[str, Any]) -> None:
    """A batch of ``next_batch`` as a sheet to fill in (atomically: a temp file, then rename);
    an XLSX also lists the taxonomy's ids on a second sheet."""
    _check_suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    records = _records(batch)
    if path.suffix.lower() == ".csv":
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(records)
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "labels"
        sheet.append(COLUMNS)
        for record in records:
            sheet.append(record)
        sheet.freeze_panes = "A2"
        for letter, width in zip("ABCDEFGHIJKL", (12, 10, 14, 12, 12, 50, 60, 22, 16, 22, 16,
                                                   22), strict=True):
            sheet.column_dimensions[letter].width = width
        ids = book.create_sheet("taxonomy")
        ids.append(["kind", "id", "name"])
        for kind, key in (("area", "areas"), ("type", "types")):
            for label in batch["taxonomy"][key]:
                ids.append([kind, label["id"], label["name"]])
        book.save(partial)
    partial.replace(path)
