"""test_sets: versioned frozen test sets; each model version records the set it was evaluated on
and the run that owns it (so a crashed run's candidate can be recognised as stale).

A label set's test sets only grow: set k is every ``test_tweets`` row of the label set with
``test_set_id <= k``. An existing frozen test set becomes set 1 of its label set.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "test_sets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("label_set", sa.String(256), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("class_counts", sa.JSON, nullable=False),
        sa.Column("frozen_at", sa.DateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_test_sets_label_set", "test_sets", ["label_set", "id"])
    op.add_column("test_tweets", sa.Column("test_set_id", sa.Integer, nullable=True))
    op.add_column("model_versions", sa.Column("test_set_id", sa.Integer, nullable=True))
    op.add_column("model_versions", sa.Column("owner", sa.String(160), nullable=True))
    _backfill()


def _backfill() -> None:
    """Each label set's existing frozen test set becomes its test set 1."""
    conn = op.get_bind()
    meta = sa.MetaData()
    test_sets = sa.Table("test_sets", meta, autoload_with=conn)
    test_tweets = sa.Table("test_tweets", meta, autoload_with=conn)
    versions = sa.Table("model_versions", meta, autoload_with=conn)
    label_sets = [row[0] for row in conn.execute(sa.select(test_tweets.c.label_set).distinct())]
    for label_set in label_sets:
        rows = conn.execute(
            sa.select(test_tweets.c.label, sa.func.count(), sa.func.min(test_tweets.c.frozen_at))
            .where(test_tweets.c.label_set == label_set)
            .group_by(test_tweets.c.label)
        ).all()
        counts = {label: int(n) for label, n, _ in rows}
        frozen_at = min(first for _, _, first in rows)
        set_id = conn.execute(
            test_sets.insert().values(label_set=label_set, size=sum(counts.values()), class_counts=counts, frozen_at=frozen_at, note="frozen before test sets were versioned")
        ).inserted_primary_key[0]
        conn.execute(test_tweets.update().where(test_tweets.c.label_set == label_set).values(test_set_id=set_id))
        conn.execute(versions.update().where(versions.c.label_set == label_set, versions.c.test_macro_f1.is_not(None)).values(test_set_id=set_id))


def downgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("owner")
        batch.drop_column("test_set_id")
    with op.batch_alter_table("test_tweets") as batch:
        batch.drop_column("test_set_id")
    op.drop_index("ix_test_sets_label_set", table_name="test_sets")
    op.drop_table("test_sets")
