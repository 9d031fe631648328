"""A small, realistic dataset for the demo (`make demo`, `python -m fake_census --dataset demo`).

2013 through the newest month Census should have released by today (month end + 40 days, the
pipeline's own rule), 67 real partner countries with their Census Schedule C codes and the names
the API gives them, the Census country groupings (sums of the members included here, membership
by year), and the U.S. total row (the exact sum of the countries served).

Calibrated to the published figures in the API reference (section 15): U.S. ATP imports by
partner for 2022 (top 10) and 2024 (top 5, with their change on 2023), U.S. ATP imports in 2017,
2022 and 2024 and ATP exports in 2024; the 2017 all-goods and non-ATP import totals of the 2017
capture; and the published story's Mexico figures for 2024: U.S. ATP exports to Mexico (with
their change on 2023, hence the ATP deficit with Mexico) and U.S.-Mexico goods trade (with its
change on 2023 and that of goods imports from Mexico). Those annual sums hold to the dollar. Everything else is made up to look plausible:
smooth trends between anchor years, monthly seasonality (Lunar New Year for East Asian
suppliers, the spring of 2020, Ireland's pharmaceutical surge early in 2025), ATP group mixes
by partner, and goods trade of a realistic size around the ATP figures.

How it is built: every country has anchor values (U.S. $ billions per year) for its ATP and its
non-ATP (`00`) trade per flow, interpolated log-linearly between anchor years. The partners the
reference publishes are fixed to those figures; the others are scaled together so that the U.S.
ATP total hits the published totals (the scale is interpolated between calibrated years), and
the non-ATP trade of all countries is scaled to a U.S. total per year. Each annual value is then
split into months and each month's ATP into the ten groups in whole dollars with a largest-
remainder rule, so total = 00 + 01..10 and the U.S. total = the sum of the countries, exactly.
Seeded noise (per flow, year and country) keeps it deterministic; rows are built on request
(about 11,500 per flow-year) and only the small annual tables are cached.
"""

from __future__ import annotations

import math
import random
import threading
from datetime import date

from .fixtures import HITECH_CODES, HITECH_DESC, TOTAL, US_TOTAL_NAME

FIRST_YEAR = 2013
RELEASE_LAG_DAYS = 40  # ingest.settings.DEFAULT_RELEASE_LAG_DAYS
SEED = "atp-demo-v1"
BN = 1_000_000_000

# Census Schedule C codes -> CTY_NAME as the API spells it. The codes in the reference's
# section 9 table (and Kenya, 7790, section 9's note) are marked [ref]; the others are from the
# Schedule C transcription the reference cites (jslagle9 countries.ts), and 5350 PAKISTAN /
# 5380 BANGLADESH also appear in a captured API response with these names.
COUNTRIES = {
    "1220": "CANADA",  # [ref]
    "2010": "MEXICO",  # [ref]
    "2050": "GUATEMALA",
    "2110": "EL SALVADOR",
    "2150": "HONDURAS",
    "2190": "NICARAGUA",
    "2230": "COSTA RICA",  # [ref]
    "2250": "PANAMA",
    "2470": "DOMINICAN REPUBLIC",
    "2740": "TRINIDAD AND TOBAGO",
    "3010": "COLOMBIA",  # [ref]
    "3310": "ECUADOR",
    "3330": "PERU",
    "3370": "CHILE",  # [ref]
    "3510": "BRAZIL",  # [ref]
    "3570": "ARGENTINA",  # [ref]
    "4010": "SWEDEN",  # [ref]
    "4039": "NORWAY",  # [ref]
    "4050": "FINLAND",  # [ref]
    "4099": "DENMARK",  # [ref] (Schedule C: "Denmark, except Greenland")
    "4120": "UNITED KINGDOM",  # [ref]
    "4190": "IRELAND",  # [ref]
    "4210": "NETHERLANDS",  # [ref]
    "4231": "BELGIUM",  # [ref]
    "4239": "LUXEMBOURG",  # [ref]
    "4279": "FRANCE",  # [ref]
    "4280": "GERMANY",  # [ref]
    "4330": "AUSTRIA",  # [ref]
    "4351": "CZECH REPUBLIC",  # [ref]
    "4359": "SLOVAKIA",
    "4370": "HUNGARY",  # [ref]
    "4419": "SWITZERLAND",  # [ref]
    "4550": "POLAND",  # [ref]
    "4621": "RUSSIA",  # [ref]
    "4700": "SPAIN",  # [ref]
    "4710": "PORTUGAL",  # [ref]
    "4759": "ITALY",  # [ref]
    "4840": "GREECE",  # [ref]
    "4850": "ROMANIA",
    "4890": "TURKEY",  # [ref]
    "5081": "ISRAEL",  # [ref]
    "5130": "KUWAIT",
    "5170": "SAUDI ARABIA",  # [ref]
    "5180": "QATAR",
    "5200": "UNITED ARAB EMIRATES",  # [ref]
    "5330": "INDIA",  # [ref]
    "5350": "PAKISTAN",
    "5380": "BANGLADESH",
    "5490": "THAILAND",  # [ref]
    "5520": "VIETNAM",  # [ref]
    "5550": "CAMBODIA",
    "5570": "MALAYSIA",  # [ref]
    "5590": "SINGAPORE",  # [ref]
    "5600": "INDONESIA",  # [ref]
    "5650": "PHILIPPINES",  # [ref]
    "5700": "CHINA",  # [ref]
    "5800": "KOREA, SOUTH",  # [ref]
    "5820": "HONG KONG",  # [ref]
    "5830": "TAIWAN",  # [ref]
    "5880": "JAPAN",  # [ref]
    "6021": "AUSTRALIA",  # [ref]
    "6141": "NEW ZEALAND",  # [ref]
    "7140": "MOROCCO",
    "7290": "EGYPT",
    "7530": "NIGERIA",
    "7790": "KENYA",  # [ref]
    "7910": "SOUTH AFRICA",  # [ref]
}

