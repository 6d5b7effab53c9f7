"""Local durable state under EIGHTFLOW_HOME: the response cache and the run ledger."""
