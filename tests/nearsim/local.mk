# nearsim: the chain simulator.
