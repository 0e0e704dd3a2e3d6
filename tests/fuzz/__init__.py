"""One fuzzing harness: random programs checked against central differences (see README.md)."""
