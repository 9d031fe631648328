-- One row per partner, 10-digit commodity code and month: Census total exports of the codes on
-- the year's ATP list, typed and cleaned.
{{ stage_census(
    'census_hs_exports', 'ALL_VAL_MO',
    item='E_COMMODITY', description='E_COMMODITY_SDESC', item_name='commodity'
) }}
