"""The embedded runtime: the pipeline ASL on moto's interpreter, an in-process Lambda endpoint, CLI glue."""
