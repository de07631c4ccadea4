"""reports (通報) with photos, status updates and field staff's kinds; FAQ questions left unanswered and feedback

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import bot.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_feedback',
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('helpful', sa.Integer(), nullable=False),
    sa.Column('unhelpful', sa.Integer(), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entry_id')
    )
    op.create_table('faq_unanswered',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('faq_unanswered', schema=None) as batch_op:
        batch_op.create_index('ix_faq_unanswered_last', ['last_at'], unique=False)

    op.create_table('report_field_kinds',
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_user_id', 'kind')
    )
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('request_key')
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index('ix_reports_created', ['created_at'], unique=False)
        batch_op.create_index('ix_reports_kind_created', ['kind', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reports_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_reports_status_created', ['status', 'created_at'], unique=False)

    op.create_table('report_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_photos_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_photos_resident_id'), ['resident_id'], unique=False)

    op.create_table('report_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('status_from', sa.String(length=16), nullable=False),
    sa.Column('status_to', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('push_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_updates_report_id'), ['report_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_updates_report_id'))

    op.drop_table('report_updates')
    with op.batch_alter_table('report_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_photos_resident_id'))
        batch_op.drop_index(batch_op.f('ix_report_photos_report_id'))

    op.drop_table('report_photos')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('ix_reports_status_created')
        batch_op.drop_index(batch_op.f('ix_reports_resident_id'))
        batch_op.drop_index('ix_reports_kind_created')
        batch_op.drop_index('ix_reports_created')

    op.drop_table('reports')
    op.drop_table('report_field_kinds')
    with op.batch_alter_table('faq_unanswered', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_unanswered_last')

    op.drop_table('faq_unanswered')
    op.drop_table('faq_feedback')
