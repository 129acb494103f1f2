"""Helpers for tests and benchmarks: synthetic ONNX models with the real contracts, media fixtures."""
