"""Resumable tag output: one Parquet shard per chunk of responses, and a manifest.

Long batch runs (`themer tag --shards`, either engine) write chunk i to ``part-<i>.parquet``
through a temporary file and a rename, so a shard is whole or absent. A restart after a crash
finds the shards already there and tags only the missing chunks. The manifest pins what the
shards were made from (input file hash, taxonomy hash, encoder, chunk size, rows): shards of
another run are never mixed in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from themer.errors import InputFileError

__all__ = ["MANIFEST", "file_sha256", "missing_shards", "shard_path", "write_shard"]

MANIFEST = "manifest.json"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shard_path(folder: Path, index: int) -> Path:
    return folder / f"part-{index:06d}.parquet"


def missing_shards(folder: Path, identity: dict[str, Any], n_chunks: int) -> list[int]:
    """Chunk indices still to tag; writes the manifest on a first run, checks it on a restart."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / MANIFEST
    if manifest.is_file():
        found = json.loads(manifest.read_text(encoding="utf-8"))
        if found != identity:
            changed = sorted(k for k in identity if found.get(k) != identity[k])
            raise InputFileError(
                f"{folder}: holds shards of another run (different {', '.join(changed)}); "
                "use a new folder or empty this one.", code="THM180")
    else:
        manifest.write_text(json.dumps(identity, indent=2), encoding="utf-8")
    return [i for i in range(n_chunks) if not shard_path(folder, i).is_file()]


def write_shard(folder: Path, index: int, tags: pd.DataFrame) -> None:
    target = shard_path(folder, index)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(pa.Table.from_pandas(tags, preserve_index=False), str(tmp))
    tmp.replace(target)
