"""Readers: files and live sources into the typed models of :mod:`compliance.models.subject`."""
