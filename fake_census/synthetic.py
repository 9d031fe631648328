"""Seeded synthetic dataset at real API volume, for benchmarks.

Per flow-year: 230 countries + 19 groupings + the U.S. total, x 12 HITECH rows (total, 00, 01..10)
x 12 months = 36,000 rows. Values are whole dollars and consistent: each partner's total row is
00 + sum(01..10), groupings sum their members and the U.S. total is the exact sum of countries.
"""

from __future__ import annotations

import random
import threading

from .fixtures import HITECH_CODES, HITECH_DESC, TOTAL, US_TOTAL_NAME

N_COUNTRIES = 230

# A few real Schedule C codes so benchmark output looks familiar; the rest are generated.
KNOWN_COUNTRIES = {
    "1220": "CANADA",
    "2010": "MEXICO",
    "2230": "COSTA RICA",
    "3010": "COLOMBIA",
    "3510": "BRAZIL",
    "3570": "ARGENTINA",
    "4120": "UNITED KINGDOM",
    "4210": "NETHERLANDS",
    "4279": "FRANCE",
    "4280": "GERMANY",
    "4759": "ITALY",
    "5330": "INDIA",
    "5520": "VIETNAM",
    "5700": "CHINA",
    "5800": "KOREA, SOUTH",
    "5830": "TAIWAN",
    "5880": "JAPAN",
    "6021": "AUSTRALIA",
    "7910": "SOUTH AFRICA",
}
GROUPING_NAMES = {
    "0003": "EUROPEAN UNION",
    "0014": "PACIFIC RIM COUNTRIES",
    "0017": "CAFTA-DR",
    "0020": "USMCA (NAFTA)",
    "0021": "TWENTY LATIN AMERICAN REPUBLICS",
    "0022": "OECD",
    "0023": "NATO",
    "0024": "LAFTA",
    "0025": "EURO AREA",
    "0026": "APEC",
    "0027": "ASEAN",
    "0028": "CACM",
    "1XXX": "NORTH AMERICA",
    "2XXX": "CENTRAL AMERICA",
    "3XXX": "SOUTH AMERICA",
    "4XXX": "EUROPE",
    "5XXX": "ASIA",
    "6XXX": "AUSTRALIA AND OCEANIA",
    "7XXX": "AFRICA",
}


def _partners() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Country names and grouping members; fixed (not seeded) so they are stable across runs."""
    rng = random.Random("fake-census-partners")
    codes = set(KNOWN_COUNTRIES)
    while len(codes) < N_COUNTRIES:
        codes.add(f"{rng.randint(1, 7)}{rng.randint(0, 999):03d}")
    countries = {c: KNOWN_COUNTRIES.get(c, f"COUNTRY {c}") for c in sorted(codes)}
    members = {}
    for grp in GROUPING_NAMES:
        if grp.endswith("XXX"):  # continents: by the first digit of the code
            members[grp] = [c for c in countries if c[0] == grp[0]]
        else:  # other groupings: an arbitrary fixed subset
            members[grp] = sorted(rng.sample(sorted(countries), rng.randint(5, 40)))
    return countries, members


COUNTRIES, GROUPING_MEMBERS = _partners()


class SyntheticDataset:
    """Years first_year..last_year, the last one with months 1..last_month; others: no rows."""

    def __init__(
        self,
        first_year: int,
        last_year: int,
        last_month: int = 12,
        seed: int = 0,
        total_marker: str = "-",
    ):
        self.first_year, self.last_year, self.last_month = first_year, last_year, last_month
        self.seed, self.total_marker = seed, total_marker
        self._cache: dict[tuple[str, int], list[dict]] = {}
        self._lock = threading.Lock()  # server threads may ask for the same partition at once

    def months(self, year: int) -> int:
        return self.last_month if year == self.last_year else 12

    def rows(self, flow: str, year: int) -> list[dict] | None:
        if not self.first_year <= year <= self.last_year:
            return None
        with self._lock:
            if (flow, year) not in self._cache:
                self._cache[(flow, year)] = self._generate(flow, year)
            return self._cache[(flow, year)]

    def _generate(self, flow: str, year: int) -> list[dict]:
        # Country profiles depend on (seed, flow) only, so a partner looks alike across years.
        prof = random.Random(f"{self.seed}:{flow}:profile")
        yr = random.Random(f"{self.seed}:{flow}:{year}")
        months = range(1, self.months(year) + 1)
        # values[partner][month][hitech]
        values: dict[str, list[dict[str, int]]] = {}
        for cty in COUNTRIES:
            scale = 10 ** prof.uniform(5, 10.5) * yr.uniform(0.8, 1.25)  # monthly total, dollars
            atp_share = prof.uniform(0.02, 0.4)
            weights = [prof.random() ** 2 if prof.random() > 0.25 else 0.0 for _ in range(10)]
            norm = sum(weights) or 1.0
            shares = [1 - atp_share] + [atp_share * w / norm for w in weights]
            per_month = []
            for _ in months:
                f = scale * yr.uniform(0.85, 1.15)
                vals = dict(zip(HITECH_CODES, (int(f * s) for s in shares), strict=True))
                vals[TOTAL] = sum(vals.values())
                per_month.append(vals)
            values[cty] = per_month
        codes = (TOTAL, *HITECH_CODES)

        def summed(members):
            return [
                {h: sum(values[c][i][h] for c in members) for h in codes}
                for i in range(len(months))
            ]

        partners = {TOTAL: summed(COUNTRIES)}
        partners.update({g: summed(m) for g, m in GROUPING_MEMBERS.items()})
        partners.update(values)
        names = {TOTAL: US_TOTAL_NAME, **GROUPING_NAMES, **COUNTRIES}

        marker = self.total_marker
        rows = []
        for i, month in enumerate(months):
            for partner, per_month in partners.items():
                code = marker if partner == TOTAL else partner
                vals = per_month[i]
                for h in codes:
                    rows.append(
                        {
                            "CTY_CODE": code,
                            "CTY_NAME": names[partner],
                            "HITECH": marker if h == TOTAL else h,
                            "HITECH_DESC": HITECH_DESC[h],
                            "value": vals[h],
                            "month": month,
                        }
                    )
        return rows


def synthetic_dataset(
    first_year: int, last_year: int, last_month: int = 12, seed: int = 0
) -> SyntheticDataset:
    return SyntheticDataset(first_year, last_year, last_month, seed)
