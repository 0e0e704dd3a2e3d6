"""Programs the fuzzers once got wrong, as fixed tests (tests/fuzz/ finds them)."""
