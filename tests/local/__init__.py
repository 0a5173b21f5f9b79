"""Tests of the local stack's runtime itself (emulator, bootstrap, runners, API server, stack)."""
