namespace Modal.Api.Contracts;

/// <summary>
/// The remote exception types (<see cref="Calls.CallErrorInfo.Type"/>) the platform itself reports, as opposed to the
/// .NET type of an exception a function threw.
/// </summary>
public static class RemoteErrorTypes
{
    /// <summary>An attempt ran past the function's timeout.</summary>
    public const string FunctionTimeout = "Modal.FunctionTimeoutException";

    /// <summary>The call was cancelled before it finished.</summary>
    public const string FunctionCallCancelled = "Modal.FunctionCallCancelled";

    /// <summary>The input could not be queued: the message broker did not confirm it.</summary>
    public const string QueueUnavailable = "Modal.QueueUnavailable";

    /// <summary>The app was stopped before the input ran.</summary>
    public const string AppStopped = "Modal.AppStopped";

    /// <summary>The container could not start or died while running the input.</summary>
    public const string ContainerCrashed = "Modal.ContainerCrashedException";

    /// <summary>The container was killed for exceeding its memory limit.</summary>
    public const string OutOfMemory = "Modal.OutOfMemory";

    /// <summary>A secret the function uses, or one of its required keys, is missing.</summary>
    public const string MissingSecret = "Modal.MissingSecretException";

    /// <summary>
    /// No runner seen in the last minute offers the GPU type the function asks for, nor any of its fallbacks; the
    /// message names the types asked for and those present.
    /// </summary>
    public const string GpuUnavailable = "Modal.GpuUnavailable";
}