# Published U.S. ATP imports (general imports, $ billions) by partner: reference section 15.
# The demo's annual sums equal these (to the dollar); the 2023 values follow from the 2024
# year-over-year changes published with them (China -5.7%, Mexico +35.2%, Taiwan +54.9%,
# Ireland +51.8%, Germany +5.5%).
PUBLISHED_ATP_IMPORTS = {
    2022: {
        "5700": 150.20,
        "2010": 82.75,
        "5830": 44.85,
        "4190": 42.46,
        "5570": 30.38,
        "5800": 29.32,
        "4280": 28.62,
        "5880": 25.32,
        "5490": 21.61,
        "1220": 16.97,
    },
    2023: {"5700": 119.16, "2010": 75.80, "5830": 50.96, "4190": 45.47, "4280": 36.52},
    2024: {"5700": 112.37, "2010": 102.48, "5830": 78.94, "4190": 69.03, "4280": 38.53},
}
# U.S. ATP exports by partner ($ billions), the published story on Mexico: $55.88 billion in 2024,
# +25.3% on 2023 (2023 = 44.60: 55.88 / 44.60 - 1 = 25.29%). With the imports above, the ATP
# deficit with Mexico in 2024 is 102.48 - 55.88 = $46.60 billion.
PUBLISHED_ATP_EXPORTS = {
    2023: {"2010": 44.60},
    2024: {"2010": 55.88},
}
# Goods trade (all commodities, the `-` row; $ billions) by flow, year and partner: the story's
# U.S.-Mexico goods trade, $839.89 billion in 2024, +5.3% on 2023, with goods imports from Mexico
# +6.4%. The story gives the total and the two changes; the split of 2024 between imports
# (505.85) and exports (334.04) and the 2023 values (imports 475.42: +6.40%; trade 797.61:
# +5.30%) are chosen to give them. A partner's non-ATP (`00`) trade is its goods minus its ATP.
PUBLISHED_GOODS = {
    "imports": {2023: {"2010": 475.42}, 2024: {"2010": 505.85}},
    "exports": {2023: {"2010": 322.19}, 2024: {"2010": 334.04}},
}
PUBLISHED_ATP = {"imports": PUBLISHED_ATP_IMPORTS, "exports": PUBLISHED_ATP_EXPORTS}
# U.S. totals (ATP, $ billions) the countries add up to. 2017: the 2017 capture's all-goods
# general imports minus its `00` row (section 15), in dollars exactly.
PUBLISHED_US_ATP = {
    ("imports", 2017): (2_341_962_734_469 - 1_877_323_381_198) / BN,
    ("imports", 2022): 634.62,
    ("imports", 2024): 763.24,
    ("exports", 2024): 464.29,
}

# U.S. non-ATP (`00`) trade per year, $ billions: Census-basis goods trade minus ATP, rounded
# (2017 imports: the capture's `00` row exactly). The countries' `00` rows add up to these.
# The partners of PUBLISHED_GOODS are fixed (their non-ATP anchors are in $ billions and are not
# rescaled, in any year); the others are scaled together to the remainder.
US_NON_ATP = {
    "imports": {
        2013: 1866, 2014: 1936, 2015: 1812, 2016: 1737, 2017: 1_877_323_381_198 / BN,
        2018: 2029, 2019: 1972, 2020: 1799, 2021: 2249, 2022: 2607, 2023: 2451, 2024: 2507,
        2025: 2500, 2026: 2365,
    },
    "exports": {
        2013: 1260, 2014: 1288, 2015: 1158, 2016: 1099, 2017: 1191, 2018: 1284, 2019: 1254,
        2020: 1077, 2021: 1366, 2022: 1644, 2023: 1581, 2024: 1601, 2025: 1670, 2026: 1705,
    },
}  # fmt: skip

# Business-cycle factor on the countries that are not fixed to published figures (their anchors
# give the trend; this gives 2016's dip, 2020's fall and the slow aerospace recovery).
CYCLE = {
    "imports": {2016: 0.98, 2017: 0.99, 2020: 0.95, 2023: 0.97},
    "exports": {2016: 0.985, 2017: 0.97, 2019: 0.99, 2020: 0.86, 2021: 0.925, 2022: 0.97,
                2023: 0.975},
}  # fmt: skip

# ATP group mixes, weights for groups 01..10 (biotech, life science, opto-electronics,
# information & communications, electronics, flexible manufacturing, advanced materials,
# aerospace, weapons, nuclear).
MIXES = {
    # what the U.S. buys
    "ict": (0.5, 2.5, 3, 76.5, 11, 2.5, 1, 2.5, 0.2, 0.3),
    "servers": (0.3, 1, 3, 78, 14, 2, 0.5, 1.1, 0.05, 0.15),
    "chips": (0.5, 2, 6, 42, 40, 4, 1.5, 3.5, 0.1, 0.4),
    "pharma": (62, 22, 1, 3, 3, 1.5, 0.8, 5, 0.2, 1.5),
    "industrial": (12, 26, 6, 13, 12, 14, 4, 11, 1, 1),
    "aero": (10, 12, 3, 8, 8, 4, 3, 50, 1.5, 0.5),
    "medtech": (4, 74, 4, 6, 6, 2, 2, 1.5, 0.2, 0.3),
    "nuclear": (0.5, 2, 1, 2, 2, 1, 10, 6, 0.5, 75),
    "general": (8, 18, 6, 25, 16, 8, 4, 12, 1.5, 1.5),
    # what the U.S. sells
    "x_general": (7, 16, 3, 18, 20, 6, 3, 24, 1.5, 1.5),
    "x_usmca": (4, 14, 3, 25, 26, 6, 4, 16, 0.5, 1.5),
    "x_china": (6, 12, 3, 10, 38, 12, 3, 16, 0, 1),
    "x_chips": (2, 6, 3, 20, 52, 8, 2, 6, 0.3, 0.7),
    "x_pharma": (30, 25, 2, 10, 10, 4, 2, 15, 1, 1),
    "x_aero": (3, 8, 2, 8, 8, 3, 2, 62, 3, 1),
    "x_defense": (1, 4, 1, 6, 6, 2, 1, 55, 22, 2),
}

