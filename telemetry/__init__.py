"""What operators watch: Prometheus metrics (``telemetry.metrics``, served per process by
``telemetry.exposition``) and the log format (``telemetry.logs``)."""
