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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from themer.errors import Errors
from themer.schema import TAG_TYPES

__all__ = ["MANIFEST", "file_sha256", "missing_shards", "shard_path", "tag_into_shards",
           "write_shard"]

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
            raise Errors.THM180.error(folder=folder, changed=", ".join(changed))
    else:
        manifest.write_text(json.dumps(identity, indent=2), encoding="utf-8")
    return [i for i in range(n_chunks) if not shard_path(folder, i).is_file()]


def write_shard(folder: Path, index: int, tags: pd.DataFrame) -> None:
    target = shard_path(folder, index)
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(pa.Table.from_pandas(tags, preserve_index=False), str(tmp))
    tmp.replace(target)


Sink = Callable[[pd.DataFrame], None]


def tag_into_shards(run: Callable[[pd.DataFrame, Sink], None], responses: pd.DataFrame,
                    folder: Path, todo: list[int], chunk_size: int) -> None:
    """Tag the chunks ``todo`` of ``responses`` (from ``missing_shards``) into their shards.

    ``run(chosen, sink)`` tags the chosen responses with either engine and hands the tag rows
    to ``sink`` in input order, cut however the engine likes."""
    # every chunk but the last is full, so the chosen chunks re-chunk on the same boundaries
    chosen = (pd.concat([responses.iloc[i * chunk_size:(i + 1) * chunk_size] for i in todo])
              if todo else responses.iloc[:0])
    chunk_of = pd.Series(np.arange(len(responses)) // chunk_size,
                         index=responses["response_id"].astype(str).to_numpy())
    pending: dict[int, list[pd.DataFrame]] = {}

    def sink(tags: pd.DataFrame) -> None:
        # a shard is written once the rows of a later chunk show up
        if tags.empty:
            return
        chunks = chunk_of.reindex(tags["response_id"].astype(str).to_numpy()).to_numpy()
        for index in dict.fromkeys(chunks.tolist()):
            pending.setdefault(int(index), []).append(tags[chunks == index])
        for index in [i for i in pending if i < int(chunks.max())]:
            write_shard(folder, index, pd.concat(pending.pop(index), ignore_index=True))

    run(chosen, sink)
    for index in todo:  # the last chunk, and chunks whose responses left no statement
        if index not in pending and shard_path(folder, index).is_file():
            continue
        rows = pending.pop(index, [])
        write_shard(folder, index, pd.concat(rows, ignore_index=True) if rows else
                    pd.DataFrame({c: pd.Series(dtype=t) for c, t in TAG_TYPES.items()}))
