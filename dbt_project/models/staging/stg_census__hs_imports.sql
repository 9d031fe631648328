-- One row per partner, 10-digit commodity code and month: Census general imports of the codes on
-- the year's ATP list, typed and cleaned.
{{ stage_census(
    'census_hs_imports', 'GEN_VAL_MO',
    item='I_COMMODITY', description='I_COMMODITY_SDESC', item_name='commodity'
) }}
