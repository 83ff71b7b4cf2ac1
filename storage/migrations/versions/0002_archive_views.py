"""archive views: figures_view (figure + article + source + version), alerts_view (alert + each
delivery), articles_view (article metadata + source + topics) for sqlite3, psql, Datasette and
notebooks; indexes ix_articles_dates (published_at, first_seen_at) and ix_articles_source_id, so
search filters by date and source never read the articles' long texts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES_VIEW = """
CREATE VIEW figures_view AS
SELECT
    f.id AS figure_id,
    CASE WHEN v.number > 1 THEN v.fetched_at
         ELSE COALESCE(a.published_at, a.first_seen_at) END AS reported_at,
    f.topic,
    f.quantity,
    f.value,
    f.low,
    f.high,
    f.qualifier,
    f.unit,
    f.text AS figure_text,
    f.attribution,
    f.projection,
    f.status,
    f.sentence,
    s.name AS source,
    a.id AS article_id,
    a.url,
    a.title,
    a.published_at,
    v.number AS version,
    v.fetched_at
FROM figures f
JOIN articles a ON a.id = f.article_id
JOIN article_versions v ON v.id = f.version_id
LEFT JOIN sources s ON s.id = a.source_id
"""

ALERTS_VIEW = """
CREATE VIEW alerts_view AS
SELECT
    al.id AS alert_id,
    al.created_at,
    al.kind,
    al.topic,
    al.quantity,
    f.value,
    p.value AS previous_value,
    f.attribution,
    s.name AS source,
    a.url,
    a.title,
    d.channel,
    d.status AS delivery_status,
    d.attempts,
    d.sent_at,
    d.next_attempt_at,
    d.last_error,
    al.article_id,
    al.figure_id,
    al.previous_figure_id
FROM alerts al
LEFT JOIN deliveries d ON d.alert_id = al.id
LEFT JOIN figures f ON f.id = al.figure_id
LEFT JOIN figures p ON p.id = al.previous_figure_id
LEFT JOIN articles a ON a.id = al.article_id
LEFT JOIN sources s ON s.id = a.source_id
"""

ARTICLES_VIEW = """
CREATE VIEW articles_view AS
SELECT
    a.id AS article_id,
    COALESCE(a.published_at, a.first_seen_at) AS reported_at,
    s.name AS source,
    (SELECT {topics} FROM article_topics t WHERE t.article_id = a.id) AS topics,
    a.title,
    a.url,
    a.published_at,
    a.first_seen_at,
    a.version_count,
    a.language,
    a.duplicate_of_id,
    (SELECT count(*) FROM figures f WHERE f.article_id = a.id) AS figure_count
FROM articles a
LEFT JOIN sources s ON s.id = a.source_id
"""

TOPICS_AGGREGATE = {
    "sqlite": "group_concat(t.topic, ', ')",
    "postgresql": "string_agg(t.topic, ', ' ORDER BY t.topic)",
}
VIEWS = ("figures_view", "alerts_view", "articles_view")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index("ix_articles_dates", ["published_at", "first_seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_source_id"), ["source_id"], unique=False)
    op.execute(FIGURES_VIEW)
    op.execute(ALERTS_VIEW)
    op.execute(ARTICLES_VIEW.format(topics=TOPICS_AGGREGATE[dialect]))


def downgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_source_id"))
        batch_op.drop_index("ix_articles_dates")
