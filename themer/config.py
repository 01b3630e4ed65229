"""The one place settings are read from the environment (prefix ``THEMER_``).

Only the CLI and the API build a ``Settings``; the engine takes plain arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "themer"


class Settings(BaseSettings):
    """Runtime configuration; every field can be set as ``THEMER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="THEMER_", extra="ignore")

    model: str = Field(
        default="",
        description="Local sentence-transformers folder; empty = the packaged all-MiniLM-L6-v2.",
    )
    device: str = Field(default="cpu", description="torch device: cpu, cuda, auto.")
    quantize: Literal["none", "int8"] = Field(
        default="none", description="int8: MiniLM's Linear layers quantised dynamically (torch) "
        "on CPU: faster, slightly different vectors (another model id, its own cache).")
    encoder: Literal["minilm", "static", "cascade"] = Field(
        default="minilm", description="minilm: the transformer; static: the distilled static "
        "encoder (fast); cascade: static, with MiniLM for the statements it is unsure of.")
    static_model: Path | None = Field(
        default=None, description="Folder of `themer models distill`; unset = "
        "cache_dir/static-minilm, distilled there on first use (an explicit folder must exist).")
    cascade_band: float = Field(
        default=0.05, gt=0, le=0.5, description="cascade: a statement whose static confidence "
        "for some label is within this of the 0.5 cut goes to MiniLM.")
    batch_tokens: int = Field(
        default=512, ge=16, le=65_536,
        description="Tokens per encoder batch (sets the fixed batch shapes; part of the model id).",
    )
    cache_dir: Path = Field(default_factory=_default_cache_dir)
    taxonomy: Path = Field(default=Path("taxonomy.yaml"))
    decisions_file: Path = Field(
        default=Path("discovery-decisions.jsonl"),
        description="Where the CLI logs promote / merge / rename / discard decisions.")
    models_dir: Path = Field(default=Path("models"), description="Where trained heads live.")
    splitter: Literal["senter", "sentencizer"] = "senter"
    chunk_size: int = Field(
        default=10_000, ge=1, le=100_000,
        description="Responses per chunk: bigger fills encoder batches better, costs memory.",
    )
    min_n: int = Field(default=30, ge=1, description="Below this n a figure is flagged small.")
    database_url: str = Field(
        default="",
        description="Store URL: sqlite:///path/themer.db (default: themer.db in cache_dir) or "
        "postgresql+psycopg://user@host/db.")
    max_body_bytes: int = Field(default=2_000_000, ge=1_000, le=100_000_000,
                                description="Largest API request body; bigger gets 413.")
    max_upload_bytes: int = Field(default=50_000_000, ge=1_000, le=2_000_000_000,
                                  description="Largest file POST /v1/imports accepts.")
    max_ingest: int = Field(default=10_000, ge=1, le=100_000,
                            description="Most responses per POST /v1/responses; above "
                            "max_batch they are stored at once and tagged by a job (202).")
    max_batch: int = Field(default=256, ge=1, le=10_000,
                           description="Most comments per classify call / responses per ingest.")
    rate_limit_per_minute: int = Field(default=600, ge=1,
                                       description="Requests per API key per minute (429 after).")

    worker: Literal["embedded", "off"] = Field(
        default="embedded", description="embedded: the API runs jobs in a thread; off: run "
        "`themer worker` processes instead.")
    metrics_public: bool = Field(default=False,
                                 description="Serve /metrics without an API key.")
    import_chunk_rows: int = Field(
        default=10_000, ge=1, le=1_000_000,
        description="Rows read, validated and stored per step by `themer import` (memory).")
    job_chunk: int = Field(default=500, ge=1, le=100_000,
                           description="Responses in a job's first step (one heartbeat each); "
                           "steps double while quick, up to 32x.")

    @field_validator("static_model", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{self.cache_dir / 'themer.db'}"

    def static_model_dir(self) -> Path:
        """The static encoder's folder: the configured one, else one in ``cache_dir`` per
        source model (built on first use; see ``static_model_is_default``)."""
        if self.static_model is not None:
            return self.static_model
        if not self.model:
            return self.cache_dir / "static-minilm"
        return self.cache_dir / f"static-{Path(self.model).name or 'custom'}"

    def static_model_is_default(self) -> bool:
        """True when no folder was configured: themer may build the static encoder itself."""
        return self.static_model is None

    def explicit_taxonomy(self) -> Path | None:
        """The taxonomy path if one was configured (argument or THEMER_TAXONOMY), else None:
        then ``taxonomy`` is only the default to look for (see themer.taxonomy.resolve_taxonomy)."""
        return self.taxonomy if "taxonomy" in self.model_fields_set else None
