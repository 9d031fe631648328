"""The fake's `hs` endpoints: partner x 10-digit commodity x month, made from any dataset's hitech
rows and the ATP code list the fake serves for that flow-year.

Each country's value in an ATP group and month is shared out among the list's codes of that
group (fixed, uneven weights by code), so the products of a group add up to the hitech value to
the dollar, as the pipeline's coverage mart expects where a list covers its group. As on the
live API (reference §16): zero-trade rows are left out, the world row (`CTY_CODE` "-") is a DET
row, groupings are CGP rows (absent here: the pipeline asks `SUMMARY_LVL=DET`), and every
commodity row is `COMM_LVL` HS10.
"""

from __future__ import annotations

import zlib
from collections import defaultdict

TOTAL_MARKERS = ("-", "")
WORLD_NAME = "TOTAL FOR ALL COUNTRIES"
PREFIX = {"imports": "I", "exports": "E"}


def variables(flow: str) -> tuple[str, ...]:
    """The hs endpoint's variables (a subset of the live ~70/41: those the pipeline meets)."""
    item = f"{PREFIX[flow]}_COMMODITY"
    values = (
        ("GEN_VAL_MO", "GEN_VAL_YR", "CON_VAL_MO")
        if flow == "imports"
        else ("ALL_VAL_MO", "ALL_VAL_YR")
    )
    common = ("CTY_CODE", "CTY_NAME", item, f"{item}_SDESC", f"{item}_LDESC", "COMM_LVL")
    return (*common, "SUMMARY_LVL", "YEAR", "MONTH", *values)


def variable_info(flow: str) -> dict[str, tuple[str, str]]:
    item = f"{PREFIX[flow]}_COMMODITY"
    return {
        item: ("2-, 4-, 6-, or 10-character Harmonized Code", "string"),
        f"{item}_SDESC": ("50-character Description of Commodity", "string"),
        f"{item}_LDESC": ("150-character Description of Commodity", "string"),
        "COMM_LVL": ("Commodity Level: HS2, HS4, HS6 or HS10", "string"),
    }


def _weight(code: str) -> int:
    return 1 + int(code[-4:]) % 7


def trades(partner: str, code: str, density: float) -> bool:
    """Whether a partner trades a code at all (fixed per pair): real partners trade only some of
    the ATP codes, and Census leaves the others out."""
    return density >= 1 or zlib.crc32(f"{partner}{code}".encode()) % 1000 < density * 1000


def year_records(
    dataset, codes, flow: str, year: int, density: float = 1.0
) -> list[tuple[int, dict[str, str]]]:
    """(month, {variable: string}) of every product row of the flow-year, world rows last.
    With `density` < 1, each partner trades that share of each group's codes (at least one)."""
    rows = dataset.rows(flow, year) or []
    by_group: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for group, code, description in codes:
        by_group[group].append((code, description))
    item = f"{PREFIX[flow]}_COMMODITY"
    value_names = ("GEN_VAL_MO", "CON_VAL_MO") if flow == "imports" else ("ALL_VAL_MO",)
    ytd_name = "GEN_VAL_YR" if flow == "imports" else "ALL_VAL_YR"
    out: list[tuple[int, dict[str, str]]] = []
    world: dict[tuple[str, str, int], int] = defaultdict(int)
    ytd: dict[tuple[str, str], int] = defaultdict(int)

    def record(partner, name, code, description, value, month):
        ytd[(partner, code)] += value
        rec = {
            "CTY_CODE": partner,
            "CTY_NAME": name,
            item: code,
            f"{item}_SDESC": description[:50],
            f"{item}_LDESC": description[:150],
            "COMM_LVL": "HS10",
            "SUMMARY_LVL": "DET",
            "YEAR": str(year),
            "MONTH": f"{month:02d}",
            "time": f"{year}-{month:02d}",
            ytd_name: str(ytd[(partner, code)]),
        }
        rec.update({name: str(value) for name in value_names})
        return month, rec

    for row in sorted(rows, key=lambda r: r["month"]):
        partner, group = row["CTY_CODE"], row["HITECH"]
        if partner in TOTAL_MARKERS or partner.startswith("00") or "X" in partner:
            continue  # the world row is made below; groupings are CGP, never asked
        members = by_group.get(group)
        if not members or not row["value"]:
            continue
        members = [m for m in members if trades(partner, m[0], density)] or members[:1]
        weights = [_weight(code) for code, _ in members]
        shares = [row["value"] * w // sum(weights) for w in weights]
        shares[0] += row["value"] - sum(shares)  # whole dollars, adding up exactly
        for (code, description), value in zip(members, shares, strict=True):
            if value:  # zero trade is left out, not returned as 0
                out.append(record(partner, row["CTY_NAME"], code, description, value, row["month"]))
                world[(code, description, row["month"])] += value
    for (code, description, month), value in sorted(world.items(), key=lambda kv: kv[0][2]):
        out.append(record("-", WORLD_NAME, code, description, value, month))
    return out
