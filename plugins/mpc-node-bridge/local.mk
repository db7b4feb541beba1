# plugins/mpc-node-bridge: built by its own fragment.
