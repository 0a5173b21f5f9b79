"""Phone providers: each places a call and later reports through the provider-events queue."""
