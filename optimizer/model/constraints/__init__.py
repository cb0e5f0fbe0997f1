"""Constraint families, one module per group, one function per family."""
