namespace Modal;

/// <summary>Base of the exceptions a remote call throws.</summary>
public class ModalException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModalException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    public ModalException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public ModalException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

/// <summary>The remote function threw. Carries the remote exception's type, message and stack trace.</summary>
public sealed class RemoteFunctionException : ModalException
{
    /// <summary>Creates the exception from what the container reported.</summary>
    /// <param name="functionCallId">The failed call.</param>
    /// <param name="remoteType">Full name of the remote exception type.</param>
    /// <param name="remoteMessage">The remote message.</param>
    /// <param name="remoteStackTrace">The remote stack trace.</param>
    public RemoteFunctionException(string functionCallId, string remoteType, string remoteMessage, string? remoteStackTrace)
        : base($"{remoteType}: {remoteMessage}")
    {
        FunctionCallId = functionCallId;
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>The failed call.</summary>
    public string FunctionCallId { get; }

    /// <summary>Full name of the remote exception type, e.g. <c>System.InvalidOperationException</c>.</summary>
    public string RemoteType { get; }

    /// <summary>The remote exception's message.</summary>
    public string RemoteMessage { get; }

    /// <summary>Where the remote exception was thrown, as the container saw it.</summary>
    public string? RemoteStackTrace { get; }

    /// <inheritdoc/>
    public override string? StackTrace =>
        RemoteStackTrace is null ? base.StackTrace : $"{RemoteStackTrace}{Environment.NewLine}--- remote call ---{Environment.NewLine}{base.StackTrace}";
}

/// <summary>The remote function ran past its timeout (on its last attempt).</summary>
public sealed class FunctionTimeoutException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="functionCallId">The call that timed out.</param>
    /// <param name="message">What the platform reported.</param>
    public FunctionTimeoutException(string functionCallId, string message) : base(message) => FunctionCallId = functionCallId;

    /// <summary>The call that timed out.</summary>
    public string FunctionCallId { get; }
}

/// <summary>The call was cancelled before it finished.</summary>
public sealed class FunctionCallCancelledException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="functionCallId">The cancelled call.</param>
    public FunctionCallCancelledException(string functionCallId) : base($"Call '{functionCallId}' was cancelled.") =>
        FunctionCallId = functionCallId;

    /// <summary>The cancelled call.</summary>
    public string FunctionCallId { get; }
}
