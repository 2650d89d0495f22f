"""Data files of the matching package (shipped as package data)."""
