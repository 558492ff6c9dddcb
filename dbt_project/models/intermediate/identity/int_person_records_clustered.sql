{#-
    Every person record with the real-world person (prospect_id) identity resolution put it in:
    connected components over int_person_links_matched. See cg_cluster_records for the stable-id
    rule and its limit.
-#}
{{ cg_cluster_records(ref('int_person_records_unioned'), ref('int_person_links_matched'), 'prospect') }}
