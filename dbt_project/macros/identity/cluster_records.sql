{#-
    The body of an int_<entity>_records_clustered model: every record of `records` (record_key,
    node_id, source_system, source_record_id, created_at) with the cluster the match edges of
    `links` (record_key_a, record_key_b, match_rule, match_confidence) put it in, and:

    - entity_id: stable surrogate key of the cluster = surrogate_key(`id_prefix`, source_system,
      source_record_id) of its earliest-created member (ties: source system, then id). A cluster
      keeps its id from night to night as long as its oldest member stays in it; it changes only
      when an older record joins it (two clusters merge: the younger one's id disappears) or
      when the oldest member is split off.
    - match_rule / match_confidence / matched_record_key: the strongest link that ties this record
      to its cluster (single_record, 1.0 for a record alone).
    - cluster_match_rule / cluster_match_confidence: the weakest link inside the cluster, i.e. how
      much to trust the cluster as a whole.
    - clustered_at: when the row was last written (the start of that dbt run); a model reading the
      clusters incrementally takes the rows written since its own last build.

    Incremental (a model materialized incremental with strategy cg_replace_scope, cg_scope_key record_key,
    and `links_state` naming the table its post-hook cg_save_state keeps the links of the last build in):
    only the clusters a change can reach are clustered again. The seeds are the records new, changed or gone
    since the last build and both ends of every link added or removed since; the scope is the seeds and every
    record of a stored cluster that holds one. A link of the current graph between a record in the scope and
    one outside cannot exist (it is either new, so both ends are seeds, or old, so both ends were in one
    stored cluster), so the components of the scope are the components of the whole graph there, and every
    other stored row stays right as it is. This needs node_id kept per record from build to build (cluster_id
    is the smallest node_id of a cluster); a table without the links state, or lacking a column of `records`,
    is clustered whole. With `written_at`, a column of `records` saying when its row was last written, the records
    changed since the last build are those written since the newest stored `written_at` (the rows carry it);
    without it, every column of every record is compared with the stored row.
-#}
{% macro cg_cluster_records(records, links, id_prefix, links_state=none, written_at=none) -%}
{#- the oldest member first (ties: source system, id); a record's strongest link first (ties: rule, other record) -#}
{%- set member_order = ["coalesce(" ~ cg_epoch('created_at') ~ ", 1e12)", 'source_system', 'source_record_id'] -%}
{%- set strongest_order = ['-1 * match_confidence', 'match_rule', 'other_record_key'] -%}
{%- set link_columns = 'record_key_a, record_key_b, match_rule, match_confidence' -%}
{#- clustering carries these columns only; the record's other columns join once, in `final` (carrying all 43 of a
    person record through the passes took over 2 GB at scale M) -#}
{%- set member_columns = 'record_key, node_id, source_system, source_record_id, created_at' -%}
{%- set incremental = is_incremental() and links_state is not none -%}
{%- if incremental and execute -%}
    {%- set saved_links = cg_state_relation(this, links_state) -%}
    {%- set record_columns = adapter.get_columns_in_relation(records) | map(attribute='name') | map('lower') | list -%}
    {%- set stored_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- set whole = saved_links is none or (record_columns | reject('in', stored_columns) | list) -%}
    {%- set stamped = written_at is not none and written_at in record_columns -%}
    {%- set quoted = [] -%}
    {%- for column in record_columns -%}{%- do quoted.append(adapter.quote(column)) -%}{%- endfor -%}
    {%- set compared = quoted | join(', ') -%}
{%- endif %}
with
{%- if incremental %}

{# records new or changed since the last build (written since, or else any column differs: the rows carry them all),
   and records gone -#}
changed_records as (
    {%- if whole %}
    select record_key from {{ records }}
    {%- elif stamped %}
    select record_key from {{ records }}
    where not coalesce({{ written_at }} <= (select max({{ written_at }}) from {{ this }}), false)
    {%- else %}
    select record_key from (
        select {{ compared }} from {{ records }}
        except
        select {{ compared }} from {{ this }}
    ) as new_or_changed
    {%- endif %}
    union
    select stored.record_key from {{ this }} as stored
    left join {{ records }} as current_records on current_records.record_key = stored.record_key
    where current_records.record_key is null
),

{#- links added or removed since the last build -#}
changed_links as (
    {%- if whole %}
    select {{ link_columns }} from {{ links }} where false
    {%- else %}
    select * from (select {{ link_columns }} from {{ links }} except select {{ link_columns }} from {{ saved_links }}) as added
    union all
    select * from (select {{ link_columns }} from {{ saved_links }} except select {{ link_columns }} from {{ links }}) as removed
    {%- endif %}
),

seeds as (
    select record_key from changed_records
    union
    select record_key_a from changed_links
    union
    select record_key_b from changed_links
),

{#- the seeds and every record of a stored cluster holding one: whole components of the new graph -#}
scope as materialized (
    select record_key from seeds
    union
    select stored.record_key from {{ this }} as stored
    where stored.cluster_id in (
        select seeded.cluster_id from {{ this }} as seeded inner join seeds on seeds.record_key = seeded.record_key
    )
),

records as materialized (
    select {{ member_columns }} from {{ records }} where record_key in (select record_key from scope)
),

links as materialized (
    select * from {{ links }}
    where record_key_a in (select record_key from scope) and record_key_b in (select record_key from scope)
),
{%- else %}

records as materialized (
    select {{ member_columns }} from {{ records }}
),

links as (
    select * from {{ links }}
),
{%- endif %}

{{ connected_components_ctes(
    'select node_id from records',
    'select record_a.node_id as node_a, record_b.node_id as node_b from links as link'
        ~ ' inner join records as record_a on record_a.record_key = link.record_key_a'
        ~ ' inner join records as record_b on record_b.record_key = link.record_key_b',
    prefix='cc') }},

clustered as materialized (
    select records.*, cc_labels.component_id as cluster_id
    from records
    inner join cc_labels on cc_labels.node_id = records.node_id
),

representatives as (
    select
        cluster_id,
        {{ cg_first_by('source_system', member_order) }} as representative_source_system,
        {{ cg_first_by('source_record_id', member_order) }} as representative_source_record_id,
        count(*) as cluster_size
    from clustered
    group by cluster_id
),

incident_links as (
    select record_key_a as record_key, record_key_b as other_record_key, match_rule, match_confidence from links
    union all
    select record_key_b as record_key, record_key_a as other_record_key, match_rule, match_confidence from links
),

strongest_link as (
    select
        record_key,
        {{ cg_first_by('other_record_key', strongest_order) }} as other_record_key,
        {{ cg_first_by('match_rule', strongest_order) }} as match_rule,
        max(match_confidence) as match_confidence
    from incident_links
    group by record_key
),

weakest_link as (
    select
        clustered.cluster_id,
        {{ cg_first_by('links.match_rule', ['links.match_confidence', 'links.match_rule']) }} as match_rule,
        min(links.match_confidence) as match_confidence
    from links
    inner join clustered on clustered.record_key = links.record_key_a
    group by clustered.cluster_id
),

{#- the cluster facts of each record, narrow; the record's own columns join them last (joined with four tables
    at once, they took over 2 GB at scale M) -#}
cluster_facts as materialized (
    select
        clustered.record_key,
        {{ surrogate_key(["'" ~ id_prefix ~ "'", 'representatives.representative_source_system',
                          'representatives.representative_source_record_id']) }} as entity_id,
        clustered.cluster_id,
        coalesce(strongest_link.match_rule, 'single_record') as match_rule,
        cast(coalesce(strongest_link.match_confidence, 1.0) as numeric(4, 3)) as match_confidence,
        strongest_link.other_record_key as matched_record_key,
        coalesce(weakest_link.match_rule, 'single_record') as cluster_match_rule,
        cast(coalesce(weakest_link.match_confidence, 1.0) as numeric(4, 3)) as cluster_match_confidence,
        representatives.cluster_size
    from clustered
    inner join representatives on representatives.cluster_id = clustered.cluster_id
    left join strongest_link on strongest_link.record_key = clustered.record_key
    left join weakest_link on weakest_link.cluster_id = clustered.cluster_id
),

final as (
    select
        cluster_facts.entity_id,
        record_columns.*,
        cluster_facts.cluster_id,
        cluster_facts.match_rule,
        cluster_facts.match_confidence,
        cluster_facts.matched_record_key,
        cluster_facts.cluster_match_rule,
        cluster_facts.cluster_match_confidence,
        cluster_facts.cluster_size,
        cast('{{ run_started_at }}' as timestamp with time zone) as clustered_at
    from {{ records }} as record_columns
    inner join cluster_facts on cluster_facts.record_key = record_columns.record_key
)
{%- if incremental %}

{#- a record in the scope and gone gets a tombstone (cg_replace_scope) -#}
select final.*, scope.record_key as cg_scope_key
from scope
left join final on final.record_key = scope.record_key
{%- else %}

select * from final
{%- endif %}
{%- endmacro %}
