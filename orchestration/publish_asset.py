"""What analysts read, downstream of every dbt model: the published copy of the marts and the
HTML report made from it. Both are only written when the raw loads and the dbt build (every test
included) succeeded in the same run."""

import dagster as dg
import duckdb

from analyst.html_report import write_html_report
from ingest.errors import AtpError
from ingest.freshness import record_published
from ingest.locking import writer_lock
from ingest.publish import publish
from ingest.warehouse import connect
from orchestration.alerting import write_and_post_digest
from orchestration.dbt_assets import atp_dbt_models
from orchestration.mart_metadata import mart_metadata
from orchestration.raw_assets import DUCKDB_POOL, still_in_progress
from orchestration.resources import AtpSettings


@dg.asset(
    key=["published", "atp_warehouse"],
    deps=[atp_dbt_models],
    pool=DUCKDB_POOL,
    group_name="published",
    kinds={"duckdb"},
    description=(
        "A read-only copy of the marts at ATP_PUBLISHED (default data/atp.duckdb), replaced in one "
        "step after a run whose loads and tests all passed. Analysts and `atp` commands read it."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, settings: AtpSettings
) -> dg.MaterializeResult:
    config = settings.settings
    with writer_lock(config.warehouse):
        still_in_progress(context)  # a run marked failed meanwhile publishes nothing
        publication = publish(
            config.warehouse,
            config.published,
            min_free_mb=config.min_free_mb,
            source_api=config.base_url,
            demo=config.demo,
        )
    record_published(config.published, publication.published_at)
    context.log.info(f"published {len(publication.tables)} mart tables to {publication.path}")
    # The marts' row counts, newest month and preview, as the analysts' copy has them: read
    # after the build, in this step, so they can never stand in for a dbt error.
    # A nicety: a failure here is a warning, never a failed publication.
    try:
        with connect(publication.path, read_only=True) as con:
            observed = mart_metadata(con)
    except (AtpError, duckdb.Error) as exc:
        context.log.warning(f"no metadata for the marts in the UI: {exc}")
        observed = {}
    for key, metadata in observed.items():
        context.log_event(dg.AssetObservation(asset_key=key, metadata=metadata))
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
    description=(
        "A self-contained HTML page (tables and charts, no network needed) from the published "
        "marts, at ATP_REPORT_DIR/index.html (default data/report/index.html)."
    ),
)
def html_report(context: dg.AssetExecutionContext, settings: AtpSettings) -> dg.MaterializeResult:
    config = settings.settings
    path = write_html_report(config.published, config.report_dir)
    context.log.info(f"wrote the HTML report {path}")
    return dg.MaterializeResult(
        metadata={"path": str(path), "bytes": dg.MetadataValue.int(path.stat().st_size)}
    )


@dg.asset(
    key=["published", "release_digest"],
    deps=[published_warehouse],
    group_name="published",
    kinds={"markdown", "html"},
    description=(
        "What the publication changed: the months that arrived or were revised, the newest "
        "month's U.S. ATP imports and exports, the partners that moved most and the largest "
        "revisions (`atp digest`), written beside the published copy (.digest.md/.html/.json) "
        "and posted to the alert channels when months arrived or were revised."
    ),
)
def release_digest(
    context: dg.AssetExecutionContext, settings: AtpSettings
) -> dg.MaterializeResult:
    config = settings.settings
    lines = write_and_post_digest(config, context.log.info)
    return dg.MaterializeResult(metadata={"outcome": "\n".join(lines)})
