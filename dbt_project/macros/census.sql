{#- Census code helpers, used by both staging models so the rules live in one place. -#}

{#- A trimmed Census code with the "total" markers ('-', '' or NULL) replaced by 'TOTAL'.
    Used for CTY_CODE (total for all countries) and HITECH (total for all commodities). -#}
{% macro census_code(column) -%}
    case
        when coalesce(trim({{ column }}), '') in ('', '-') then 'TOTAL'
        else trim({{ column }})
    end
{%- endmacro %}

{#- 'country' (four digits, first not 0), 'total' (the U.S. total row) or 'grouping'
    (EU, USMCA, 5XXX ASIA, ...). Takes an already normalized partner code. -#}
{% macro partner_kind(partner_code) -%}
    case
        when {{ partner_code }} = 'TOTAL' then 'total'
        when regexp_full_match({{ partner_code }}, '[1-9][0-9]{3}') then 'country'
        else 'grouping'
    end
{%- endmacro %}

{#- The ten ATP group codes as a SQL list: ATP value = the sum of these groups. -#}
{% macro atp_group_codes() -%}
    ('01', '02', '03', '04', '05', '06', '07', '08', '09', '10')
{%- endmacro %}
