"""One module per validated table; each exposes `expectations()` returning GX expectation objects."""
