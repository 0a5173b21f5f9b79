"""The service's adapters to AWS and the network: queues, the Scheduler, secrets, the pinned HTTP client."""
