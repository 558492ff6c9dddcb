{#-
    Every company record with the real-world company (account_id) identity resolution put it in:
    connected components over int_account_links_matched, so duplicates chain correctly
    (Salesforce duplicate - domain - HubSpot company - native id - ...). See cg_cluster_records
    for the stable-id rule and its limit.
-#}
{{ cg_cluster_records(ref('int_account_records_unioned'), ref('int_account_links_matched'), 'account') }}