# Per country and flow: (ATP anchors, non-ATP anchors, mix or (mix 2013, mix 2026)), in
# "year:$bn" pairs. ATP anchors of the partners in PUBLISHED_ATP_IMPORTS / _EXPORTS include the
# published values, and non-ATP anchors those of PUBLISHED_GOODS (goods minus ATP); those
# partners are not rescaled.
IMPORTS = {
    "5700": ("2013:122 2014:128 2015:131 2016:128 2017:140 2018:150 2019:134 2020:132 2021:148 2025:80 2026:72",
             "2013:318 2015:351 2016:334 2017:365 2018:389 2019:318 2020:303 2021:356 2022:387 2023:308 2024:327 2025:230 2026:208", "ict"),
    "2010": ("2013:40 2014:41.5 2015:43 2016:44 2017:45 2018:48 2019:52 2020:53 2021:64 2025:126 2026:136",
             "2013:240 2014:252 2015:254 2016:250 2017:268 2018:298 2019:306 2020:270 2021:321 2022:370 2025:410 2026:416", ("ict", "servers")),
    "5830": ("2013:14 2014:14.5 2015:15 2016:15.5 2017:17 2018:19 2019:24 2020:30 2021:37 2025:150 2026:190",
             "2013:23.5 2017:26 2019:30 2020:30 2021:40 2022:46 2023:37 2024:37 2025:50 2026:50", ("chips", "servers")),
    "4190": ("2013:15 2014:16 2015:18 2016:20 2017:22 2018:25 2019:29 2020:32 2021:37 2025:92 2026:74",
             "2013:16 2017:26 2019:32 2020:33 2021:37 2022:42.5 2023:36.5 2024:34 2025:78 2026:46", "pharma"),
    "4280": ("2013:18 2014:19 2015:20 2016:20 2017:20 2018:22 2019:24 2020:23 2021:25 2025:39 2026:37",
             "2013:97 2017:98 2019:103 2020:92 2021:110 2022:117 2023:123 2024:121.5 2025:126 2026:123", "industrial"),
    "5570": ("2013:14 2016:15 2017:16 2018:17 2019:19 2020:22 2021:26 2022:30.38 2023:31 2024:33.5 2025:37 2026:39",
             "2013:13 2017:21 2019:21 2020:25 2021:31 2022:26.6 2023:17 2024:19 2025:23 2026:23", "chips"),
    "5800": ("2013:12 2016:13 2017:14 2018:15.5 2019:16.5 2020:19 2021:24 2022:29.32 2023:30 2024:31 2025:32 2026:33",
             "2013:50 2017:57 2019:60 2020:57 2021:71 2022:86 2023:86 2024:101 2025:98 2026:95", "chips"),
    "5880": ("2013:23 2016:22 2017:22 2018:22.5 2019:22 2020:20 2021:22 2022:25.32 2023:26 2024:26.5 2025:27 2026:27",
             "2013:116 2017:114 2019:122 2020:99 2021:113 2022:123 2023:122 2024:121.5 2025:118 2026:113", "industrial"),
    "5490": ("2013:8 2016:9 2017:9.5 2018:10.5 2019:11.5 2020:13 2021:16.5 2022:21.61 2023:25 2024:29 2025:35 2026:38",
             "2013:18 2017:21.5 2019:24.5 2020:27 2021:31.5 2022:37.4 2023:33 2024:34 2025:45 2026:47", "ict"),
    "1220": ("2013:13 2016:12.5 2017:13 2018:14 2019:14.5 2020:12.5 2021:14.5 2022:16.97 2023:17.5 2024:18 2025:17.5 2026:17.5",
             "2013:319 2015:283 2016:265 2017:287 2018:304 2019:305 2020:258 2021:343 2022:420 2023:403 2024:395 2025:372 2026:367", "aero"),
    "5520": ("2013:2.5 2014:3.2 2015:4 2016:5 2017:6 2018:7.5 2019:10 2020:12.5 2021:14.5 2022:15.6 2023:24 2024:36 2025:52 2026:60",
             "2013:22 2017:40 2019:56 2020:67 2021:87 2022:111 2023:90 2024:100 2025:123 2026:130", "ict"),
    "4419": ("2013:12.2 2017:13.4 2020:14.2 2022:15.1 2024:21 2026:24", "2013:21 2017:24 2020:45 2022:30 2024:42 2026:48", "pharma"),
    "5590": ("2013:14.6 2017:14 2022:13.9 2024:19 2026:22", "2013:6 2017:8 2022:20 2024:24 2026:26", "general"),
    "4279": ("2013:13.4 2017:16.4 2019:17.3 2020:11.8 2022:14.5 2024:17 2026:18", "2013:34 2017:35 2022:44 2024:41 2026:42", "aero"),
    "4120": ("2013:14.6 2017:15.2 2019:15.5 2020:12.4 2022:13.4 2024:15.5 2026:16", "2013:41 2017:42 2022:52 2024:52.5 2026:54", "aero"),
    "5330": ("2013:2.43 2017:3.4 2022:5.81 2024:14 2025:22 2026:24", "2013:40 2017:46 2022:80 2024:73 2026:71", ("general", "ict")),
    "4210": ("2013:7.29 2017:8.51 2022:8.71 2024:11 2026:12", "2013:15 2017:16 2022:24 2024:22 2026:23", "industrial"),
    "5650": ("2013:8.51 2017:9.11 2022:9.06 2024:10 2026:11", "2013:2.3 2017:4.5 2022:6.5 2024:4.6 2026:5", "chips"),
    "5081": ("2013:7.29 2017:7.29 2022:6.74 2024:8.5 2026:9", "2013:16.5 2017:16 2022:15 2024:13.7 2026:14", "general"),
    "4759": ("2013:6.08 2017:6.68 2022:7.44 2024:9 2026:9.5", "2013:34 2017:44 2022:61 2024:67 2026:70", "industrial"),
    "4099": ("2013:3.04 2017:3.65 2022:5.23 2024:8 2026:10", "2013:4.5 2017:5.5 2022:6 2024:5 2026:6", "pharma"),
    "4231": ("2013:4.86 2017:5.47 2022:5.81 2024:7.5 2026:8", "2013:13 2017:14 2022:20 2024:19.5 2026:20", "pharma"),
    "2230": ("2013:4.25 2015:2.19 2017:2.67 2022:3.95 2024:5 2026:6", "2013:8 2017:3.8 2022:6.6 2024:9 2026:10", ("chips", "medtech")),
    "5820": ("2013:5.47 2017:4.86 2022:3.14 2024:3 2026:2.8", "2013:1.5 2017:2.5 2022:2.4 2024:2 2026:2", "ict"),
    "4010": ("2013:3.65 2017:3.65 2022:3.6 2024:4 2026:4.2", "2013:6.5 2017:7.5 2022:10.5 2024:11 2026:11.5", "industrial"),
    "4330": ("2013:3.04 2017:3.16 2022:3.49 2024:4 2026:4.3", "2013:7 2017:8 2022:9 2024:9 2026:9.5", "industrial"),
    "4700": ("2013:2.19 2017:2.43 2022:2.56 2024:3 2026:3.2", "2013:10 2017:12.5 2022:20 2024:18 2026:19", "general"),
    "3510": ("2013:2.43 2017:2.43 2020:1.66 2022:2.09 2024:2.5 2026:2.6", "2013:25 2017:27.5 2022:33 2024:39.5 2026:42", "aero"),
    "6021": ("2013:1.82 2017:1.82 2022:1.74 2024:2 2026:2.1", "2013:8.5 2017:8.7 2022:14 2024:14.6 2026:15", "general"),
    "5600": ("2013:1.46 2017:1.7 2022:1.98 2024:3 2026:3.5", "2013:17.5 2017:19 2022:26 2024:25 2026:30", "ict"),
    "4351": ("2013:1.46 2017:1.58 2022:1.74 2024:2 2026:2.2", "2013:2.3 2017:3.4 2022:4.8 2024:5 2026:5.5", "general"),
    "4370": ("2013:2.19 2017:2.31 2022:2.56 2024:3 2026:3.1", "2013:2.2 2017:3.5 2022:5.5 2024:6 2026:6.5", "general"),
    "4550": ("2013:0.972 2017:1.22 2022:1.51 2024:2 2026:2.3", "2013:3.3 2017:5.5 2022:8.5 2024:8 2026:9", "general"),
    "2470": ("2013:1.46 2017:1.7 2022:1.74 2024:2 2026:2.2", "2013:3.2 2017:3.4 2022:4.5 2024:5 2026:5.5", "medtech"),
    "5550": ("2013:0.0608 2024:0.4 2026:0.6", "2013:2.8 2017:3.2 2022:12 2024:12.3 2026:14", "ict"),
    "4050": ("2013:1.22 2024:1.3 2026:1.3", "2013:3.8 2024:5.7 2026:6", "general"),
    "4039": ("2013:0.729 2024:0.8 2026:0.8", "2013:7.4 2016:4 2022:7 2024:6.2 2026:6.5", "general"),
    "4239": ("2013:0.364 2024:0.4 2026:0.4", "2013:0.3 2024:0.5 2026:0.5", "general"),
    "4710": ("2013:0.364 2024:0.6 2026:0.7", "2013:2.5 2024:5.4 2026:5.8", "general"),
    "4840": ("2013:0.182 2024:0.3 2026:0.3", "2013:0.85 2024:1.7 2026:1.8", "general"),
    "4359": ("2013:0.364 2024:0.5 2026:0.5", "2013:1.7 2024:3 2026:3", "general"),
    "4850": ("2013:0.364 2024:0.7 2026:0.8", "2013:0.9 2024:2.8 2026:3", "general"),
    "4890": ("2013:0.486 2024:1 2026:1.1", "2013:6.3 2017:9 2024:15 2026:17", "general"),
    "4621": ("2013:1.82 2021:1.64 2024:1.2 2026:0.8",
             "2013:25.5 2014:22 2015:15 2016:13 2017:16 2018:19 2019:20.5 2020:15.5 2021:28 2022:13 2023:3.5 2024:1.8 2026:1.5", "nuclear"),
    "3570": ("2013:0.122 2024:0.1 2026:0.1", "2013:4.5 2024:6.9 2026:7", "general"),
    "3370": ("2013:0.0608 2024:0.08 2026:0.08", "2013:10 2024:15 2026:15.5", "general"),
    "3010": ("2013:0.0608 2024:0.1 2026:0.1", "2013:21 2016:13 2022:18 2024:16.9 2026:17", "general"),
    "3330": ("2013:0.0243 2024:0.04 2026:0.04", "2013:8 2024:9 2026:9.5", "general"),
    "3310": ("2013:0.0122 2024:0.02 2026:0.02", "2013:11.6 2016:6 2022:10 2024:9 2026:9.5", "general"),
    "2050": ("2013:0.0365 2024:0.05 2026:0.05", "2013:4.6 2024:5 2026:5.2", "medtech"),
    "2110": ("2013:0.0243 2024:0.04 2026:0.04", "2013:2.5 2024:2.5 2026:2.5", "general"),
    "2150": ("2013:0.0608 2024:0.1 2026:0.1", "2013:4.5 2024:4.9 2026:5", "general"),
    "2190": ("2013:0.0365 2024:0.06 2026:0.06", "2013:2.9 2024:5 2026:5", "medtech"),
    "2250": ("2013:0.0243 2024:0.03 2026:0.03", "2013:0.4 2024:0.5 2026:0.5", "general"),
    "2740": ("2013:0.00608 2024:0.008 2026:0.008", "2013:6.4 2016:2 2022:3.5 2024:2.8 2026:2.5", "general"),
    "5170": ("2013:0.122 2024:0.3 2026:0.3", "2013:51.7 2015:21 2016:17 2019:13 2020:8 2022:20 2024:12.7 2026:12", "general"),
    "5200": ("2013:0.243 2024:0.5 2026:0.6", "2013:2.1 2024:6.5 2026:7.5", "general"),
    "5130": ("2013:0.00608 2024:0.01 2026:0.01", "2013:12 2016:3 2020:1.5 2024:1.5 2026:1.5", "general"),
    "5180": ("2013:0.0122 2024:0.03 2026:0.03", "2013:1.3 2024:2 2026:2", "general"),
    "5350": ("2013:0.0608 2024:0.1 2026:0.1", "2013:3.7 2024:5 2026:5.5", "general"),
    "5380": ("2013:0.0122 2024:0.03 2026:0.03", "2013:5.4 2024:8.4 2026:9", "general"),
    "6141": ("2013:0.364 2024:0.5 2026:0.5", "2013:3 2024:5.5 2026:6", "general"),
    "7910": ("2013:0.364 2024:0.5 2026:0.5", "2013:8.2 2024:14.2 2026:13", "general"),
    "7290": ("2013:0.0122 2024:0.02 2026:0.02", "2013:1.4 2024:2.5 2026:2.6", "general"),
    "7530": ("2013:0.00365 2024:0.005 2026:0.005", "2013:11.7 2016:4.2 2024:6 2026:5.5", "general"),
    "7140": ("2013:0.122 2024:0.3 2026:0.3", "2013:0.9 2024:1.5 2026:1.7", "aero"),
    "7790": ("2013:0.00243 2024:0.005 2026:0.005", "2013:0.4 2024:0.8 2026:0.9", "general"),
}  # fmt: skip

