"""Hardware facts as data (GPU models, MIG geometries), each with its source; no resources."""
