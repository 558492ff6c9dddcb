"""API clients for every source. Plain Python with `requests`: no Dagster, no warehouse.

Each source package declares its streams as data (`streams.py`) and has a client that
yields pages of raw records; `connectors.schema` turns a page into an Arrow table typed by
the stream's declared schema.
"""
