"""What analysts read, downstream of every dbt model: the published copy of the marts and the
HTML report made from it. Both are only written when the raw loads and the dbt build (every test
included) succeeded in the same run."""

import dagster as dg

from analyst.html_report import write_html_report
from ingest.freshness import record_published
from ingest.locking import writer_lock
from ingest.publish import publish
from ingest.settings import Settings
from ingest.warehouse import MARTS
from orchestration.alerting import write_and_post_digest
from orchestration.asset_policies import OWNERS, RELEASE_FRESHNESS
from orchestration.dbt_assets import atp_dbt_models
from orchestration.raw_assets import DUCKDB_POOL, still_in_progress

# What the copy holds: the marts, built by the dbt step. Depending on them (not on every dbt
# node) keeps the lineage readable; the step still runs after the whole dbt step, which is one
# op, and is skipped when the build is (no mart yielded) or fails (a failing test fails it).
MART_KEYS = sorted(
    (key for key in atp_dbt_models.keys if key.path[0] == MARTS), key=lambda k: k.path
)


@dg.asset(
    key=["published", "atp_warehouse"],
    deps=MART_KEYS,
    pool=DUCKDB_POOL,
    group_name="published",
    kinds={"duckdb"},
    owners=OWNERS,
    freshness_policy=RELEASE_FRESHNESS,
    description=(
        "A read-only copy of the marts at ATP_PUBLISHED (default data/atp.duckdb), replaced in one "
        "step after a run whose loads and tests all passed. Analysts and `atp` commands read it."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> dg.MaterializeResult:
    with writer_lock(settings.warehouse):
        still_in_progress(context)  # a run marked failed meanwhile publishes nothing
        publication = publish(
            settings.warehouse,
            settings.published,
            min_free_mb=settings.min_free_mb,
            source_api=settings.base_url,
            demo=settings.demo,
        )
    record_published(settings.published, publication.published_at)
    context.log.info(f"published {len(publication.tables)} mart tables to {publication.path}")
    return dg.MaterializeResult(
        metadata={
            "path": str(publication.path),
            "tables": dg.MetadataValue.int(len(publication.tables)),
            "bytes": dg.MetadataValue.int(publication.bytes),
            "newest_month": publication.newest_month or "",
            "published_at": publication.published_at.isoformat(),
        }
    )


@dg.asset(
    key=["published", "html_report"],
    deps=[published_warehouse],
    group_name="published",
    kinds={"html"},
    owners=OWNERS,
    description=(
        "A self-contained HTML page (tables and charts, no network needed) from the published "
        "marts, at ATP_REPORT_DIR/index.html (default data/report/index.html)."
    ),
)
def html_report(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> dg.MaterializeResult:
    path = write_html_report(settings.published, settings.report_dir)
    context.log.info(f"wrote the HTML report {path}")
    return dg.MaterializeResult(
        metadata={"path": str(path), "bytes": dg.MetadataValue.int(path.stat().st_size)}
    )


@dg.asset(
    key=["published", "release_digest"],
    deps=[published_warehouse],
    group_name="published",
    kinds={"markdown", "html"},
    owners=OWNERS,
    description=(
        "What the publication changed: the months that arrived or were revised, the newest "
        "month's U.S. ATP imports and exports, the partners that moved most and the largest "
        "revisions (`atp digest`), written beside the published copy (.digest.md/.html/.json) "
        "and posted to the alert channels when months arrived or were revised."
    ),
)
def release_digest(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[Settings]
) -> dg.MaterializeResult:
    lines = write_and_post_digest(settings, context.log.info)
    return dg.MaterializeResult(metadata={"outcome": "\n".join(lines)})
