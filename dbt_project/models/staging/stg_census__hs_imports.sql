-- One row per partner, 10-digit commodity code and month: Census general imports of the codes on
-- the year's ATP list, typed and cleaned.
{{ stage_census_hs('census_hs_imports', 'I_COMMODITY', 'GEN_VAL_MO') }}
