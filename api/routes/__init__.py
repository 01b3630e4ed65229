"""One APIRouter per resource; :func:`api.app.create_app` includes them all."""
