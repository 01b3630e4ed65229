"""discovery runs and decisions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 23:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('discovery_runs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('taxonomy_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['taxonomy_version_id'], ['taxonomy_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('discovery_decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('candidate', sa.String(length=64), nullable=False),
    sa.Column('into', sa.String(length=64), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('area', sa.String(length=64), nullable=True),
    sa.Column('by', sa.String(length=200), nullable=True),
    sa.Column('taxonomy_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['taxonomy_version_id'], ['taxonomy_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('discovery_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discovery_decisions_candidate'), ['candidate'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('discovery_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discovery_decisions_candidate'))
    op.drop_table('discovery_decisions')
    op.drop_table('discovery_runs')
