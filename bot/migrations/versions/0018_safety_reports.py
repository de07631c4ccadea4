"""safety_reports: residents' evacuation and safety reports (避難報告・安否) per incident

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

STATUSES = "status IN ('home', 'car', 'relatives', 'shelter', 'help')"


def upgrade() -> None:
    op.create_table('safety_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('shelter_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint(STATUSES, name='ck_safety_reports_status'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'resident_id', name='uq_safety_reports_incident_resident')
    )
    with op.batch_alter_table('safety_reports', schema=None) as batch_op:
        batch_op.create_index('ix_safety_reports_incident_status', ['incident_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_reports_resident_id'), ['resident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('safety_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_reports_resident_id'))
        batch_op.drop_index('ix_safety_reports_incident_status')
    op.drop_table('safety_reports')
