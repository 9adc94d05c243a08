"""tritongrad benchmarks and the ahead-of-time kernel report (``python -m benchmarks``)."""
