"""Who owns the assets and how fresh each kind should be, in one place for the raw, dbt and
published assets (the Dagster UI shows both on every asset and filters by owner).

Freshness follows what each asset's materialization means, not the schedule alone:

- The raw tables are materialized by every successful nightly refresh, changed or not (refresh by
  change), so two nights without one is a pipeline that stopped: warn after 30 hours (one night
  missed), fail after 2 days.
- The marts and the published copy are materialized only when the data changed (a quiet night
  skips the dbt build and publishing), that is when Census releases a month (about monthly,
  five weeks after the month ends; consecutive releases come 4 to 5 weeks apart) or revises
  one. A 2-day window would read FAIL most of every month. They warn after 35 days (a release
  later than usual, or one not built) and fail after 45 days (a release certainly missed: the
  raw tables' `census_release_is_current` check says whether Census or the pipeline is late).

The policy is Dagster's public `dg.FreshnessPolicy.time_window` (the pre-1.11 `FreshnessPolicy`
is now `LegacyFreshnessPolicy`, deprecated; `InternalFreshnessPolicy`, the preview name, is not
exported by 1.13). The daemon's freshness evaluation (instance setting `freshness.enabled`, on
by default in 1.13) compares it with the asset's last materialization, in any partition.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

TEAM_OWNER = "team:atp-warehouse"
OWNERS = [TEAM_OWNER]

RAW_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=2), warn_window=timedelta(hours=30)
)
RELEASE_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=45), warn_window=timedelta(days=35)
)
