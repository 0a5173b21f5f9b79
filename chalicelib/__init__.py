"""The batch-calling service: everything app.py wires to."""
