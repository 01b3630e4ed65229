"""The install checks behind ``themer doctor``: each probe returns a detail or raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from themer.config import Settings
from themer.errors import Errors

__all__ = ["checks"]

PACKAGES = ("torch", "sentence-transformers", "spacy", "hdbscan", "scikit-learn", "pandas",
            "sqlalchemy", "fastapi")


def checks(settings: Settings) -> dict[str, Callable[[], str]]:
    """Name -> probe, in the order a doctor runs them."""

    def versions() -> str:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        found = []
        for package in PACKAGES:
            try:
                found.append(f"{package} {package_version(package)}")
            except PackageNotFoundError:
                found.append(f"{package} missing")
        return ", ".join(found)

    def model() -> str:
        from themer.nlp.embed import SentenceTransformerEncoder, default_model_path

        path = settings.model or str(default_model_path())
        encoder = SentenceTransformerEncoder(settings.model or None, device=settings.device,
                                             batch_tokens=settings.batch_tokens)
        vector = encoder.encode(["themer doctor"])
        return f"{path} -> {vector.shape[1]} dims ({encoder.model_id})"

    def pipeline() -> str:
        from themer.nlp.split import StatementSplitter, packaged_pipeline_path

        path = packaged_pipeline_path()
        if path is None:
            raise Errors.THM397.error()
        StatementSplitter(splitter=settings.splitter).split_many(["One. Two."])
        return str(path)

    def taxonomy() -> str:
        from themer.taxonomy import load_taxonomy

        info = load_taxonomy(settings.taxonomy)
        return f"{settings.taxonomy} v{info.version}: {len(info.taxonomy.areas)} areas"

    def store() -> str:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        from themer.store.db import ping

        url = settings.store_url()
        if make_url(url).get_backend_name() == "sqlite":
            database = make_url(url).database or ""
            if not Path(database).exists():
                return f"{url} (not created yet; the first import or `serve` creates it)"
        engine = create_engine(url)
        try:
            ping(engine)
        finally:
            engine.dispose()
        return make_url(url).render_as_string(hide_password=True)

    return {"python packages": versions, "embedding model": model, "spaCy pipeline": pipeline,
            "taxonomy": taxonomy, "store": store}
