{#-
    Fails with every position-based credit that breaks 40/20/40: one touch gets 1, two get 0.5 each, with
    three or more the first and last get 0.4 and the middle ones share 0.2; first_touch and last_touch
    credit exactly one touch (the first / the last) with 1.
-#}
select opportunity_id, touchpoint_id, attribution_model, touch_position, touch_count, credit
from {{ ref('attribution') }}
where (
        attribution_model = 'position_based'
        and abs(credit - case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            when touch_position = 1 or touch_position = touch_count then 0.4
            else 0.2 / (touch_count - 2)
        end) > 0.000001
    )
    or (attribution_model = 'first_touch' and (touch_position <> 1 or credit <> 1))
    or (attribution_model = 'last_touch' and (touch_position <> touch_count or credit <> 1))
