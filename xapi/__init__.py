"""xAPI: the statement vocabulary, the embedded Learning Record Store, forwarding."""
