"""Safe data: the catalogue, dataset versions and per-project extracts."""
