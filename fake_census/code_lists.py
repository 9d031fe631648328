"""The ATP code lists as census.gov serves them (`impatpYY.txt`, `expatpYY.txt`), for the fake.

Fixed-width text with no header, as §16 of the reference describes the import list: columns 1-2
the ATP group, 4-13 the 10-digit code, 15 onward the description. Every year and both flows serve
FIXTURE_CODES unless a test sets a list of its own or a fault (a 404, census.gov's "Page Not
Found" page with HTTP 200, an empty body, a 503).
"""

from __future__ import annotations

import re
import threading

LISTS_PATH = "/foreign-trade/reference/codes/atp"
_NAME = re.compile(r"(imp|exp)atp(\d{2})\.txt")
_FLOWS = {"imp": "imports", "exp": "exports"}

# (ATP group, 10-digit code, description): a few real-shaped codes per group.
FIXTURE_CODES: tuple[tuple[str, str, str], ...] = (
    ("01", "3002150100", "IMMUNOLOGICAL PRODUCTS, PUT UP IN MEASURED DOSES OR FOR RETAIL SALE"),
    ("01", "3002410000", "VACCINES FOR HUMAN MEDICINE"),
    ("02", "9018120000", "ULTRASONIC SCANNING APPARATUS"),
    ("02", "9018190000", "ELECTRO-DIAGNOSTIC APPARATUS NESOI, AND PARTS AND ACCESSORIES"),
    ("02", "9022140000", "APPARATUS BASED ON X-RAYS FOR MEDICAL, SURGICAL OR VETERINARY USES"),
    ("03", "8541430010", "PHOTOVOLTAIC CELLS ASSEMBLED IN MODULES OR MADE UP INTO PANELS"),
    ("03", "9001100000", "OPTICAL FIBERS, OPTICAL FIBER BUNDLES AND CABLES"),
    ("04", "8471300100", "PORTABLE DIGITAL AUTOMATIC DATA PROCESSING MACHINES, NOT OVER 10 KG"),
    ("04", "8471500150", "PROCESSING UNITS FOR AUTOMATIC DATA PROCESSING MACHINES, NESOI"),
    ("04", "8517130000", "SMARTPHONES"),
    ("04", "8517620090", "MACHINES FOR RECEPTION, CONVERSION AND TRANSMISSION OF DATA, NESOI"),
    ("05", "8542310000", "ELECTRONIC INTEGRATED CIRCUITS: PROCESSORS AND CONTROLLERS"),
    ("05", "8542320000", "ELECTRONIC INTEGRATED CIRCUITS: MEMORIES"),
    ("06", "8479500000", "INDUSTRIAL ROBOTS, NESOI"),
    ("06", "8486200000", "MACHINES FOR THE MANUFACTURE OF SEMICONDUCTOR DEVICES OR CIRCUITS"),
    ("07", "3818000000", "CHEMICAL ELEMENTS DOPED FOR USE IN ELECTRONICS, IN WAFERS OR DISCS"),
    ("07", "6815110000", "CARBON FIBERS AND ARTICLES OF CARBON FIBERS"),
    ("08", "8411120000", "TURBOJETS OF A THRUST EXCEEDING 25 KN"),
    ("08", "8802400050", "PASSENGER AIRPLANES, UNLADEN WEIGHT OVER 15,000 KG, NEW"),
    ("08", "8807300060", "PARTS OF AIRPLANES OR HELICOPTERS, NESOI"),
    ("09", "9301900000", "MILITARY WEAPONS, NESOI"),
    ("09", "9306909000", "PARTS OF BOMBS, GRENADES, TORPEDOES, MINES, MISSILES AND SIMILAR"),
    ("10", "2844200000", "URANIUM ENRICHED IN U235 AND ITS COMPOUNDS; PLUTONIUM"),
    ("10", "8401100000", "NUCLEAR REACTORS"),
    ("10", "8401400000", "PARTS OF NUCLEAR REACTORS"),
)

LIST_FAULTS = frozenset({"404", "html", "empty", "503"})
NOT_FOUND_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><title>Page Not Found | U.S. Census Bureau</title>'
    "</head><body><h1>Page Not Found</h1><p>The page you requested is not available.</p>"
    "</body></html>"
)


def list_text(codes) -> str:
    """The fixed-width text of a list of (group, code, description)."""
    return "".join(f"{group:2} {code:10} {description}\n" for group, code, description in codes)


class CodeLists:
    """What the fake serves under LISTS_PATH. Set on a running server: `api.code_lists`."""

    def __init__(self, codes=FIXTURE_CODES):
        self.codes = tuple(codes)
        self.version = 0  # counts the lists set: the fake's cached answers name the version
        self._lock = threading.Lock()
        self._lists: dict[tuple[str, int], tuple] = {}
        self._faults: dict[tuple[str, int], list] = {}  # -> [fault, remaining or None: always]

    def set_list(self, flow: str, year: int, codes) -> None:
        """Serve `codes` as this flow-year's list (a revision, or a year with other codes)."""
        with self._lock:
            self._lists[(flow, year)] = tuple(codes)
            self.version += 1

    def set_fault(self, flow: str, year: int, fault: str, times: int | None = None) -> None:
        """Answer this flow-year's list with `fault`, `times` times (None: until cleared)."""
        if fault not in LIST_FAULTS:
            raise ValueError(f"unknown list fault {fault!r}; known: {sorted(LIST_FAULTS)}")
        with self._lock:
            self._faults[(flow, year)] = [fault, times]

    def codes_for(self, flow: str, year: int) -> tuple:
        """The (group, code, description) entries served as this flow-year's list."""
        with self._lock:
            return self._lists.get((flow, year), self.codes)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def answer(self, name: str) -> tuple[int, bytes, str]:
        """(status, body, content type) for the file `name` under LISTS_PATH."""
        match = _NAME.fullmatch(name)
        if not match:
            return 404, NOT_FOUND_PAGE.encode(), "text/html;charset=utf-8"
        flow, year = _FLOWS[match[1]], 2000 + int(match[2])
        with self._lock:
            fault = self._take_fault(flow, year)
            codes = self._lists.get((flow, year), self.codes)
        if fault in ("404", "html"):
            return 404 if fault == "404" else 200, NOT_FOUND_PAGE.encode(), "text/html"
        if fault == "503":
            return 503, b"Service Unavailable", "text/plain"
        body = b"" if fault == "empty" else list_text(codes).encode()
        return 200, body, "text/plain"

    def _take_fault(self, flow: str, year: int) -> str | None:
        entry = self._faults.get((flow, year))
        if entry is None:
            return None
        if entry[1] is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del self._faults[(flow, year)]
        return entry[0]


# Roughly how the live lists share their ~600 codes among the ten groups (weights, not counts).
_GROUP_WEIGHTS = {"01": 4, "02": 14, "03": 8, "04": 22, "05": 12, "06": 12, "07": 6, "08": 14}
_GROUP_WEIGHTS |= {"09": 5, "10": 3}


def synthetic_codes(count: int = 600) -> tuple[tuple[str, str, str], ...]:
    """`count` made-up 10-digit codes shared among the ten groups like a live list (the
    benchmark's volume); each code is unique, each group has some."""
    total = sum(_GROUP_WEIGHTS.values())
    out = []
    for group, weight in _GROUP_WEIGHTS.items():
        for n in range(max(1, count * weight // total)):
            code = f"{8400 + int(group) * 10:04d}{n:06d}"
            out.append((group, code, f"SYNTHETIC ATP PRODUCT {group}-{n:03d}"))
    return tuple(out)
