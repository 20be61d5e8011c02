"""Plugins shipped inside envdrift-core. They register through entry points like any other."""
