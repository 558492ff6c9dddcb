"""Suites as code.

Marts: one module per table with ``TABLE``, ``KEY``, ``expectations()`` (structural, blocking) and
``health()`` (distributional, warn). Raw tables: one module per source with one health function per
table; their blocking part is the loader's guarantee, ``common.loaded(key)``. ``expectations.registry``
binds them to tables.
"""
