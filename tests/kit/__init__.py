"""The test kit (``tests/kit``, imported as ``kit`` through pytest's ``pythonpath``): fakes, synthetic
ONNX models with the real contracts, media builders and the server test kit. It lives outside the
package so the wheel never holds code that imports insightface or builds ONNX graphs; the
benchmark harness (``benchmarks/fsbench``) borrows its synthetic inswapper too."""
