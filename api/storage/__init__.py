"""Persistence: engines and migrations, tables, queries."""