EXPORTS = {
    "2010": ("2013:35 2015:36.5 2017:38.5 2018:40.5 2019:40 2020:35 2021:39.5 2022:43.5 2025:59 2026:62",
             "2013:190 2014:203 2015:199 2016:193 2017:204 2018:223 2019:216 2020:177 2021:236 2022:280 2025:282 2026:285", "x_usmca"),
    "1220": ("2013:36 2024:40 2026:41", "2013:264 2016:230 2020:220 2022:320 2024:309 2026:309", "x_usmca"),
    "5700": ("2013:32 2018:38 2019:31 2020:31 2022:34 2024:30 2026:24", "2013:90 2017:95 2018:82 2019:76 2020:97 2022:122 2024:113.5 2026:86", "x_china"),
    "5880": ("2013:22 2024:22 2026:23", "2013:43 2024:58 2026:57", "x_general"),
    "5800": ("2013:15 2024:24 2026:27", "2013:26.7 2024:41.5 2026:40", "x_chips"),
    "5830": ("2013:12 2024:24 2026:30", "2013:13.5 2024:18 2026:20", "x_chips"),
    "4210": ("2013:13 2024:26 2026:28", "2013:30 2024:63 2026:64", "x_general"),
    "4120": ("2013:18 2024:23 2026:24", "2013:29.4 2024:57 2026:58", "x_aero"),
    "4280": ("2013:20 2024:24 2026:25", "2013:27 2024:52 2026:53", "x_pharma"),
    "4279": ("2013:14 2024:18 2026:19", "2013:17.7 2024:28 2026:28", "x_aero"),
    "5590": ("2013:10 2024:17 2026:18", "2013:20.5 2024:29 2026:30", "x_aero"),
    "5570": ("2013:8 2024:13 2026:15", "2013:5 2024:14.7 2026:15", "x_chips"),
    "5820": ("2013:9 2024:10 2026:9", "2013:33 2024:16 2026:13", "x_general"),
    "5330": ("2013:5 2024:12 2026:14", "2013:16.8 2024:29.8 2026:34", "x_general"),
    "4190": ("2013:5 2024:10 2026:11", "2013:1.6 2024:5 2026:5", "x_aero"),
    "3510": ("2013:9 2016:7 2024:9 2026:9.5", "2013:35 2016:23 2024:41 2026:42.5", "x_general"),
    "4231": ("2013:6 2024:9 2026:9.5", "2013:19.5 2024:25.6 2026:25.5", "x_pharma"),
    "6021": ("2013:7 2024:9 2026:9.5", "2013:19 2024:25.6 2026:26.5", "x_defense"),
    "4419": ("2013:5 2024:8 2026:8.5", "2013:22 2024:17 2026:17.5", "x_pharma"),
    "5081": ("2013:4 2024:7 2026:8", "2013:9.7 2024:7.8 2026:8", "x_defense"),
    "5200": ("2013:6 2024:8 2026:9", "2013:18.6 2024:19 2026:20", "x_aero"),
    "5170": ("2013:5 2024:6 2026:6.5", "2013:14 2024:7 2026:7.5", "x_defense"),
    "5650": ("2013:3 2024:5 2026:5.5", "2013:5.4 2024:4.5 2026:4.5", "x_chips"),
    "5520": ("2013:1.5 2024:6 2026:8", "2013:3.5 2024:7 2026:7", "x_chips"),
    "5490": ("2013:3 2024:4.5 2026:5", "2013:8.8 2024:13.2 2026:13", "x_chips"),
    "4759": ("2013:4 2024:6 2026:6.3", "2013:13 2024:22 2026:22.7", "x_general"),
    "4700": ("2013:2.5 2024:4 2026:4.2", "2013:7.5 2024:17 2026:17.8", "x_general"),
    "2230": ("2013:2.5 2024:4 2026:4.5", "2013:4.7 2024:7 2026:7.5", "x_chips"),
    "4890": ("2013:2.5 2024:3 2026:3.2", "2013:9.5 2024:12 2026:12.8", "x_aero"),
    "4550": ("2013:1.5 2024:3 2026:3.5", "2013:2 2024:11 2026:11.5", "x_defense"),
    "5600": ("2013:1.5 2024:2.5 2026:2.7", "2013:7.5 2024:7.5 2026:8.3", "x_general"),
    "5180": ("2013:1 2024:3 2026:3.2", "2013:3.5 2024:1 2026:1.3", "x_aero"),
    "4010": ("2013:2 2024:2.5 2026:2.6", "2013:2.6 2024:3.5 2026:3.9", "x_general"),
    "4099": ("2013:1.5 2024:2.5 2026:2.7", "2013:0.7 2024:2.5 2026:2.8", "x_general"),
    "3370": ("2013:1.5 2024:2.2 2026:2.3", "2013:16 2024:14.8 2026:15.7", "x_general"),
    "3010": ("2013:1.5 2024:2.5 2026:2.6", "2013:17 2024:16.5 2026:17.4", "x_general"),
    "3570": ("2013:1.2 2024:1.5 2026:1.5", "2013:9 2024:8.1 2026:8.5", "x_general"),
    "4330": ("2013:1.5 2024:2.2 2026:2.3", "2013:2 2024:3.3 2026:3.7", "x_general"),
    "4039": ("2013:1.2 2024:1.8 2026:1.9", "2013:3 2024:3.2 2026:3.3", "x_defense"),
    "4050": ("2013:0.8 2024:1.2 2026:1.3", "2013:1.2 2024:1.3 2026:1.3", "x_defense"),
    "5130": ("2013:1 2024:1.5 2026:1.5", "2013:1.6 2024:1.5 2026:1.5", "x_defense"),
    "2470": ("2013:1 2024:2 2026:2.2", "2013:6.2 2024:10.5 2026:10.8", "x_general"),
    "6141": ("2013:0.8 2024:1.2 2026:1.3", "2013:2.5 2024:3.8 2026:4", "x_general"),
    "7910": ("2013:1.2 2024:1.5 2026:1.5", "2013:6.1 2024:4.5 2026:4.5", "x_general"),
    "7290": ("2013:1 2024:1.5 2026:1.5", "2013:5.3 2024:6.5 2026:6.5", "x_defense"),
    "2250": ("2013:0.5 2024:1 2026:1.1", "2013:10.3 2024:9 2026:9.4", "x_general"),
    "3330": ("2013:0.8 2024:1.3 2026:1.4", "2013:9.2 2024:12.7 2026:13.6", "x_general"),
    "4351": ("2013:0.7 2024:1.2 2026:1.3", "2013:1.5 2024:1.8 2026:2", "x_general"),
    "4370": ("2013:0.6 2024:1 2026:1.1", "2013:1 2024:1.5 2026:1.6", "x_general"),
    "2050": ("2013:0.3 2024:0.5 2026:0.55", "2013:5.2 2024:9.5 2026:10", "x_general"),
    "2150": ("2013:0.3 2024:0.5 2026:0.55", "2013:5 2024:6.5 2026:7", "x_general"),
    "2110": ("2013:0.2 2024:0.35 2026:0.35", "2013:3.1 2024:3.15 2026:3.35", "x_general"),
    "2190": ("2013:0.08 2024:0.1 2026:0.1", "2013:1 2024:2.9 2026:2.9", "x_general"),
    "3310": ("2013:0.4 2024:0.6 2026:0.6", "2013:7.3 2024:7.4 2026:7.9", "x_general"),
    "4710": ("2013:0.4 2024:0.7 2026:0.8", "2013:0.6 2024:2.3 2026:2.4", "x_general"),
    "4840": ("2013:0.4 2024:0.6 2026:0.6", "2013:0.6 2024:1.4 2026:1.5", "x_defense"),
    "4239": ("2013:0.3 2024:0.6 2026:0.6", "2013:1 2024:1.4 2026:1.5", "x_aero"),
    "4359": ("2013:0.1 2024:0.2 2026:0.2", "2013:0.25 2024:0.5 2026:0.6", "x_general"),
    "4850": ("2013:0.3 2024:0.6 2026:0.7", "2013:0.4 2024:0.9 2026:0.9", "x_general"),
    "4621": ("2013:3.5 2021:2.5 2022:0.4 2024:0.2 2026:0.2", "2013:7.5 2021:3.9 2022:1.2 2024:0.3 2026:0.3", "x_general"),
    "5350": ("2013:0.4 2024:0.5 2026:0.5", "2013:1.2 2024:2.5 2026:2.7", "x_general"),
    "5380": ("2013:0.2 2024:0.4 2026:0.4", "2013:0.6 2024:2.1 2026:2.2", "x_general"),
    "5550": ("2013:0.05 2024:0.1 2026:0.1", "2013:0.25 2024:0.3 2026:0.3", "x_general"),
    "7530": ("2013:0.5 2024:0.5 2026:0.5", "2013:5.9 2024:3.5 2026:3.5", "x_general"),
    "7140": ("2013:0.4 2024:0.7 2026:0.8", "2013:2.1 2024:2.8 2026:2.9", "x_aero"),
    "7790": ("2013:0.2 2024:0.3 2026:0.3", "2013:0.45 2024:0.7 2026:0.8", "x_aero"),
    "2740": ("2013:0.2 2024:0.2 2026:0.2", "2013:5.8 2024:2.8 2026:2.8", "x_general"),
}  # fmt: skip

