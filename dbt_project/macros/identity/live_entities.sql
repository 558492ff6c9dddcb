{#-
    A filter on the records of `clustered` (an int_<entity>_records_clustered model): the records of a live
    company or person, one with a record not deleted (the marts' is_deleted is the opposite: every record
    deleted). A record linked to a deleted company or person, as a contact or deal still naming a GDPR-deleted
    company, gets no account or person from that link.
-#}
{% macro cg_of_live_entity(clustered) -%}
    entity_id in (
        select entity_id
        from {{ clustered }}
        group by entity_id
        having min(case when is_deleted then 1 else 0 end) = 0
    )
{%- endmacro %}
