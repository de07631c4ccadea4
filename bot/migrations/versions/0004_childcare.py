"""childcare: places last seen per facility and class, and residents following facilities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:10:00
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('childcare_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('age_class', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('facility_id', 'age_class')
    )
    op.create_table('childcare_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.String(length=64), nullable=False),
    sa.Column('cohort', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('resident_id', 'facility_id', 'cohort')
    )
    with op.batch_alter_table('childcare_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_childcare_follows_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_childcare_follows_resident_id'), ['resident_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('childcare_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_childcare_follows_resident_id'))
        batch_op.drop_index(batch_op.f('ix_childcare_follows_facility_id'))
    op.drop_table('childcare_follows')
    op.drop_table('childcare_places')
