"""The durable store: SQLAlchemy models, migrations and the repository the API and jobs use."""
