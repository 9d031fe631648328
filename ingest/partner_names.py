"""Partner names as people read them. Census spells partners in capitals ("KOREA, SOUTH"); the
marts carry this display form in `partner_name` (dbt calls it through `ingest.dbt_functions`)
and keep Census's own spelling in `census_partner_name`."""

from __future__ import annotations

import re

# Words kept in capitals, and words kept in lower case inside a name.
ACRONYMS = frozenset(
    {
        "ALADI", "ANCOM", "APEC", "ASEAN", "CACM", "CAFTA", "CARICOM", "CIS", "DR", "EFTA", "EU",
        "LAFTA", "NAFTA", "NATO", "OECD", "OPEC", "SACU", "UAE", "UK", "US", "USA", "USMCA",
        "USSR",
    }
)  # fmt: skip
_SMALL_WORDS = frozenset({"and", "of", "the", "da", "de", "du", "la", "le", "by", "et", "y"})


def display_name(name: str | None) -> str:
    """The one display form of a Census partner name, for tables, the HTML report, CSV, JSON
    and markdown. Census names are upper case: MEXICO -> Mexico, KOREA, SOUTH -> Korea, South,
    GUINEA-BISSAU -> Guinea-Bissau, BOSNIA AND HERZEGOVINA -> Bosnia and Herzegovina, USMCA
    (NAFTA) and CAFTA-DR keep their acronyms, COTE D'IVOIRE -> Cote d'Ivoire, HEARD AND MCDONALD
    ISLANDS -> Heard and McDonald Islands. A name in mixed case is kept as it is."""
    if name is None:
        return ""
    if not name.isupper():
        return name
    # Split keeping the separators (", ", "-", " (", "'"): acronyms stay upper case; small words
    # stay lower case unless they start the name or follow a comma ("BAHAMAS, THE" -> "Bahamas,
    # The"); an elided d' or l' is lower case and the word after it capitalised.
    words = re.split(r"(\W+)", name.lower())
    out = []
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        if word.upper() in ACRONYMS:
            out.append(word.upper())
        elif i and after == "'" and word in ("d", "l"):
            out.append(word)
        elif before == "'" and word == "s":  # a possessive: PEOPLE'S
            out.append(word)
        elif i and word in _SMALL_WORDS and "," not in before:
            out.append(word)
        elif word.startswith("mc") and len(word) > 2:
            out.append("Mc" + word[2:].capitalize())
        else:
            out.append(word[:1].upper() + word[1:])
    return "".join(out)
