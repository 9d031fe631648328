"""The Census International Trade API datasets the pipeline loads, each one declaration that the
client, the answer's checks, the landing zone, the loader and the fake API read.

Every dataset answers rows of the same shape: a partner (CTY_CODE, CTY_NAME), an item code and
its description (hitech: the ATP group; hs: the 10-digit commodity), the month's value and
`time`. A row is identified by partner, item and month; the answer's checks, its content hash
and the raw tables follow from that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FLOWS = ("imports", "exports")
# Monthly values only: the *_YR fields are year-to-date running totals and must never be summed.
VALUE_COLUMN = {"imports": "GEN_VAL_MO", "exports": "ALL_VAL_MO"}
PARTNER_COLUMNS = ("CTY_CODE", "CTY_NAME")


@dataclass(frozen=True, eq=False)  # each declared once: compared and hashed by identity
class CensusDataset:
    """One dataset of the API: `<base>/<flow>/<name>`, stored as `raw.census_<name>_<flow>`."""

    name: str
    what: str  # what a row is, for descriptions: "... by partner, <what> and month"
    item: dict[str, str]  # flow -> the item code column
    item_description: dict[str, str]  # flow -> the item description column
    # Predicates every request sends, so that no other dimension breaks the answer out.
    pinned: dict[str, str] = field(default_factory=dict)
    # Where its answers land under ATP_LANDING_DIR ("" : the root, where hitech always landed).
    landing_folder: str = ""

    def endpoint(self, flow: str) -> str:
        check_flow(flow)
        return f"{flow}/{self.name}"

    def requested_variables(self, flow: str) -> list[str]:
        """The `get` list: partner, item, item description, value."""
        check_flow(flow)
        return [*PARTNER_COLUMNS, self.item[flow], self.item_description[flow], VALUE_COLUMN[flow]]

    def columns(self, flow: str) -> list[str]:
        """The raw table's Census columns: the requested variables, then `time`."""
        return [*self.requested_variables(flow), "time"]

    def landing_root(self, landing_dir: Path) -> Path:
        """Where its answers land: `<root>/<flow>/<year>/` (see ingest.landing)."""
        return landing_dir / self.landing_folder

    def raw_table(self, flow: str) -> str:
        check_flow(flow)
        return f"raw.census_{self.name}_{flow}"


def check_flow(flow: str) -> None:
    if flow not in FLOWS:
        raise ValueError(f"flow must be one of {FLOWS}, not {flow!r}")


HITECH = CensusDataset(
    name="hitech",
    what="ATP group",
    item={"imports": "HITECH", "exports": "HITECH"},
    item_description={"imports": "HITECH_DESC", "exports": "HITECH_DESC"},
)
# Product detail: the 10-digit codes, for countries only (SUMMARY_LVL=DET); COMM_LVL is always
# sent (whether levels come back mixed without it is not confirmed).
HS = CensusDataset(
    name="hs",
    what="10-digit commodity code (those on the year's ATP code list)",
    item={"imports": "I_COMMODITY", "exports": "E_COMMODITY"},
    item_description={"imports": "I_COMMODITY_SDESC", "exports": "E_COMMODITY_SDESC"},
    pinned={"COMM_LVL": "HS10", "SUMMARY_LVL": "DET"},
    landing_folder="hs",
)
DATASETS = {dataset.name: dataset for dataset in (HITECH, HS)}
