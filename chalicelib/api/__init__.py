"""HTTP edge: parse requests into models, call one use case, map typed errors to responses."""
