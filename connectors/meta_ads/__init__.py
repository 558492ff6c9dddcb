"""Meta Marketing API connector: ad accounts, campaigns, ad sets and their daily insights."""
