"""Alembic migrations of the desk service's database (run by ``recognition-desk migrate``)."""
