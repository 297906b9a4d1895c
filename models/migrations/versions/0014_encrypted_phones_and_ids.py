"""phones and ID numbers encrypted at rest, with keyed hashes for look-ups

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-01 16:00:00

Existing rows are encrypted with DATA_KEY (the keys the process uses, models/crypto.py); an
upgrade of a database with people in it and no DATA_KEY stops with that one line.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.crypto import keyring
from models.people import id_number_hash, phone_tail_hash

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
SECRET_FIELDS = ("phone", "id_number")

residents = sa.table(
    "residents",
    sa.column("id", sa.Integer()),
    sa.column("phone", sa.String()),
    sa.column("id_number", sa.String()),
    sa.column("phone_tail_hash", sa.String(64)),
    sa.column("id_number_hash", sa.String(64)),
)
changes = sa.table(
    "changes",
    sa.column("id", sa.Integer()),
    sa.column("field", sa.String(32)),
    sa.column("old", sa.JSON()),
    sa.column("new", sa.JSON()),
)


def upgrade() -> None:
    # The ciphertext is longer than a phone: the columns lose their lengths on PostgreSQL.
    # SQLite keeps no length, and rebuilding the table would trip its foreign keys.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("residents", "phone", type_=sa.String(), existing_type=sa.String(20))
        op.alter_column("residents", "id_number", type_=sa.String(), existing_type=sa.String(40))
    with op.batch_alter_table("residents") as batch:
        batch.drop_index("ix_residents_phone")
        batch.add_column(sa.Column("phone_tail_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("id_number_hash", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_residents_phone_tail_hash"), ["phone_tail_hash"])
        batch.create_index(batch.f("ix_residents_id_number_hash"), ["id_number_hash"])
    _convert(encrypting=True)


def downgrade() -> None:
    _convert(encrypting=False)
    op.drop_index("ix_residents_id_number_hash", table_name="residents")
    op.drop_index("ix_residents_phone_tail_hash", table_name="residents")
    for column in ("id_number_hash", "phone_tail_hash"):
        # SQLite 3.35+ drops a column in place (a batch rebuild would trip foreign keys).
        op.execute(f"ALTER TABLE residents DROP COLUMN {column}")
    op.create_index("ix_residents_phone", "residents", ["phone"])
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("residents", "phone", type_=sa.String(20), existing_type=sa.String())
        op.alter_column("residents", "id_number", type_=sa.String(40), existing_type=sa.String())


def _convert(*, encrypting: bool) -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(residents.c.id, residents.c.phone, residents.c.id_number)
            .where(
                residents.c.id > last,
                sa.or_(residents.c.phone.is_not(None), residents.c.id_number.is_not(None)),
            )
            .order_by(residents.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        keys = keyring()
        for row_id, phone, id_number in rows:
            if encrypting:
                values = {
                    "phone": keys.encrypt(phone, "residents.phone") if phone else phone,
                    "id_number": (
                        keys.encrypt(id_number, "residents.id_number") if id_number else id_number
                    ),
                    "phone_tail_hash": phone_tail_hash(phone),
                    "id_number_hash": id_number_hash(id_number),
                }
            else:
                values = {
                    "phone": keys.decrypt(phone, "residents.phone") if phone else phone,
                    "id_number": (
                        keys.decrypt(id_number, "residents.id_number") if id_number else id_number
                    ),
                }
            connection.execute(residents.update().where(residents.c.id == row_id).values(**values))
        last = rows[-1][0]
    for row_id, field, old, new in connection.execute(
        sa.select(changes.c.id, changes.c.field, changes.c.old, changes.c.new).where(
            changes.c.field.in_(SECRET_FIELDS)
        )
    ).all():
        keys, column = keyring(), f"changes.{field}"
        convert = keys.encrypt if encrypting else keys.decrypt
        connection.execute(
            changes.update()
            .where(changes.c.id == row_id)
            .values(
                old=convert(old, column) if isinstance(old, str) and old else old,
                new=convert(new, column) if isinstance(new, str) and new else new,
            )
        )