# Census country groupings (reference section 8) -> (name, {member: (first year, last year)}).
# Only the members included above; membership by year where it changed inside 2013-2026.
_ALWAYS = (FIRST_YEAR, 9999)
_EU = ["4010", "4050", "4099", "4190", "4210", "4231", "4239", "4279", "4280", "4330", "4351",
       "4359", "4370", "4550", "4700", "4710", "4759", "4840", "4850"]  # fmt: skip
_EURO = ["4050", "4190", "4210", "4231", "4239", "4279", "4280", "4330", "4359", "4700", "4710",
         "4759", "4840"]  # fmt: skip
_CAFTA_DR = ["2050", "2110", "2150", "2190", "2230", "2470"]
_ASEAN = ["5490", "5520", "5550", "5570", "5590", "5600", "5650"]
_APEC = ["1220", "2010", "3330", "3370", "4621", "5490", "5520", "5570", "5590", "5600", "5650",
         "5700", "5800", "5820", "5830", "5880", "6021", "6141"]  # fmt: skip
_PACIFIC_RIM = ["5490", "5570", "5590", "5600", "5650", "5700", "5800", "5820", "5830", "5880",
                "6021", "6141"]  # fmt: skip
_OECD = ["1220", "2010", "3370", "4010", "4039", "4050", "4099", "4120", "4190", "4210", "4231",
         "4239", "4279", "4280", "4330", "4351", "4359", "4370", "4419", "4550", "4700", "4710",
         "4759", "4840", "4890", "5081", "5800", "5880", "6021", "6141"]  # fmt: skip
