-- One row per partner, HITECH code and month: Census general imports, typed and cleaned.
{{ stage_census('census_hitech_imports', 'GEN_VAL_MO') }}
