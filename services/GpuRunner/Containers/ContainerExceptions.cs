namespace Modal.GpuRunner.Containers;

/// <summary>A GPU the Scheduler chose for a container is held by another one here (or does not exist).</summary>
public sealed class GpusTakenException(string message) : Exception(message);

/// <summary>The container an input was given could not start; <see cref="Exception.InnerException"/> says why.</summary>
public sealed class ContainerStartException(Exception cause) : Exception(cause.Message, cause);

/// <summary>The app of a container the Scheduler placed here has stopped: the container is not started.</summary>
public sealed class AppStoppedException(string message) : Exception(message);
