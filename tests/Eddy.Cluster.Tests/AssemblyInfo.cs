// Each scenario runs several eddy processes; side by side they would starve each other on a small machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
