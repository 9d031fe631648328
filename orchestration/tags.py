"""The tags that say what started a run and what came of it, for the UI's run list and filters."""

from __future__ import annotations

# What started a run: run, refresh, rebuild (the `atp` commands) or schedule. (A run launched
# from the UI has none.)
COMMAND_TAG = "atp/command"
# What came of it: changed (the raw data changed), unchanged, or failed.
OUTCOME_TAG = "atp/outcome"


def tag_outcome(context, outcome: str) -> None:
    context.instance.add_run_tags(context.run_id, {OUTCOME_TAG: outcome})
