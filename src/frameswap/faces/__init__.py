"""Faces: records, analyzers, tracking, index selection and blending."""
