# contrib: systemd unit, container files, alert rules, dashboard, example plugin, clients.
