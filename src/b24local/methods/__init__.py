"""REST methods: the registry, the dispatcher and one module per method family."""
