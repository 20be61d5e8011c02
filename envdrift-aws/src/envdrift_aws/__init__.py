"""Placeholder: the backend lands with its issue."""
