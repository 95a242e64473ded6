"""Domain: pydantic models, errors and pure stage logic (no boto3, no moto, no torch)."""