_NATO = ["1220", "4099", "4120", "4210", "4231", "4239", "4279", "4280", "4351", "4359", "4370",
         "4550", "4700", "4710", "4759", "4840", "4850", "4890", "4039"]  # fmt: skip
_LATIN_20 = ["2010", "2050", "2110", "2150", "2190", "2230", "2250", "2470", "3010", "3310",
             "3330", "3370", "3510", "3570"]  # fmt: skip
_LAFTA = ["2010", "3010", "3310", "3330", "3370", "3510", "3570"]


def _members(codes, changes=None) -> dict[str, tuple[int, int]]:
    """Members always in the grouping, plus `changes` {code: (first year, last year)}."""
    return {**dict.fromkeys(codes, _ALWAYS), **(changes or {})}


GROUPINGS: dict[str, tuple[str, dict[str, tuple[int, int]]]] = {
    "0001": ("OPEC", _members(["5130", "5170", "5200", "7530"],
                              {"5180": (FIRST_YEAR, 2018), "3310": (FIRST_YEAR, 2019)})),
    "0003": ("EUROPEAN UNION", _members(_EU, {"4120": (FIRST_YEAR, 2019)})),
    "0014": ("PACIFIC RIM COUNTRIES", _members(_PACIFIC_RIM)),
    "0017": ("CAFTA-DR", _members(_CAFTA_DR)),
    "0020": ("USMCA (NAFTA)", _members(["1220", "2010"])),
    "0021": ("TWENTY LATIN AMERICAN REPUBLICS", _members(_LATIN_20)),
    "0022": ("OECD", _members(_OECD, {"3010": (2020, 9999), "2230": (2021, 9999)})),
    "0023": ("NATO", _members(_NATO, {"4050": (2023, 9999), "4010": (2024, 9999)})),
    "0024": ("LAFTA", _members(_LAFTA)),
    "0025": ("EURO AREA", _members(_EURO)),
    "0026": ("APEC", _members(_APEC)),
    "0027": ("ASEAN", _members(_ASEAN)),
    "0028": ("CACM", _members(["2050", "2110", "2150", "2190", "2230"])),
    "1XXX": ("NORTH AMERICA", {}),
    "2XXX": ("CENTRAL AMERICA", {}),
    "3XXX": ("SOUTH AMERICA", {}),
    "4XXX": ("EUROPE", {}),
    "5XXX": ("ASIA", {}),
    "6XXX": ("AUSTRALIA AND OCEANIA", {}),
    "7XXX": ("AFRICA", {}),
}  # fmt: skip
for _code, (_name, _m) in GROUPINGS.items():  # regions: by the first digit of the code
    if _code.endswith("XXX"):
        _m.update({c: _ALWAYS for c in COUNTRIES if c[0] == _code[0]})

_NAMES = {TOTAL: US_TOTAL_NAME, **{g: n for g, (n, _) in GROUPINGS.items()}, **COUNTRIES}
_ROW_HITECH = ("-", *HITECH_CODES)  # TOTAL FOR ALL COMMODITIES first, as the fixture does
_ROW_DESC = tuple(HITECH_DESC[h] for h in (TOTAL, *HITECH_CODES))
_GROUP_SIGMA = (0.08,) * 7 + (0.25,) + (0.08,) * 2  # month-to-month noise per group; 08 lumpy

SEASON = {
    "imports": (0.98, 0.90, 0.98, 0.96, 1.00, 0.98, 1.01, 1.03, 1.01, 1.07, 1.05, 1.03),
    "exports": (0.93, 0.94, 1.05, 0.99, 1.01, 1.00, 0.95, 0.98, 0.98, 1.03, 1.02, 1.12),
}
# ATP imports (electronics above all) dip more early in the year and peak before the holidays.
ATP_IMPORT_SEASON = (0.94, 0.98, 0.99, 0.99, 1.0, 1.0, 1.0, 1.01, 1.02, 1.03, 1.03, 1.01)
LUNAR_NEW_YEAR = {"5700", "5830", "5520", "5800", "5820", "5570", "5590"}  # imports: Feb, Mar dip
# Month factors on top of the season: (country or "*", flow or "*", year) -> {month: factor}.
EVENTS = {
    ("*", "*", 2020): {3: 0.95, 4: 0.80, 5: 0.80, 6: 0.92},
    ("5700", "imports", 2020): {2: 0.75, 3: 0.82},
    ("5700", "imports", 2025): {4: 0.85, 5: 0.70, 6: 0.80},
    ("4190", "imports", 2025): {1: 1.3, 2: 1.5, 3: 2.4, 5: 0.8, 6: 0.8, 7: 0.85, 8: 0.8, 9: 0.8,
                                10: 0.8, 11: 0.8, 12: 0.8},
}  # fmt: skip

