namespace Eddy.Cluster;

/// <summary>The controller could not take a change now: no leader, leadership moved, or it did not commit in time.
/// Kafka requests that change metadata answer it as NOT_CONTROLLER or REQUEST_TIMED_OUT; the client retries.</summary>
public sealed class ControllerUnavailableException(string message) : Exception(message);
