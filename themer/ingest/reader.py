"""Read a survey export file (CSV, TSV, TXT, XLSX, JSON, JSONL, Parquet) as a frame of strings.

Every cell comes back as a ``str`` ("" for a missing cell) under string column names, so that
mapping and validation see what the file holds, not what pandas guessed. ``read_table`` reads
the whole file; ``iter_table`` streams it in chunks where the format allows. Failures are
:class:`~themer.errors.InputFileError` naming the file: not found or empty (THM103, THM104),
over ``MAX_FILE_BYTES`` (THM105), an unsupported suffix (THM106), bytes not in the encoding
(THM107) and anything the parser refuses (THM108).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from themer.errors import Errors, InputFileError

__all__ = ["MAX_FILE_BYTES", "READABLE", "iter_table", "read_table", "text_list"]

MAX_FILE_BYTES = 2 * 1024**3  # refuse to read more than 2 GiB in one go
READABLE = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".parquet")


@contextmanager
def _reading(path: Path, encoding: str, rows_read: Callable[[], int] = lambda: 0
             ) -> Iterator[None]:
    """Turn a reader's exceptions into errors that name the file (and where it stopped)."""
    try:
        yield
    except UnicodeDecodeError as exc:
        where = f" (after data row {rows_read() + 1})" if rows_read() else ""
        raise Errors.THM107.error(path=path, encoding=encoding, where=where,
                                  reason=exc.reason) from None
    except InputFileError:
        raise
    except (ValueError, pd.errors.ParserError, OSError, ImportError) as exc:
        raise Errors.THM108.error(path=path, reason=exc) from None


def _checked(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise Errors.THM103.error(path=path)
    size = path.stat().st_size
    if size == 0:
        raise Errors.THM104.error(path=path, found="it is empty")
    if size > MAX_FILE_BYTES:
        raise Errors.THM105.error(path=path, size=f"{size / 1e9:.1f}",
                                  limit=f"{MAX_FILE_BYTES / 1e9:.0f}")
    if path.suffix.lower() not in READABLE:
        raise Errors.THM106.error(path=path, suffix=path.suffix.lower())
    return path


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell a string ("" for missing), columns named by strings, index 0..n-1 (a
    chunked reader numbers rows on from the previous chunk)."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype(object).where(frame.notna(), "").astype(str)


def _csv_options(suffix: str, encoding: str) -> dict[str, Any]:
    return {"dtype": str, "keep_default_na": False, "encoding": encoding,
            "sep": None if suffix == ".txt" else ("\t" if suffix == ".tsv" else ","),
            "engine": "python" if suffix == ".txt" else "c"}


def read_table(
    path: str | Path, *, encoding: str = "utf-8-sig", sheet: str | int = 0
) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX/JSON/JSONL/Parquet file as strings; errors name the file and the fix."""
    path = _checked(path)
    suffix = path.suffix.lower()
    with _reading(path, encoding):
        if suffix in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(path, **_csv_options(suffix, encoding))
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, sheet_name=sheet, keep_default_na=False)
        elif suffix == ".json":
            frame = pd.read_json(path, dtype=False, orient="records")
        elif suffix == ".jsonl":
            frame = pd.read_json(path, dtype=False, lines=True)
        else:
            frame = pd.read_parquet(path)
    if frame.empty:
        raise Errors.THM104.error(path=path, found="a header only")
    return _as_strings(frame)


def iter_table(
    path: str | Path, *, encoding: str = "utf-8-sig", chunk_rows: int = 50_000
) -> Iterator[pd.DataFrame]:
    """The file's rows as string frames of at most ``chunk_rows`` rows, in file order.

    CSV/TSV/TXT, JSONL and Parquet are streamed (memory holds one chunk, whatever the file's
    size); XLSX and JSON arrays have no streaming reader and are read whole, then sliced."""
    path = _checked(path)
    suffix = path.suffix.lower()
    read = 0
    with _reading(path, encoding, lambda: read):
        if suffix in (".csv", ".tsv", ".txt", ".jsonl"):
            reader = (pd.read_csv(path, chunksize=chunk_rows, **_csv_options(suffix, encoding))
                      if suffix != ".jsonl" else
                      pd.read_json(path, dtype=False, lines=True, chunksize=chunk_rows))
            with reader:
                for chunk in reader:
                    if len(chunk):
                        read += len(chunk)
                        yield _as_strings(chunk)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                if batch.num_rows:
                    read += batch.num_rows
                    yield _as_strings(batch.to_pandas())
        else:
            whole = read_table(path, encoding=encoding)
            for start in range(0, len(whole), chunk_rows):
                read += min(chunk_rows, len(whole) - start)
                yield whole.iloc[start:start + chunk_rows].reset_index(drop=True)
    if not read:
        raise Errors.THM104.error(path=path, found="a header only")


def text_list(values: pd.Series) -> list[str]:
    """Cells as strings, a missing cell as "" (pandas 3 keeps NaN through ``astype(str)``)."""
    return [v if isinstance(v, str) else "" if pd.isna(v) else str(v) for v in values]
