{#-
    Normalizations of the warehouse contract's identity rules. Each is a pure SQL expression, the same
    in DuckDB and PostgreSQL except where a dialect macro (cg_regexp_*, cg_fold_accents) hides the difference.
-#}

{#-
    Lower-case folding of accented Latin letters to ASCII ("Müller" -> "muller", "Straße" -> "strasse",
    "ÉCOLE" -> "ecole", "Nguyễn" -> "nguyen"): each letter is decomposed (Unicode NFD) and its combining marks
    dropped, so every accented letter folds, not only those of a list. The letters that do not decompose (ø, đ,
    ł, ß, æ, ...) are folded by a short list after. Callers keep only ASCII of the result, so the two warehouses
    may differ in the marks they drop from non-Latin letters, never in what is kept.
-#}
{% macro cg_fold_accents(expression) -%}
    {{ return(adapter.dispatch('cg_fold_accents', 'common_ground')(expression)) }}
{%- endmacro %}

{#- The letters no decomposition turns into ASCII, lower-case, folded after the marks are gone. -#}
{% macro cg_fold_undecomposed_letters(expression) -%}
    replace(replace(replace(replace(replace(translate({{ expression }}, 'øđðłħıŧŀ', 'oddlhitl'),
        'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'), 'ĳ', 'ij')
{%- endmacro %}

{% macro default__cg_fold_accents(expression) -%}
    {{ cg_fold_undecomposed_letters('strip_accents(lower(' ~ expression ~ '))') }}
{%- endmacro %}

{#- PostgreSQL (13+, a UTF8 database) has normalize() but no strip_accents(): the marks are the combining blocks'
    characters. Its lower() changes ASCII letters only under the C locale, so it runs after the marks are gone
    ("É" -> "E" -> "e") and the capitals that do not decompose are lowered by the list. -#}
{% macro postgres__cg_fold_accents(expression) -%}
    {%- set without_marks = "regexp_replace(normalize(" ~ expression ~ ", NFD), "
        ~ "'[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g')" -%}
    {{ cg_fold_undecomposed_letters("translate(lower(" ~ without_marks ~ "), 'ØĐÐŁĦŦĿẞÆŒÞĲ', 'øđðłħŧŀßæœþĳ')") }}
{%- endmacro %}

{#-
    A normalized e-mail address: trimmed and lower-case; for Gmail (gmail.com and googlemail.com,
    one mailbox domain) dots and "+tags" in the local part are folded and the domain becomes
    gmail.com. Other providers keep dots and +tags (they may be distinct mailboxes). Anything that
    is not a single-@ address with a dotted domain becomes null.
-#}
{% macro normalize_email(expression) -%}
    {%- set email = 'lower(trim(' ~ expression ~ '))' -%}
    case
        when not {{ cg_regexp_matches(email, '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$') }} then null
        when split_part({{ email }}, '@', 2) in ('gmail.com', 'googlemail.com')
            then replace(split_part(split_part({{ email }}, '@', 1), '+', 1), '.', '') || '@gmail.com'
        else {{ email }}
    end
{%- endmacro %}

{#- The domain of an e-mail address (lower-case, after normalize_email), or null. -#}
{% macro email_domain(normalized_email) -%}
    nullif(split_part({{ normalized_email }}, '@', 2), '')
{%- endmacro %}

{#- The local part of an e-mail address (before the @), or null. -#}
{% macro email_local_part(normalized_email) -%}
    nullif(split_part({{ normalized_email }}, '@', 1), '')
{%- endmacro %}

{#- True when the (normalized) domain is a personal / free-mail provider (seed personal_email_domains). -#}
{% macro is_personal_email_domain(domain_expression) -%}
    coalesce({{ domain_expression }} in (select domain from {{ ref('personal_email_domains') }}), false)
{%- endmacro %}

{#- True when the local part is a role inbox shared by several people (seed role_email_local_parts). -#}
{% macro is_role_email(normalized_email) -%}
    coalesce({{ email_local_part(normalized_email) }} in (select local_part from {{ ref('role_email_local_parts') }}), false)
{%- endmacro %}

{#-
    The matching key of a company name: case, accents and punctuation folded, a leading "The" and
    trailing legal-form suffixes (Inc, Incorporated, Ltd, Limited, LLC, GmbH, GmbH & Co. KG, SAS, SA,
    SARL, AG, SE, BV, NV, SL, PLC, Pty, Corp, Corporation, Co, Company, ...) removed, then spaces
    removed: "ACME, Inc." = "Acme Incorporated" = "The Acme Inc" = "acme" -> "acme". Null when
    nothing is left, or for placeholders such as "[not provided]".
-#}
{% macro normalize_company_name(expression) -%}
    {%- set words -%}
        trim(regexp_replace(regexp_replace({{ cg_fold_accents(expression) }}, '[.'']', '', 'g'), '[^a-z0-9]+', ' ', 'g'))
    {%- endset -%}
    {%- set legal_suffixes = 'inc|incorporated|ltd|limited|llc|llp|lp|gmbh|mbh|kg|ag|se|sas|sa|sarl|bv|nv|sl|slu|plc|pty|corp|corporation|co|company|spa|srl|oy|ab|as|aps|kk' -%}
    {%- set stripped -%}
        regexp_replace(regexp_replace(' ' || {{ words }}, '( ({{ legal_suffixes }}))+$', '', 'g'), '^ the ', ' ', 'g')
    {%- endset -%}
    case
        when {{ cg_regexp_matches(cg_fold_accents(expression), '^[[:space:]]*([[(].*[])]|n/?a|none|unknown|-+)[[:space:]]*$') }} then null
        else nullif(replace({{ stripped }}, ' ', ''), '')
    end
{%- endmacro %}

{#- The matching key of a person's name: folded first and last name, letters only ("Jürgen O'Brien" -> "jurgen obrien"). -#}
{% macro normalize_person_name(first_name, last_name) -%}
    nullif(trim(
        regexp_replace(coalesce({{ cg_fold_accents(first_name) }}, ''), '[^a-z]+', '', 'g')
        || ' ' ||
        regexp_replace(coalesce({{ cg_fold_accents(last_name) }}, ''), '[^a-z]+', '', 'g')
    ), '')
{%- endmacro %}
