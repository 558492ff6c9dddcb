{#-
    A Salesforce record's currency, upper-cased. Only orgs with multi-currency enabled have the CurrencyIsoCode
    field; in an org without it (the raw table has no such column) every amount is in the org's corporate
    currency, the var salesforce_corporate_currency. Unset, those amounts stay without a currency: the
    missing_currency rows of alignment_issues list them and the reporting-currency totals leave them out.
    A record of a multi-currency org whose currency is null stays null: the var never fills it.
-#}
{% macro cg_salesforce_currency(columns) -%}
    {%- set corporate = var('salesforce_corporate_currency', none) -%}
    {%- if corporate is not none and not (corporate is string and corporate | length == 3 and corporate.isalpha()) -%}
        {{ exceptions.raise_compiler_error("var salesforce_corporate_currency must be a three-letter ISO 4217 code "
                                           ~ "such as EUR, not " ~ corporate) }}
    {%- endif -%}
    {%- if columns is none or 'currency_iso_code' in columns or corporate is none -%}
        upper({{ cg_column(columns, 'currency_iso_code', 'varchar') }})
    {%- else -%}
        {{ cg_binary_text("cast('" ~ (corporate | upper) ~ "' as varchar)") }}
    {%- endif -%}
{%- endmacro %}
