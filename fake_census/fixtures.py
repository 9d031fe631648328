"""Small, hand-computable dataset served by the fake Census API in end-to-end tests.

Every value is the same in each month of a year, so expected numbers in tests can be worked out
by hand from the constants below (see the fake-census issue for the spec these encode).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# Months released per year; any other year has no rows (the server answers 204).
YEAR_MONTHS = {2024: 12, 2025: 12, 2026: 9}
# 2024 output uses the older total marker "" (like the 2018 captures); later years use "-".
OLD_MARKER_YEARS = frozenset({2024})

TOTAL = "TOTAL"  # key for "all commodities" / "all countries" in the expectation tables below
HITECH_CODES = ("00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10")
ATP_CODES = HITECH_CODES[1:]
HITECH_DESC = {
    TOTAL: "TOTAL FOR ALL COMMODITIES",
    "00": "NOT ADVANCED TECHNOLOGY [00]",
    "01": "BIOTECHNOLOGY [01]",
    "02": "LIFE SCIENCE [02]",
    "03": "OPTO-ELECTRONICS [03]",
    "04": "INFORMATION & COMMUNICATIONS [04]",
    "05": "ELECTRONICS [05]",
    "06": "FLEXIBLE MANUFACTURING [06]",
    "07": "ADVANCED MATERIALS [07]",
    "08": "AEROSPACE [08]",
    "09": "WEAPONS [09]",
    "10": "NUCLEAR TECHNOLOGY [10]",
}
US_TOTAL_NAME = "TOTAL FOR ALL COUNTRIES"

COUNTRIES = {
    "2010": "MEXICO",
    "5700": "CHINA",
    "5830": "TAIWAN",
    "4280": "GERMANY",
    "1220": "CANADA",
    "5520": "VIETNAM",
}

# Monthly ATP value A in whole dollars: flow -> country -> year -> A (Vietnam has no 2024 rows).
ATP_MONTHLY = {
    "imports": {
        "2010": {2024: 8_000_000_000, 2025: 10_000_000_000, 2026: 11_000_000_000},
        "5700": {2024: 12_000_000_000, 2025: 9_000_000_000, 2026: 8_100_000_000},
        "5830": {2024: 5_000_000_000, 2025: 7_500_000_000, 2026: 9_000_000_000},
        "4280": {2024: 2_000_000_000, 2025: 2_000_000_000, 2026: 2_200_000_000},
        "1220": {2024: 1_000_000_000, 2025: 1_200_000_000, 2026: 1_200_000_000},
        "5520": {2025: 3_000_000_000, 2026: 3_600_000_000},
    },
    "exports": {
        "2010": {2024: 4_000_000_000, 2025: 4_400_000_000, 2026: 4_400_000_000},
        "5700": {2024: 3_000_000_000, 2025: 2_400_000_000, 2026: 2_400_000_000},
        "5830": {2024: 2_000_000_000, 2025: 2_000_000_000, 2026: 2_500_000_000},
        "4280": {2024: 1_500_000_000, 2025: 1_800_000_000, 2026: 1_800_000_000},
        "1220": {2024: 5_000_000_000, 2025: 5_000_000_000, 2026: 5_500_000_000},
        "5520": {2025: 500_000_000, 2026: 600_000_000},
    },
}

# Split of A over ATP groups 01..10, in percent (each mix sums to 100).
MIXES = {
    "MIX_DIGITAL": {
        "01": 2,
        "02": 3,
        "03": 5,
        "04": 50,
        "05": 20,
        "06": 5,
        "07": 5,
        "08": 8,
        "09": 1,
        "10": 1,
    },
    "MIX_CHIPS": {
        "01": 1,
        "02": 1,
        "03": 10,
        "04": 30,
        "05": 50,
        "06": 3,
        "07": 3,
        "08": 1,
        "09": 0,
        "10": 1,
    },
    "MIX_INDUSTRIAL": {
        "01": 10,
        "02": 30,
        "03": 5,
        "04": 10,
        "05": 10,
        "06": 10,
        "07": 5,
        "08": 15,
        "09": 3,
        "10": 2,
    },
}
COUNTRY_MIX = {
    "2010": "MIX_DIGITAL",
    "5700": "MIX_DIGITAL",
    "5520": "MIX_DIGITAL",
    "5830": "MIX_CHIPS",
    "4280": "MIX_INDUSTRIAL",
    "1220": "MIX_INDUSTRIAL",
}

# Monthly non-ATP (HITECH 00) value N, the same every year.
NON_ATP_MONTHLY = {
    "imports": {
        "2010": 30_000_000_000,
        "5700": 25_000_000_000,
        "5830": 3_000_000_000,
        "4280": 10_000_000_000,
        "1220": 25_000_000_000,
        "5520": 8_000_000_000,
    },
    "exports": {
        "2010": 22_000_000_000,
        "5700": 9_000_000_000,
        "5830": 2_000_000_000,
        "4280": 5_000_000_000,
        "1220": 24_000_000_000,
        "5520": 1_000_000_000,
    },
}

# Groupings: code -> (name, {member country: weight}); value = sum(weight * member) per code.
GROUPINGS = {
    "0003": ("EUROPEAN UNION", {"4280": 4}),
    "5XXX": ("ASIA", {"5700": 1, "5830": 1, "5520": 1}),
}

# A canned revision for the revisions issue: two A values change, Canada drops out of 2025 imports.
REVISION_EXAMPLE = {
    "overrides": {
        ("imports", 2025, "5700"): 9_300_000_000,
        ("exports", 2025, "4280"): 1_900_000_000,
    },
    "removed": {("imports", 2025, "1220")},
}


def split_atp(atp: int, mix: str) -> dict[str, int]:
    """Monthly value per ATP group 01..10 for ATP value `atp` under `mix` (exact whole dollars)."""
    out = {}
    for code, pct in MIXES[mix].items():
        assert atp * pct % 100 == 0, "fixture values must stay whole dollars"
        out[code] = atp * pct // 100
    return out


class FixtureDataset:
    """The served dataset. `overrides` {(flow, year, cty): A} and `removed` {(flow, year, cty)}
    describe a revision; groupings and the U.S. total are always recomputed from the countries."""

    def __init__(self, overrides: Mapping | None = None, removed: Iterable = ()):
        self.overrides = dict(overrides or {})
        self.removed = frozenset(removed)

    def revised(self, overrides: Mapping | None = None, removed: Iterable = ()) -> FixtureDataset:
        """A copy with more revisions layered on top of this one's."""
        return FixtureDataset(
            {**self.overrides, **dict(overrides or {})}, self.removed | set(removed)
        )

    def atp_monthly(self, flow: str, year: int) -> dict[str, int]:
        """Monthly ATP value A of each country present in (flow, year)."""
        if year not in YEAR_MONTHS:
            return {}
        out = {}
        for cty, by_year in ATP_MONTHLY[flow].items():
            atp = self.overrides.get((flow, year, cty), by_year.get(year))
            if atp is not None and (flow, year, cty) not in self.removed:
                out[cty] = atp
        return out

    def monthly_values(self, flow: str, year: int) -> dict[str, dict[str, int]] | None:
        """Expected monthly value per partner and HITECH code, or None for an unreleased year.

        Keys: country codes, grouping codes and TOTAL (all countries); inner keys: TOTAL
        (all commodities), "00" and "01".."10". Same value in every month of the year.
        """
        if year not in YEAR_MONTHS:
            return None
        countries = {}
        for cty, atp in self.atp_monthly(flow, year).items():
            vals = {"00": NON_ATP_MONTHLY[flow][cty], **split_atp(atp, COUNTRY_MIX[cty])}
            vals[TOTAL] = NON_ATP_MONTHLY[flow][cty] + atp
            countries[cty] = vals
        codes = (TOTAL, *HITECH_CODES)
        out = {TOTAL: {h: sum(v[h] for v in countries.values()) for h in codes}}
        for grp, (_, members) in GROUPINGS.items():
            out[grp] = {
                h: sum(w * countries[c][h] for c, w in members.items() if c in countries)
                for h in codes
            }
        out.update(countries)
        return out

    def rows(self, flow: str, year: int) -> list[dict] | None:
        """Rows in the server's dataset format; None when the year is not released."""
        values = self.monthly_values(flow, year)
        if values is None:
            return None
        marker = "" if year in OLD_MARKER_YEARS else "-"
        names = {TOTAL: US_TOTAL_NAME, **{g: n for g, (n, _) in GROUPINGS.items()}, **COUNTRIES}
        rows = []
        for month in range(1, YEAR_MONTHS[year] + 1):
            for partner, vals in values.items():
                for hitech in (TOTAL, *HITECH_CODES):
                    rows.append(
                        {
                            "CTY_CODE": marker if partner == TOTAL else partner,
                            "CTY_NAME": names[partner],
                            "HITECH": marker if hitech == TOTAL else hitech,
                            "HITECH_DESC": HITECH_DESC[hitech],
                            "value": vals[hitech],
                            "month": month,
                        }
                    )
        return rows


def fixture_dataset(overrides: Mapping | None = None, removed: Iterable = ()) -> FixtureDataset:
    """The standard fixture; pass `overrides`/`removed` to get a revised variant."""
    return FixtureDataset(overrides, removed)


def revised_fixture_dataset() -> FixtureDataset:
    """The fixture after the canned REVISION_EXAMPLE revision."""
    return fixture_dataset(**REVISION_EXAMPLE)


class ShortFlowDataset(FixtureDataset):
    """The standard fixture with some (flow, year) partitions released through an earlier month
    than the other flow: `last_month` {(flow, year): last month served}."""

    def __init__(self, last_month: Mapping[tuple[str, int], int], **kwargs):
        super().__init__(**kwargs)
        self.last_month = dict(last_month)

    def rows(self, flow: str, year: int) -> list[dict] | None:
        rows = super().rows(flow, year)
        last = self.last_month.get((flow, year))
        if rows is None or last is None:
            return rows
        return [row for row in rows if row["month"] <= last]


def short_exports_fixture_dataset() -> ShortFlowDataset:
    """The standard fixture, but exports 2026 run through August only (imports through
    September): a year whose flows cover different months."""
    return ShortFlowDataset({("exports", 2026): 8})
