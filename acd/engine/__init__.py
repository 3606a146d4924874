"""ACD pure core: agent state machine, routing, queue model, wait estimate, simulation."""
