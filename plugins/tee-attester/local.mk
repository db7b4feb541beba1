# plugins/tee-attester: built by its own fragment.
