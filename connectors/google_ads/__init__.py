"""Google Ads connector: customers, campaigns, ad groups and their daily metrics through GAQL."""
