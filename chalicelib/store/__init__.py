"""Data access: one module per aggregate, holding every DynamoDB expression for it."""
