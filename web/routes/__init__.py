"""Route tables, one module per area."""
