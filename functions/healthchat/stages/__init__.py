"""Stage logic: one module per pipeline stage, over ports (no boto3 here)."""
