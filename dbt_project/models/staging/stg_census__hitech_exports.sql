-- One row per partner, HITECH code and month: Census total exports (domestic + foreign), typed
-- and cleaned.
{{ stage_census('census_hitech_exports', 'ALL_VAL_MO') }}
