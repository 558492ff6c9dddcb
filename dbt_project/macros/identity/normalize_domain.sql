{#-
    The registrable domain of a website or e-mail domain: lower-case, no scheme, no "www.", no path, query or
    port, and one label more than the longest public suffix it ends in (cg_public_suffix_pattern), else the
    last two labels ("https://WWW.Acme.co.uk/about" -> "acme.co.uk", "shop.acme.com" -> "acme.com",
    "initrode.myshopify.com" -> itself). Null for a bare public suffix ("co.uk", "myshopify.com"), and unless
    the result is a plain host name (letters, digits, hyphens, dots).
-#}
{% macro normalize_domain(expression) -%}
    {%- set domain = adapter.dispatch('normalize_domain', 'common_ground')(expression) -%}
    case when {{ cg_regexp_matches(domain, '^[a-z0-9-]+([.][a-z0-9-]+)+$') }} then {{ domain }} end
{%- endmacro %}

{% macro duckdb__normalize_domain(expression) -%}
    {%- set suffixes = cg_public_suffix_pattern() -%}
    {%- set host -%}
        nullif(regexp_extract(regexp_replace(regexp_replace(lower(trim({{ expression }})),
            '^[a-z]+://', ''), '^www[0-9]*\.', ''), '^([^/:?#]+)', 1), '')
    {%- endset -%}
    case when not regexp_matches({{ host }}, '^{{ suffixes }}$')
        then nullif(regexp_extract({{ host }}, '([^.]+\.(?:{{ suffixes }}|[^.]+))$', 1), '')
    end
{%- endmacro %}

{% macro postgres__normalize_domain(expression) -%}
    {%- set suffixes = cg_public_suffix_pattern() -%}
    {%- set host -%}
        nullif(substring(regexp_replace(regexp_replace(lower(trim({{ expression }})),
            '^[a-z]+://', ''), '^www[0-9]*\.', '') from '^([^/:?#]+)'), '')
    {%- endset -%}
    case when not {{ host }} ~ '^{{ suffixes }}$'
        then substring({{ host }} from '([^.]+\.(?:{{ suffixes }}|[^.]+))$')
    end
{%- endmacro %}

{#-
    A regular expression (one non-capturing group) matching any public suffix of more than one label: the
    registrable domain is the label before the longest one a host ends in. The leftmost match of
    "[^.]+\.(?:suffix|[^.]+)$" starts one label before the longest such suffix (else before the last label), so
    this needs no ordering, and works alike on RE2 (DuckDB) and PostgreSQL.

    A chosen subset of the Public Suffix List (publicsuffix.org, snapshot 2023-02-09 of Debian's publicsuffix
    package, MPL 2.0), not the whole list:
    - icann: every two-label rule of the ICANN section under a two-letter country code whose first label is a
      generic category (ac, co, com, edu, gov, govt, gob, gouv, go, net, ne, or, org, ltd, plc, sch, mil, nom,
      biz, info, firm, gen, ind, ed, gv, nic), plus asn.au, id.au, me.uk, nhs.uk, police.uk, lg.jp, gr.jp:
      1,014 suffixes of 187 countries (co.uk, edu.au, ne.jp, com.br, ...). Single-label suffixes (com, de, io)
      need no entry: the last two labels are kept by default. Wildcard, exception and three-label rules and the
      geographic second levels (tokyo.jp, on.ca, ...) are left out.
    - private: hosting platforms of the PSL's private section whose subdomains are their customers' sites
      (initrode.myshopify.com, acme.github.io), and after them ones of the same kind the snapshot lacks, added
      here (squarespace.com, webflow.io, wordpress.com, HubSpot's hs-sites.com, ...).
    A platform whose pages are paths of its own domain (linkedin.com/company/acme, sites.google.com/view/acme)
    is not a suffix: seed platform_domains keeps such domains from matching (is_platform_domain).
-#}
{% macro cg_public_suffix_pattern() -%}
    {%- set icann = {
        'ac': 'com edu gov mil net org', 'ad': 'nom', 'ae': 'ac co gov mil net org sch', 'af': 'com edu gov net org',
        'ag': 'co com net nom org', 'ai': 'com net org', 'al': 'com edu gov mil net org', 'am': 'co com net org',
        'ao': 'co ed gv', 'ar': 'com edu gob gov mil net org', 'as': 'gov', 'at': 'ac co gv or',
        'au': 'asn com edu gov id info net org', 'aw': 'com', 'az': 'biz com edu gov info mil net org',
        'ba': 'com edu gov mil net org', 'bb': 'biz co com edu gov info net org', 'be': 'ac', 'bf': 'gov',
        'bh': 'com edu gov net org', 'bi': 'co com edu or org', 'bj': 'co com edu info net org',
        'bm': 'com edu gov net org', 'bn': 'com edu gov net org', 'bo': 'com edu gob info mil net org',
        'br': 'com edu gov ind mil net org', 'bs': 'com edu gov net org', 'bt': 'com edu gov net org', 'bw': 'co org',
        'by': 'com gov mil', 'bz': 'com edu gov net org', 'cd': 'gov', 'ci': 'ac co com ed edu go gouv net or org',
        'cl': 'co gob gov mil', 'cm': 'co com gov net', 'cn': 'ac com edu gov mil net org',
        'co': 'com edu firm gov info mil net nom org', 'cr': 'ac co ed go or', 'cu': 'com edu gov net org',
        'cv': 'com edu org', 'cw': 'com edu net org', 'cx': 'gov', 'cy': 'ac biz com gov ltd mil net org',
        'dm': 'com edu gov net org', 'do': 'com edu gob gov mil net org', 'dz': 'com edu gov net org',
        'ec': 'com edu gob gov info mil net org', 'ee': 'com edu gov org', 'eg': 'com edu gov mil net org',
        'es': 'com edu gob nom org', 'et': 'biz com edu gov info net org', 'fj': 'ac biz com gov info mil net org',
        'fm': 'com edu net org', 'fr': 'com gouv nom', 'gd': 'edu gov', 'ge': 'com edu gov mil net org',
        'gg': 'co net org', 'gh': 'com edu gov mil org', 'gi': 'com edu gov ltd org', 'gl': 'co com edu net org',
        'gn': 'ac com edu gov net org', 'gp': 'com edu net org', 'gr': 'com edu gov net org',
        'gt': 'com edu gob ind mil net org', 'gu': 'com edu gov info net org', 'gy': 'co com edu gov net org',
        'hk': 'com edu gov net org', 'hn': 'com edu gob mil net org', 'hr': 'com',
        'ht': 'com edu firm gouv info net org', 'hu': 'co info org', 'id': 'ac biz co go mil net or sch', 'ie': 'gov',
        'il': 'ac co gov net org', 'im': 'ac co com net org',
        'in': 'ac biz co com edu firm gen gov ind info mil net nic org', 'io': 'com', 'iq': 'com edu gov mil net org',
        'ir': 'ac co gov net org sch', 'is': 'com edu gov net org', 'it': 'co edu go gov or', 'je': 'co net org',
        'jo': 'com edu gov mil net org sch', 'jp': 'ac co ed go gr lg ne or', 'ke': 'ac co go info ne or',
        'kg': 'com edu gov mil net org', 'ki': 'biz com edu gov info net org', 'km': 'com edu gouv gov mil nom org',
        'kn': 'edu gov net org', 'kp': 'com edu gov org', 'kr': 'ac co go mil ne or', 'kw': 'com edu gov ind net org',
        'ky': 'com edu net org', 'kz': 'com edu gov mil net org', 'la': 'com edu gov info net org',
        'lb': 'com edu gov net org', 'lc': 'co com edu gov net org', 'lk': 'ac com edu gov ltd net org sch',
        'lr': 'com edu gov net org', 'ls': 'ac biz co edu gov info net org', 'lt': 'gov',
        'lv': 'com edu gov mil net org', 'ly': 'com edu gov net org plc sch', 'ma': 'ac co gov net org',
        'me': 'ac co edu gov net org', 'mg': 'co com edu gov mil nom org', 'mk': 'com edu gov net org',
        'ml': 'com edu gouv gov net org', 'mn': 'edu gov org', 'mo': 'com edu gov net org', 'mr': 'gov',
        'ms': 'com edu gov net org', 'mt': 'com edu net org', 'mu': 'ac co com gov net or org',
        'mv': 'biz com edu gov info mil net org', 'mw': 'ac biz co com edu gov net org', 'mx': 'com edu gob net org',
        'my': 'biz com edu gov mil net org', 'mz': 'ac co edu gov mil net org', 'na': 'co com info or org',
        'nc': 'nom', 'nf': 'com firm info net', 'ng': 'com edu gov mil net org sch',
        'ni': 'ac biz co com edu gob info mil net nom org', 'no': 'mil', 'nr': 'biz com edu gov info net org',
        'nz': 'ac co gen govt mil net org', 'om': 'co com edu gov net org', 'pa': 'ac com edu gob net nom org',
        'pe': 'com edu gob mil net nom org', 'pf': 'com edu org', 'ph': 'com edu gov mil net org',
        'pk': 'biz com edu gob gov info net org', 'pl': 'biz com edu gov info mil net nom org',
        'pn': 'co edu gov net org', 'pr': 'ac biz com edu gov info net org', 'ps': 'com edu gov net org',
        'pt': 'com edu gov net org', 'pw': 'co ed go ne or', 'py': 'com edu gov mil net org',
        'qa': 'com edu gov mil net org sch', 're': 'com nom', 'ro': 'com firm info nom org', 'rs': 'ac co edu gov org',
        'rw': 'ac co gov mil net org', 'sa': 'com edu gov net org sch', 'sb': 'com edu gov net org',
        'sc': 'com edu gov net org', 'sd': 'com edu gov info net org', 'se': 'ac org', 'sg': 'com edu gov net org',
        'sh': 'com gov mil net org', 'sl': 'com edu gov net org', 'sn': 'com edu gouv org',
        'so': 'com edu gov net org', 'ss': 'biz com edu gov net org sch', 'st': 'co com edu mil net org',
        'sv': 'com edu gob org', 'sx': 'gov', 'sy': 'com edu gov mil net org', 'sz': 'ac co org',
        'th': 'ac co go net or', 'tj': 'ac biz co com edu go gov mil net nic org', 'tl': 'gov',
        'tm': 'co com edu gov mil net nom org', 'tn': 'com gov ind info net org', 'to': 'com edu gov mil net org',
        'tr': 'biz com edu gen gov info mil net org', 'tt': 'biz co com edu gov info net org',
        'tw': 'com edu gov mil net org', 'tz': 'ac co go info mil ne or', 'ua': 'com edu gov net org',
        'ug': 'ac co com go ne or org', 'uk': 'ac co gov ltd me net nhs org plc police', 'us': 'co ne or',
        'uy': 'com edu mil net org', 'uz': 'co com net org', 'vc': 'com edu gov mil net org',
        've': 'co com edu firm gob gov info mil net nom org', 'vi': 'co com net org',
        'vn': 'ac biz com edu gov info net org', 'vu': 'com edu net org', 'ws': 'com edu gov net org',
        'ye': 'com edu gov mil net org', 'za': 'ac co edu gov mil net nic nom org',
        'zm': 'ac biz co com edu gov info mil net org sch', 'zw': 'ac co gov mil org'
    } -%}
    {%- set private = '
        myshopify.com github.io gitlab.io bitbucket.io herokuapp.com herokussl.com wixsite.com editorx.io
        framer.app framer.website carrd.co netlify.app vercel.app now.sh pages.dev workers.dev web.app
        firebaseapp.com appspot.com azurewebsites.net azurestaticapps.net cloudapp.net cloudfront.net
        elasticbeanstalk.com s3.amazonaws.com onrender.com fly.dev glitch.me repl.co pythonanywhere.com
        readthedocs.io ghost.io blogspot.com
        squarespace.com webflow.io wordpress.com weebly.com godaddysites.com business.site hs-sites.com
        notion.site gitbook.io substack.com tumblr.com jimdofree.com mystrikingly.com square.site
        my.canva.site amplifyapp.com
    '.split() -%}
    {%- set alternatives = [] -%}
    {%- for tld, labels in icann.items() -%}
        {%- do alternatives.append('(?:' ~ labels.split() | join('|') ~ ')\\.' ~ tld) -%}
    {%- endfor -%}
    {%- for suffix in private -%}
        {%- do alternatives.append(suffix | replace('.', '\\.')) -%}
    {%- endfor -%}
    {{- return('(?:' ~ alternatives | join('|') ~ ')') -}}
{%- endmacro %}

{#- True when the (normalized) domain is a platform's, whose pages are not a company's own site (seed platform_domains). -#}
{% macro is_platform_domain(domain_expression) -%}
    coalesce({{ domain_expression }} in (select domain from {{ ref('platform_domains') }}), false)
{%- endmacro %}

{#- The last `count` labels of a host ("a.b.acme.com", 2 -> "acme.com"); null when it has fewer. -#}
{% macro cg_last_labels(host, count) -%}
    {{ return(adapter.dispatch('cg_last_labels', 'common_ground')(host, count)) }}
{%- endmacro %}

{% macro duckdb__cg_last_labels(host, count) -%}
    nullif(regexp_extract({{ host }}, '{{ (['[^.]+'] * count) | join('\\.') }}$'), '')
{%- endmacro %}

{% macro postgres__cg_last_labels(host, count) -%}
    substring({{ host }} from '{{ (['[^.]+'] * count) | join('\\.') }}$')
{%- endmacro %}

{#-
    The registrable domains a host may have, as SQL expressions (its last two, three and four labels), longest
    first: an account's domain_key equal to one of them is the host's registrable domain, since a domain_key is
    never a public suffix nor a subdomain. Joined on these, a person's e-mail domain finds its account without
    normalize_domain's thousand-suffix expression, which costs about 6 µs a row (4 s for 657,000 e-mails).
-#}
{% macro cg_registrable_domain_candidates(host) -%}
    {{ return([cg_last_labels(host, 4), cg_last_labels(host, 3), cg_last_labels(host, 2)]) }}
{%- endmacro %}
