//! Shared loading of benchmark inputs (the files `../shared/bench-data/gen_routing.py` writes).
