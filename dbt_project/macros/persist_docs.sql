{#- persist_docs (dbt_project.yml, marts) writes each description as a DuckDB comment. These
    overrides of dbt-duckdb's two comment macros (found first by adapter.dispatch) only fold the
    description's line breaks and runs of spaces into single spaces, so a comment reads as one
    line of plain text in duckdb_tables() / duckdb_columns(); the statements are the adapter's. -#}

{% macro duckdb__alter_relation_comment(relation, comment) %}
  {% set escaped_comment = duckdb_escape_comment(comment.split() | join(' ')) %}
  comment on {{ relation.type }} {{ relation }} is {{ escaped_comment }};
{% endmacro %}

{% macro duckdb__alter_column_comment(relation, column_dict) %}
  {% set existing_columns = adapter.get_columns_in_relation(relation) | map(attribute="name") | list %}
  {% for column_name in column_dict if (column_name in existing_columns) %}
    {% set comment = column_dict[column_name]['description'].split() | join(' ') %}
    {% set escaped_comment = duckdb_escape_comment(comment) %}
    comment on column {{ relation }}.{{ adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name }} is {{ escaped_comment }};
  {% endfor %}
{% endmacro %}