FLOW_SPECS = {"imports": IMPORTS, "exports": EXPORTS}
LAST_ANCHOR_YEAR = 2026  # later years (the demo run years from now) continue 2025->2026's trend


def _anchors(text: str) -> dict[int, float]:
    return {int(y): float(v) for y, v in (pair.split(":") for pair in text.split())}


def _interpolate(anchors: dict[int, float], year: int) -> float:
    """Log-linear between anchor years; beyond the last, the last two years' growth continues
    (dampened); before the first, flat."""
    years = sorted(anchors)
    if year <= years[0]:
        return anchors[years[0]]
    if year >= years[-1]:
        if len(years) < 2:
            return anchors[years[-1]]
        a, b = years[-2], years[-1]
        rate = (anchors[b] / anchors[a]) ** (1 / (b - a))
        rate = 1 + max(-0.05, min(0.05, rate - 1))
        return anchors[b] * rate ** (year - b)
    for a, b in zip(years, years[1:], strict=False):
        if a <= year <= b:
            t = (year - a) / (b - a)
            return anchors[a] ** (1 - t) * anchors[b] ** t
    raise AssertionError("unreachable")


def _split(total: int, weights) -> list[int]:
    """Whole dollars in proportion to `weights`, summing to `total` exactly (largest remainder)."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [total] + [0] * (len(weights) - 1)
    raw = [total * w / weight_sum for w in weights]
    out = [int(x) for x in raw]
    short = total - sum(out)
    if short:
        for i in sorted(range(len(raw)), key=lambda i: out[i] - raw[i])[:short]:
            out[i] += 1
    return out


def last_released_month(today: date | None = None) -> tuple[int, int]:
    """The newest month Census should have published by `today` (the pipeline's own rule)."""
    from ingest.releases import newest_month_due  # imported late: keeps `fake_census` light
    from ingest.settings import census_today

    text = newest_month_due(today or census_today(), RELEASE_LAG_DAYS)
    return int(text[:4]), int(text[5:])


class RealisticDataset:
    """The demo dataset: FIRST_YEAR .. the last released month; `rows(flow, year)` as the server
    expects (see fixtures.FixtureDataset.rows)."""

    def __init__(self, last_month: tuple[int, int] | None = None, seed: str = SEED):
        self.last_year, self.last_month = last_month or last_released_month()
        if self.last_year < FIRST_YEAR:
            raise ValueError(f"the demo data start in {FIRST_YEAR}")
        self.first_year = FIRST_YEAR
        self.seed = seed
        self._specs = {
            flow: {
                code: (
                    _anchors(atp),
                    _anchors(non_atp),
                    mix if isinstance(mix, tuple) else (mix, mix),
                )
                for code, (atp, non_atp, mix) in spec.items()
            }
            for flow, spec in FLOW_SPECS.items()
        }
        # Partners whose ATP (per flow) or non-ATP trade is fixed to published figures: never
        # rescaled; the published figures are anchors too (non-ATP: goods minus ATP).
        self._fixed = {
            flow: {c for by_cty in published.values() for c in by_cty}
            for flow, published in PUBLISHED_ATP.items()
        }
        self._fixed_non_atp = {
            flow: {c for by_cty in published.values() for c in by_cty}
            for flow, published in PUBLISHED_GOODS.items()
        }
        for flow, published in PUBLISHED_ATP.items():
            for year, by_cty in published.items():
                for code, value in by_cty.items():
                    self._specs[flow][code][0][year] = value
        for flow, published in PUBLISHED_GOODS.items():
            for year, by_cty in published.items():
                for code, goods in by_cty.items():
                    atp = PUBLISHED_ATP[flow].get(year, {}).get(code)
                    if atp is None:
                        raise ValueError(f"goods without ATP: {flow} {year} {code}")
                    self._specs[flow][code][1][year] = goods - atp
        self._annual: dict[tuple[str, int], dict[str, tuple[int, int]]] = {}
        self._jitters: dict[tuple[str, int, str], float] = {}
        self._lock = threading.Lock()

    # -- the served interface ------------------------------------------------------------------

    def months(self, year: int) -> int:
        if not self.first_year <= year <= self.last_year:
            return 0
        return self.last_month if year == self.last_year else 12

    def rows(self, flow: str, year: int) -> list[dict] | None:
        n_months = self.months(year)
        if not n_months:
            return None
        countries = self.monthly(flow, year)  # code -> [month] -> [TOTAL, 00, 01..10]
        partners = {
            TOTAL: [_column_sums(months) for months in zip(*countries.values(), strict=True)]
        }
        for grp, (_, members) in GROUPINGS.items():
            present = [countries[c] for c, (start, end) in members.items() if start <= year <= end]
            partners[grp] = [_column_sums(months) for months in zip(*present, strict=True)] or [
                [0] * len(_ROW_HITECH) for _ in range(n_months)
            ]
        partners.update(countries)
        rows = []
        append = rows.append
        for i in range(n_months):
            month = i + 1
            for partner, per_month in partners.items():
                code = "-" if partner == TOTAL else partner
                name = _NAMES[partner]
                for h, desc, value in zip(_ROW_HITECH, _ROW_DESC, per_month[i], strict=True):
                    append(
                        {
                            "CTY_CODE": code,
                            "CTY_NAME": name,
                            "HITECH": h,
                            "HITECH_DESC": desc,
                            "value": value,
                            "month": month,
                        }
                    )
        return rows

    # -- annual values -------------------------------------------------------------------------

    def annual(self, flow: str, year: int) -> dict[str, tuple[int, int]]:
        """Full-year (ATP, non-ATP) dollars per country; for the current year, the whole year's
        values of which the released months are served."""
        with self._lock:
            key = (flow, year)
            if key not in self._annual:
                self._annual[key] = self._compute_annual(flow, year)
            return self._annual[key]

    def _raw_atp(self, flow: str, year: int) -> dict[str, float]:
        cycle = CYCLE[flow].get(year, 1.0)
        fixed = self._fixed[flow]
        return {
            code: _interpolate(atp, year)
            * (1.0 if code in fixed else cycle)
            * self._jitter(flow, year, code)
            for code, (atp, _, _) in self._specs[flow].items()
        }

    def _jitter(self, flow: str, year: int, code: str) -> float:
        """A seeded +-2.5% on each annual ATP value that is not a published figure, so that
        the anchors' round numbers do not show (Malaysia 2024: 33.50 would look made up)."""
        if code in PUBLISHED_ATP[flow].get(year, {}):
            return 1.0
        key = (flow, year, code)
        if key not in self._jitters:
            u = random.Random(f"{self.seed}:{flow}:{year}:{code}:level").random()
            self._jitters[key] = math.exp(0.05 * (u - 0.5))
        return self._jitters[key]

    def _atp_scale(self, flow: str, year: int) -> float:
        """Factor on the countries not fixed to published figures: exact in calibrated years,
        interpolated between them, held beyond them."""
        calibrated = sorted(y for f, y in PUBLISHED_US_ATP if f == flow)

        def exact(y: int) -> float:
            raw = self._raw_atp(flow, y)
            fixed = sum(v for c, v in raw.items() if c in self._fixed[flow])
            free = sum(v for c, v in raw.items() if c not in self._fixed[flow])
            return (PUBLISHED_US_ATP[(flow, y)] - fixed) / free

        if year <= calibrated[0]:
            return exact(calibrated[0])
        if year >= calibrated[-1]:
            return exact(calibrated[-1])
        for a, b in zip(calibrated, calibrated[1:], strict=False):
            if a <= year <= b:
                t = (year - a) / (b - a)
                return exact(a) * (1 - t) + exact(b) * t
        raise AssertionError("unreachable")

    def _compute_annual(self, flow: str, year: int) -> dict[str, tuple[int, int]]:
        spec, fixed = self._specs[flow], self._fixed[flow]
        raw = self._raw_atp(flow, year)
        scale = self._atp_scale(flow, year)
        atp = {c: round(v * BN * (1.0 if c in fixed else scale)) for c, v in raw.items()}
        target = PUBLISHED_US_ATP.get((flow, year))
        if target is not None:  # absorb rounding: the U.S. total is exact to the dollar
            largest_free = max((c for c in atp if c not in fixed), key=atp.get)
            atp[largest_free] += round(target * BN) - sum(atp.values())
        non_atp_raw = {c: _interpolate(n, year) for c, (_, n, _) in spec.items()}
        fixed_n = self._fixed_non_atp[flow]
        goods = PUBLISHED_GOODS[flow].get(year, {})
        non_atp = {  # published goods: exact to the dollar, whatever the rounding of the ATP
            c: round(goods[c] * BN) - atp[c] if c in goods else round(v * BN)
            for c, v in non_atp_raw.items()
            if c in fixed_n
        }
        target_n = _us_non_atp(flow, year)
        free = sum(v for c, v in non_atp_raw.items() if c not in fixed_n)
        k = (target_n - sum(non_atp.values()) / BN) / free  # the others share the remainder
        non_atp.update({c: round(v * k * BN) for c, v in non_atp_raw.items() if c not in fixed_n})
        largest = max((c for c in non_atp if c not in fixed_n), key=non_atp.get)
        non_atp[largest] += round(target_n * BN) - sum(non_atp.values())
        return {c: (atp[c], non_atp[c]) for c in spec}

    # -- months and groups ---------------------------------------------------------------------

    def monthly(self, flow: str, year: int) -> dict[str, list[list[int]]]:
        """Per country, per served month: dollars for TOTAL, '00', '01'..'10' (in that order)."""
        n_months = self.months(year)
        annual = self.annual(flow, year)
        t = min(1.0, max(0.0, (year - FIRST_YEAR) / (LAST_ANCHOR_YEAR - FIRST_YEAR)))
        out = {}
        for code in COUNTRIES:
            atp_year, non_atp_year = annual[code]
            atp_anchors, non_anchors, (mix_from, mix_to) = self._specs[flow][code]
            noise = _Noise(f"{self.seed}:{flow}:{year}:{code}")
            season = self._season(flow, year, code)
            lumpy = mix_from in ("aero", "x_aero", "x_defense")  # aircraft come in lumps
            atp_season = season
            if flow == "imports":
                atp_season = [a * b for a, b in zip(season, ATP_IMPORT_SEASON, strict=True)]
            atp_m = _split(
                atp_year, _weights(atp_season, atp_anchors, year, noise, 0.10 if lumpy else 0.04)
            )
            non_m = _split(non_atp_year, _weights(season, non_anchors, year, noise, 0.025))
            mix = [a * (1 - t) + b * t for a, b in zip(MIXES[mix_from], MIXES[mix_to], strict=True)]
            per_month = []
            for m in range(n_months):
                groups = _split(
                    atp_m[m], [w * noise.factor(s) for w, s in zip(mix, _GROUP_SIGMA, strict=True)]
                )
                per_month.append([non_m[m] + atp_m[m], non_m[m], *groups])
            out[code] = per_month
        return out

    def _season(self, flow: str, year: int, code: str) -> list[float]:
        season = list(SEASON[flow])
        if flow == "imports" and code in LUNAR_NEW_YEAR:
            season[1] *= 0.88
            season[2] *= 0.95
        for (cty, fl, yr), factors in EVENTS.items():
            if yr == year and cty in ("*", code) and fl in ("*", flow):
                for month, factor in factors.items():
                    season[month - 1] *= factor
        return season


def _weights(season, anchors, year: int, noise: _Noise, sigma: float) -> list[float]:
    """Month weights: season x the trend through the year (the growth between the years either
    side) x seeded noise."""
    before = _interpolate(anchors, year - 1)
    after = _interpolate(anchors, year + 1)
    growth = math.log(after / before) / 2 if before > 0 and after > 0 else 0.0
    return [
        s * math.exp(growth * (m - 5.5) / 12) * noise.factor(sigma) for m, s in enumerate(season)
    ]


class _Noise:
    """Seeded multiplicative noise, about lognormal(0, sigma) (a sum of three uniforms: much
    faster than random.gauss, and the demo needs no more)."""

    def __init__(self, seed: str):
        self._random = random.Random(seed).random

    def factor(self, sigma: float) -> float:
        r = self._random
        return math.exp(sigma * 2.0 * (r() + r() + r() - 1.5))


def _column_sums(vectors) -> list[int]:
    return [sum(column) for column in zip(*vectors, strict=True)]


def _us_non_atp(flow: str, year: int) -> float:
    table = US_NON_ATP[flow]
    if year in table:
        return table[year]
    last = max(table)
    return table[last] * 1.02 ** (year - last) if year > last else table[min(table)]


def realistic_dataset(last_month: tuple[int, int] | None = None) -> RealisticDataset:
    """The demo dataset through `last_month` ((year, month); default: the newest month Census
    should have released by today)."""
    return RealisticDataset(last_month)
