{{ config(
    materialized='incremental',
    incremental_strategy='cg_replace_scope',
    cg_scope_key='record_key',
    post_hook=["{{ cg_save_state(ref('int_person_links_matched'), 'int_person_records_clustered__links', sibling=this) }}"],
) }}
{#-
    Every person record with the real-world person (prospect_id) identity resolution put it in:
    connected components over int_person_links_matched. See cg_cluster_records for the stable-id
    rule and its limit. Incremental: a night clusters again only the people a changed record or link
    can reach (see cg_cluster_records); int_person_records_unioned keeps node_id per record, as that needs,
    and stamps the rows it writes (unioned_at), which tells the changed records.
-#}
{{ cg_cluster_records(ref('int_person_records_unioned'), ref('int_person_links_matched'), 'prospect',
                      links_state='int_person_records_clustered__links', written_at='unioned_at') }}
