"""Regenerates the single initial migration from the current models.

Used while Campus has not had a release: the schema still lives in one revision. After the
first release, new migrations are added with `campus` + Alembic instead.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command

from campus.kernel.migrate import alembic_config

VERSIONS = Path(__file__).resolve().parent.parent / "src/campus/migrations/versions"

for old in VERSIONS.glob("*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    config = alembic_config(f"sqlite+aiosqlite:///{tmp}/schema.db")
    command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
# Alembic's template output is tidied so that the file passes the project's lint.
ruff = Path(sys.executable).parent / "ruff"
subprocess.run([str(ruff), "check", "--fix", "-q", str(VERSIONS)], check=False)
subprocess.run([str(ruff), "format", "-q", str(VERSIONS)], check=True)
print("regenerated", *sorted(p.name for p in VERSIONS.glob("*.py")), file=sys.stderr)
