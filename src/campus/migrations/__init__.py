"""The one Alembic history of Campus (versions named YYYY-MM-DD_slug.py)."""
