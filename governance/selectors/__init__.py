"""Control-plane reads that are more than a queryset, one module per area."""
