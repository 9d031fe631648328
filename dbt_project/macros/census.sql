{#- Census code helpers, used by both staging models so the rules live in one place. -#}

{#- A trimmed Census code with the "total" markers ('-', '' or NULL) replaced by 'TOTAL'.
    Used for CTY_CODE (total for all countries) and HITECH (total for all commodities). -#}
{% macro census_code(column) -%}
    case
        when coalesce(trim({{ column }}), '') in ('', '-') then 'TOTAL'
        else trim({{ column }})
    end
{%- endmacro %}

{#- The partner's kind, from an already normalized partner code (Census Schedule C and the
    API guide's Appendix E; see the reference's sections 8 and 9):
    'total'    the U.S. total row ('TOTAL');
    'country'  four digits, first digit 1-7 (the region blocks 1 North America .. 7 Africa),
               except 1000 (the United States itself);
    'grouping' 00 + two digits (0003 EUROPEAN UNION, 0020 USMCA, ...) or a region, digit + XXX
               (5XXX ASIA);
    'other'    anything else: 1000, 9xxx (U.S. territories such as 9030 Puerto Rico), 8xxx (not in
               Schedule C), a grouping of a new shape. Kept, never summed, ranked or shared with
               the countries; dim_partner warns about each one. -#}
{% macro partner_kind(partner_code) -%}
    case
        when {{ partner_code }} = 'TOTAL' then 'total'
        when regexp_full_match({{ partner_code }}, '[1-7][0-9]{3}')
            and {{ partner_code }} <> '1000' then 'country'
        when regexp_full_match({{ partner_code }}, '00[0-9]{2}|[1-7]XXX') then 'grouping'
        else 'other'
    end
{%- endmacro %}

{#- The ten ATP group codes as a SQL list: ATP value = the sum of these groups. -#}
{% macro atp_group_codes() -%}
    ('01', '02', '03', '04', '05', '06', '07', '08', '09', '10')
{%- endmacro %}
