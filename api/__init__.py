"""themer's HTTP service (FastAPI). Filled in by the service issue; nothing here yet."""

__all__: list[str] = []
