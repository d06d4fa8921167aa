"""`make demo`: the platform end to end against the local AWS emulator (see demo/run.py)."""
