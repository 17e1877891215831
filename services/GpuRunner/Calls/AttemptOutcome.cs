namespace Modal.GpuRunner.Calls;

/// <summary>How an attempt of an input ended.</summary>
public enum AttemptEnd
{
    /// <summary>The function returned.</summary>
    Returned,

    /// <summary>The function threw, ran out of memory, or its container could not start: retried by the function's policy.</summary>
    Failed,

    /// <summary>The attempt ran past the function's timeout; its container was killed.</summary>
    TimedOut,

    /// <summary>The container died under the input.</summary>
    Crashed,

    /// <summary>The caller cancelled the call; nothing is reported.</summary>
    Cancelled,
}

/// <summary>What an attempt of an input came to, as <see cref="InputAttempts"/> found it.</summary>
public sealed record AttemptOutcome
{
    public required AttemptEnd End { get; init; }

    /// <summary>The result as JSON when it fits inline (<see cref="AttemptEnd.Returned"/>).</summary>
    public string? ResultJson { get; init; }

    /// <summary>The blob holding a result too large to travel inline.</summary>
    public string? ResultBlob { get; init; }

    /// <summary>The remote exception's type (<see cref="AttemptEnd.Failed"/>, <see cref="AttemptEnd.Crashed"/>).</summary>
    public string ExceptionType { get; init; } = "";

    public string Message { get; init; } = "";

    public string StackTrace { get; init; } = "";

    public static AttemptOutcome Cancelled { get; } = new() { End = AttemptEnd.Cancelled };

    public static AttemptOutcome TimedOut { get; } = new() { End = AttemptEnd.TimedOut };

    public static AttemptOutcome Failed(string type, string message, string? stackTrace = null) =>
        new() { End = AttemptEnd.Failed, ExceptionType = type, Message = message, StackTrace = stackTrace ?? "" };

    public static AttemptOutcome Crashed(string message) =>
        new() { End = AttemptEnd.Crashed, ExceptionType = ContainerCrashedRemoteType, Message = message };

    /// <summary>The remote type a caller sees for a container that crashed or could not start.</summary>
    public const string ContainerCrashedRemoteType = Modal.Api.Contracts.RemoteErrorTypes.ContainerCrashed;
}
