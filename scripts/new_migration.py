"""Write the next Alembic migration from the models (a developer's tool).

    python scripts/new_migration.py "what changed"

It builds a throwaway SQLite database at the current head, autogenerates the difference,
and tidies the result. Read the file it writes before committing it.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

from models.db import MIGRATIONS, alembic_config, make_engine, upgrade  # noqa: E402


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "head.db"
        asyncio.run(upgrade(make_engine(f"sqlite+aiosqlite:///{path}")))
        config = alembic_config(f"sqlite:///{path}")
        head = ScriptDirectory.from_config(config).get_current_head() or "0000"
        number = f"{int(head) + 1:04d}"
        command.revision(config, message=message, autogenerate=True, rev_id=number)
    for written in (MIGRATIONS / "versions").glob(f"{number}_*.py"):
        text = written.read_text()
        written.write_text(re.sub(r"astext_type=Text\(\)", "astext_type=sa.Text()", text))
        subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--fix", "-q", str(written)], check=False
        )
        subprocess.run([sys.executable, "-m", "ruff", "format", "-q", str(written)], check=False)
        print(f"wrote {written.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
