{#-
    Normalizations of the warehouse contract's identity rules. Each is a pure SQL expression, the same
    in DuckDB and PostgreSQL except where a dialect macro (cg_regexp_*, cg_fold_accents, cg_name_separators) hides
    the difference: both warehouses must give every key the same value.
-#}

{#-
    Lower-case folding of accented Latin letters to ASCII ("Müller" -> "muller", "Straße" -> "strasse",
    "ÉCOLE" -> "ecole", "Nguyễn" -> "nguyen"): each letter is decomposed (Unicode NFD) and its combining marks
    dropped, so every accented letter folds, not only those of a list. The letters that do not decompose (ø, đ,
    ł, ß, æ, ...) are folded by a short list after. Letters of other scripts are lower-cased and keep what is not
    a Latin-style diacritic: Greek and Cyrillic drop their accents ("Γιώργος" -> "γιωργοσ", "Йорг" -> "иорг"),
    Hebrew its points and Arabic its short-vowel marks, which are mostly left unwritten; but kana keep their voicing
    marks and Indic scripts their vowel signs ("ガ" is not "カ"), which are parts of the letter there. Only those
    marks and the combining-diacritics blocks are dropped, the same on both warehouses.
-#}
{% macro cg_fold_accents(expression) -%}
    {{ return(adapter.dispatch('cg_fold_accents', 'common_ground')(expression)) }}
{%- endmacro %}

{#- Full-width Latin letters and digits ("ＡＣＭＥ１", as East Asian input methods type them) as ASCII ones, before anything
    else: full-width punctuation is a name separator already (cg_name_separators). -#}
{% macro cg_fold_full_width(expression) -%}
    translate({{ expression }}, '０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ', '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')
{%- endmacro %}

{#- The letters no decomposition turns into ASCII, lower-case, folded after the marks are gone; and the Greek final
    sigma, which one warehouse's lower() gives for a capital Σ at the end of a word and the other's does not. -#}
{% macro cg_fold_undecomposed_letters(expression) -%}
    replace(replace(replace(replace(replace(translate({{ expression }}, 'øđðłħıŧŀς', 'oddlhitlσ'),
        'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'), 'ĳ', 'ij')
{%- endmacro %}

{#- DuckDB's strip_accents() drops every combining mark of every script, so it is applied letter by letter, to the
    letters below U+0590 (Latin, Greek, Cyrillic, Armenian), the Hebrew points and Arabic vowel marks and the letters
    that decompose into them, Latin and Greek extended (U+1E00-U+1FFF) and the combining-diacritics blocks only: what
    PostgreSQL's version below drops. -#}
{% macro default__cg_fold_accents(expression) -%}
    {%- set folded -%}
        array_to_string(list_transform(string_split(nfc_normalize(lower({{ cg_fold_full_width(expression) }})), ''),
            lambda letter: case
                when unicode(letter) < 1424 or unicode(letter) between 1425 and 1469
                    or unicode(letter) in (1471, 1473, 1474, 1476, 1477, 1479)
                    or unicode(letter) between 1570 and 1574 or unicode(letter) between 1611 and 1631
                    or unicode(letter) in (1648, 1728, 1730, 1747) or unicode(letter) between 64285 and 64335
                    or unicode(letter) between 6832 and 6911
                    or unicode(letter) between 7616 and 8191 or unicode(letter) between 8400 and 8447
                    or unicode(letter) between 65056 and 65071
                    then strip_accents(letter)
                else letter
            end), '')
    {%- endset -%}
    {#- letter by letter costs three times the whole string's strip_accents: only for names with a letter past
        Latin, Greek, Cyrillic and Armenian, where the two differ (full-width letters are among them) -#}
    {%- set whole -%}
        case when regexp_matches({{ expression }}, '[^\x{0000}-\x{058F}\x{1E00}-\x{1FFF}]') then {{ folded }}
            else strip_accents(lower({{ expression }})) end
    {%- endset -%}
    {{ cg_fold_undecomposed_letters(whole) }}
{%- endmacro %}

{#- PostgreSQL (13+, a UTF8 database) has normalize() but no strip_accents(): the marks are the combining blocks'
    characters, and NFC puts back together what they leave decomposed (Hangul, kana). Staging text has the C
    collation (cg_binary_text), whose lower() changes ASCII letters only, so lower() runs under ICU's root locale
    ("und-x-icu": the server must be built with ICU, as the usual packages are) and the result is C text again, whose
    regular-expression classes are ASCII only like DuckDB's. -#}
{% macro postgres__cg_fold_accents(expression) -%}
    {%- set without_marks = "normalize(regexp_replace(normalize(" ~ cg_fold_full_width(expression) ~ ", NFD), "
        ~ "'[\u0300-\u036f\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7\u064b-\u065f\u0670\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g'), NFC)" -%}
    {{ cg_fold_undecomposed_letters('lower((' ~ without_marks ~ ') collate "und-x-icu") collate "C"') }}
{%- endmacro %}

{#-
    A regular-expression bracket expression of what a name key drops: spaces, punctuation, symbols, control
    characters and (unless keep_digits) digits, ASCII and of the Unicode punctuation and symbol blocks. Everything
    else (letters of every script) is kept. Written out block by block because RE2's classes and those of the C
    collation are ASCII only, so both warehouses drop the same characters.
-#}
{% macro cg_name_separators(keep_digits=false) -%}
    {%- set blocks = [('0080', '00bf'), ('00d7', '00d7'), ('00f7', '00f7'), ('2000', '2bff'), ('2e00', '2e7f'),
                      ('3000', '3004'), ('3008', '3020'), ('3030', '3030'), ('30fb', '30fb'), ('fe10', 'fe6f'),
                      ('ff01', 'ff0f'), ('ff1a', 'ff20'), ('ff3b', 'ff40'), ('ff5b', 'ff65'), ('ffe0', 'ffef'),
                      ('1f000', '1faff')] + ([] if keep_digits else [('ff10', 'ff19')]) -%}
    {%- set ranges = [] -%}
    {%- for first, last in blocks -%}
        {%- do ranges.append(adapter.dispatch('cg_unicode_range', 'common_ground')(first, last)) -%}
    {%- endfor -%}
    [[:space:][:punct:][:cntrl:]{{ '' if keep_digits else '[:digit:]' }}{{ ranges | join('') }}]
{%- endmacro %}

{#- One code-point range of a bracket expression: RE2 writes \x{hex}, PostgreSQL \uhhhh or \Uhhhhhhhh. -#}
{% macro default__cg_unicode_range(first, last) -%}
    \x{ {{- first -}} }-\x{ {{- last -}} }
{%- endmacro %}

{% macro postgres__cg_unicode_range(first, last) -%}
    {%- for point in [first, last] -%}
        {{ '\\u' ~ point if point | length == 4 else '\\U' ~ ('0' * (8 - point | length)) ~ point }}{{ '-' if loop.first }}
    {%- endfor -%}
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
    The matching key of a company name: case, accents, full-width letters and punctuation folded, a leading "The"
    and legal forms removed, then spaces removed: "ACME, Inc." = "Acme Incorporated" = "The Acme Inc" = "acme" ->
    "acme". Legal forms go as words at the end (Inc, Incorporated, Ltd, Limited, LLC, GmbH, GmbH & Co. KG, SAS, SA,
    SARL, AG, SE, BV, NV, SL, PLC, Pty, Pte, Pvt, Sdn Bhd, Ltda, Corp, Corporation, Co, Company, ООО, АО, Α.Ε., ...)
    or at the start (ООО «Ромашка», АО, ПАО, ИП); the Chinese, Japanese and Korean ones, written without spaces,
    wherever the name ends or starts with them (有限公司, 股份有限公司, 株式会社, (株), 주식회사, (주)). Letters of every
    script and digits are kept ("深圳ABC科技有限公司" -> "深圳abc科技", never the bare "abc"). Null when nothing is
    left, or for placeholders such as "[not provided]".
-#}
{% macro normalize_company_name(expression) -%}
    {%- set words -%}
        trim(regexp_replace(regexp_replace({{ cg_fold_accents(expression) }}, '[.'']', '', 'g'), '{{ cg_name_separators(keep_digits=true) }}+', ' ', 'g'))
    {%- endset -%}
    {%- set legal_suffixes = 'inc|incorporated|ltd|limited|llc|llp|lp|gmbh|mbh|kg|ag|se|sas|sa|sarl|bv|nv|sl|slu|plc|pty|pte|pvt|sdn bhd|bhd|ltda|corp|corporation|co|company|spa|srl|sro|kft|oy|ab|as|aps|kk|ооо|оао|зао|пао|ао|ип|тов|αε|επε|ικε|株|주' -%}
    {%- set legal_prefixes = 'the|ооо|оао|зао|пао|ао|ип|тов|株|주' -%}
    {#- written without a space before or after the name; (株) and (주) are words of their own once punctuation is
        gone, ㈱ and ㈜ single characters -#}
    {%- set cjk_forms = '股份有限公司|有限责任公司|有限責任公司|有限公司|株式会社|有限会社|合同会社|주식회사|유한회사|㈱|㈜' -%}
    {%- set stripped -%}
        regexp_replace(regexp_replace(regexp_replace(regexp_replace(' ' || {{ words }},
            '( ({{ legal_suffixes }}))+$', '', 'g'), '({{ cjk_forms }})$', '', 'g'),
            '^ ({{ legal_prefixes }}) ', ' ', 'g'), '^ ({{ cjk_forms }})', ' ', 'g')
    {%- endset -%}
    case
        when {{ cg_regexp_matches('lower(' ~ expression ~ ')', '^[[:space:]]*([[(].*[])]|n/?a|none|unknown|-+)[[:space:]]*$') }} then null
        else nullif(replace({{ stripped }}, ' ', ''), '')
    end
{%- endmacro %}

{#- The matching key of one part of a person's name (a first or a last name): folded (cg_fold_accents), letters of
    every script only, no spaces, punctuation or digits ("O'Brien" -> "obrien", "Παπαδόπουλος" -> "παπαδοπουλος");
    null when nothing is left. -#}
{% macro normalize_person_name_part(expression) -%}
    nullif(regexp_replace({{ cg_fold_accents(expression) }}, '{{ cg_name_separators() }}+', '', 'g'), '')
{%- endmacro %}

{#- The matching key of a person's name: the keys of the first and last name joined by a space ("Jürgen O'Brien" ->
    "jurgen obrien"), or the one of them there is; null when neither. -#}
{% macro normalize_person_name(first_name, last_name) -%}
    nullif(trim(
        coalesce({{ normalize_person_name_part(first_name) }}, '') || ' ' || coalesce({{ normalize_person_name_part(last_name) }}, '')
    ), '')
{%- endmacro %}
