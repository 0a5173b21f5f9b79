"""The queue consumers and the sweeper: one module per box of the flow diagram."""
