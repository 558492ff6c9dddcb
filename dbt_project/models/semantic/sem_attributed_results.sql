{{ config(materialized='table', schema='semantic') }}
{#-
    The default attribution model's results with every deal in full (macro cg_default_attribution_results): the
    credited touches of each deal, and the deals no touch led to under channel 'unattributed'. Read by the semantic
    model attributed_results (so shared_metrics_daily); channel_performance_monthly runs the same macro.
-#}
{{ cg_default_attribution_results() }}
