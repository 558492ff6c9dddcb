{#- A stable string key from a list of expressions: the md5 of their values joined by '|'. -#}
{% macro surrogate_key(expressions) -%}
    md5(concat_ws('|', {% for expression in expressions -%}
        coalesce(cast({{ expression }} as {{ dbt.type_string() }}), '∅'){% if not loop.last %}, {% endif %}
    {%- endfor %}))
{%- endmacro %}
