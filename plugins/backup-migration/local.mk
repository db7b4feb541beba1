# plugins/backup-migration: built by its own fragment.
