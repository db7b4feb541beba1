# plugins/prometheus-monitor: built by its own fragment.
