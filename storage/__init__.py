"""Persistence: SQLAlchemy 2 async engine, ORM tables, Alembic migrations. No protocol knowledge."""
