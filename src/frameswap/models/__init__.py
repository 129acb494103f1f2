"""Model files: registry, store (paths, downloads), ONNX sessions, one small class per model."""
