"""The files ``themer init`` writes: a taxonomy, a column mapping and a roadmap, each commented.

The taxonomy is the starter taxonomy itself (``themer.taxonomy.STARTER_TAXONOMY``), byte for
byte: tagging with the written file before editing it gives the same content hash, so the
same tags and the same store version, as tagging with no file at all.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from themer.errors import Errors
from themer.taxonomy import STARTER_TAXONOMY

__all__ = ["STARTER_FILES", "write_starter_files"]

_DATA = resources.files("themer") / "data"
# written name -> packaged template
STARTER_FILES = {
    "taxonomy.yaml": STARTER_TAXONOMY,
    "mapping.yaml": _DATA / "starter_mapping.yaml",
    "roadmap.yaml": _DATA / "starter_roadmap.yaml",
}


def write_starter_files(folder: Path, *, overwrite: bool = False) -> list[Path]:
    """Write taxonomy.yaml, mapping.yaml and roadmap.yaml into ``folder`` (created if needed);
    returns their paths. Unless ``overwrite``, writes nothing if any of them exists."""
    targets = {folder / name: template for name, template in STARTER_FILES.items()}
    if not overwrite:
        existing = [str(path) for path in targets if path.exists()]
        if existing:
            raise Errors.THM190.error(paths=", ".join(existing))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, template in targets.items():
            path.write_bytes(template.read_bytes())  # bytes: the same hash on every OS
    except OSError as exc:
        raise Errors.THM191.error(folder=folder, reason=exc) from None
    return list(targets)
