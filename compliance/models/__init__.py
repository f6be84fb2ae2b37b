"""Typed models of everything the tool reads and writes (pydantic v2)."""
