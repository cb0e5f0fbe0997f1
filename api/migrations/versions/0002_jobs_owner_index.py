"""Index jobs by owner: each API key lists only its own jobs, newest first.

Revision ID: 0002_jobs_owner_index
Revises: 0001_initial
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0002_jobs_owner_index"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_jobs_owner_created", "jobs", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_owner_created", table_name="jobs")
