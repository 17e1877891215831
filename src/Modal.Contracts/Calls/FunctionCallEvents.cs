namespace Modal.Contracts.Calls;

// Every transition of a call is an event on the bus (dashboards, tracing, the CLI and later schedulers listen).
// The Api records the first terminal event per call and ignores the rest.

/// <summary>The Api accepted a call and sent its input to the function's queue.</summary>
public sealed record FunctionCallQueued
{
    public required string FunctionCallId { get; init; }
    public required Guid FunctionId { get; init; }
    public required Guid WorkspaceId { get; init; }
    public required DateTimeOffset QueuedAt { get; init; }

    /// <summary>What made the call: "api", "web" or "schedule".</summary>
    public string Origin { get; init; } = "api";
}

/// <summary>A container began running an attempt of the call.</summary>
public sealed record FunctionCallStarted
{
    public required string FunctionCallId { get; init; }
    public required int Attempt { get; init; }
    public required string RunnerId { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
}

/// <summary>The call returned a result.</summary>
public sealed record FunctionCallSucceeded
{
    public required string FunctionCallId { get; init; }
    public required int Attempt { get; init; }

    /// <summary>The result as JSON (<c>null</c> for functions without a result); empty when <see cref="ResultBlob"/> is set.</summary>
    public required string ResultJson { get; init; }

    /// <summary>SHA-256 of a Storage blob holding the result's JSON, for results over 2 MiB; null when inline.</summary>
    public string? ResultBlob { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }
}

/// <summary>An attempt threw. <see cref="WillRetry"/> says whether the retry policy tries again.</summary>
public sealed record FunctionCallFailed
{
    public required string FunctionCallId { get; init; }
    public required int Attempt { get; init; }

    /// <summary>Full name of the remote exception type.</summary>
    public required string ExceptionType { get; init; }

    public required string Message { get; init; }

    /// <summary>The remote stack trace, for the caller's exception.</summary>
    public required string StackTrace { get; init; }

    public required bool WillRetry { get; init; }

    public required DateTimeOffset FailedAt { get; init; }
}

/// <summary>An attempt ran past the function's timeout; its container was killed.</summary>
public sealed record FunctionCallTimedOut
{
    public required string FunctionCallId { get; init; }
    public required int Attempt { get; init; }
    public required TimeSpan Timeout { get; init; }
    public required bool WillRetry { get; init; }
    public required DateTimeOffset TimedOutAt { get; init; }
}

/// <summary>The caller cancelled the call. A runner running it tells the function (and kills its container if asked).</summary>
public sealed record FunctionCallCancelled
{
    public required string FunctionCallId { get; init; }
    public required DateTimeOffset CancelledAt { get; init; }

    /// <summary>Also stop the container running the input, as Modal's <c>cancel(terminate_containers=True)</c>.</summary>
    public bool TerminateContainers { get; init; }
}

/// <summary>Lines an attempt of the call printed (stdout and stderr), in order, sent in batches while it runs.</summary>
public sealed record FunctionCallLogged
{
    public required string FunctionCallId { get; init; }
    public required int Attempt { get; init; }
    public required IReadOnlyList<LogLine> Lines { get; init; }

    /// <summary>The app the call belongs to, so its logs can also be followed per app (<c>modal app logs</c>).</summary>
    public Guid? AppId { get; init; }

    /// <summary>The function that printed the lines.</summary>
    public string? FunctionName { get; init; }
}

/// <summary>One printed line.</summary>
public sealed record LogLine
{
    /// <summary><c>stdout</c> or <c>stderr</c>.</summary>
    public required string Stream { get; init; }
    public required string Text { get; init; }
    public required DateTimeOffset At { get; init; }
}
