"""LinkedIn Marketing API connector: ad accounts, campaign groups, campaigns and daily campaign analytics."""
