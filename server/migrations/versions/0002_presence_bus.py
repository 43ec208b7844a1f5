"""Presence of WebSocket connections and large bus messages (several instances on PostgreSQL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("conn_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("instance", sa.String(length=36), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conn_id"),
    )
    op.create_index(op.f("ix_presence_kind"), "presence", ["kind"], unique=False)
    op.create_index(op.f("ix_presence_key"), "presence", ["key"], unique=False)
    op.create_index(op.f("ix_presence_instance"), "presence", ["instance"], unique=False)
    op.create_index(op.f("ix_presence_seen_at"), "presence", ["seen_at"], unique=False)
    op.create_table(
        "bus_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_bus_messages_created_at"), "bus_messages", ["created_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_bus_messages_created_at"), table_name="bus_messages")
    op.drop_table("bus_messages")
    for col in ("seen_at", "instance", "key", "kind"):
        op.drop_index(op.f(f"ix_presence_{col}"), table_name="presence")
    op.drop_table("presence")
