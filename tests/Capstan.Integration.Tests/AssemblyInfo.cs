// Real processes compete for two cores: run the integration tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
