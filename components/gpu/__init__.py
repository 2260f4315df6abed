"""GPU node configuration: sharing models (time-slicing, MIG) and what they render to."""
