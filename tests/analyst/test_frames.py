"""`analyst.frame`: a mart table as a pandas DataFrame from the published copy."""

from __future__ import annotations

import pandas as pd
import pytest

import analyst
from analyst.queries import AnalystError


def test_a_mart_as_a_dataframe_filtered_by_column(published):
    df = analyst.frame("fct_atp_partner_year", published=published.published, year=2025)
    assert isinstance(df, pd.DataFrame)
    assert set(df["year"]) == {2025}
    mexico = df.set_index("partner_code").loc["2010"]
    assert mexico["atp_imports_usd"] == 120_000_000_000  # 10 bn a month in 2025
    assert mexico["atp_imports_rank"] == 1


def test_the_published_copy_comes_from_atp_published_by_default(published):
    # The session fixture points ATP_PUBLISHED at its copy.
    df = analyst.frame("fct_us_atp_year")
    assert df["year"].tolist() == [2024, 2025, 2026]


def test_an_unknown_table_or_column_names_the_choices(published):
    with pytest.raises(
        AnalystError, match="no mart table 'fct_nope'; the tables are .*dim_partner"
    ):
        analyst.frame("fct_nope", published=published.published)
    with pytest.raises(AnalystError, match="has no column yeer; its columns are .*year"):
        analyst.frame("fct_us_atp_year", published=published.published, yeer=2024)


def test_marts_spell_names_as_people_do_and_filters_take_any_case(published):
    # One spelling everywhere: "Mexico" in the marts, Census's "MEXICO" kept beside it.
    path = published.published
    partner = analyst.frame("dim_partner", published=path, partner_code="2010")
    assert partner[["partner_name", "census_partner_name"]].values.tolist() == [
        ["Mexico", "MEXICO"]
    ]
    for spelling in ("Mexico", "MEXICO", "mexico"):
        rows = analyst.frame("fct_atp_partner_year", published=path, partner_name=spelling)
        assert rows["year"].tolist() == [2024, 2025, 2026], spelling
    assert analyst.frame("fct_atp_partner_year", published=path, partner_name="Mexic").empty
