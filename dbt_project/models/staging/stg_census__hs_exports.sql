-- One row per partner, 10-digit commodity code and month: Census total exports of the codes on
-- the year's ATP list, typed and cleaned.
{{ stage_census_hs('census_hs_exports', 'E_COMMODITY', 'ALL_VAL_MO') }}
