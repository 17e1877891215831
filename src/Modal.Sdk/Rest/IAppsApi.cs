using System.Text.Json;
using Refit;

namespace Modal.Rest;

/// <summary>Body of an app deployment: the functions as <see cref="App.Describe"/> lists them.</summary>
/// <param name="Functions">The app's functions.</param>
/// <param name="Ephemeral">True for an app that lives only while its <c>modal run</c> does.</param>
/// <param name="BundleId">The uploaded code (<see cref="Bundle.Id"/>); without it the app is registered but cannot run.</param>
public sealed record DeployAppRequest(IReadOnlyList<FunctionManifest> Functions, bool Ephemeral = false, string? BundleId = null);

/// <summary>A deployed function.</summary>
/// <param name="Id">Stable id (kept across deploys).</param>
/// <param name="App">The app's name.</param>
/// <param name="Name">The function's name.</param>
/// <param name="Parameters">Its parameters.</param>
/// <param name="ResultType">.NET name of its result type.</param>
public sealed record DeployedFunctionInfo(Guid Id, string App, string Name, IReadOnlyList<ParameterManifest> Parameters, string ResultType);

/// <summary>A deployed app.</summary>
/// <param name="Id">The app's id.</param>
/// <param name="Name">The app's name.</param>
/// <param name="State">Deployed, Ephemeral or Stopped.</param>
/// <param name="BundleId">The code it runs, if any.</param>
/// <param name="UpdatedAt">Last deployment.</param>
/// <param name="Functions">Its functions.</param>
public sealed record DeployedAppInfo(
    Guid Id, string Name, string State, string? BundleId, DateTimeOffset UpdatedAt, IReadOnlyList<DeployedFunctionInfo> Functions);

/// <summary>Body of a call: arguments keyed by parameter name, inline, or as a blob when over 2 MiB.</summary>
/// <param name="Arguments">A JSON object (null when <paramref name="ArgumentsBlob"/> is given).</param>
/// <param name="ArgumentsBlob">SHA-256 of an uploaded blob holding the arguments' JSON object.</param>
public sealed record CreateCallRequest(JsonElement? Arguments, string? ArgumentsBlob = null);

/// <summary>The id of a new call.</summary>
/// <param name="FunctionCallId">Use it with <see cref="IAppsApi.GetCallAsync"/>.</param>
public sealed record CreatedCall(string FunctionCallId);

/// <summary>The error of a failed call.</summary>
/// <param name="Type">Full name of the remote exception type.</param>
/// <param name="Message">The remote message.</param>
/// <param name="StackTrace">The remote stack trace.</param>
public sealed record CallErrorInfo(string Type, string Message, string? StackTrace);

/// <summary>A call's state and, once finished, its result or error.</summary>
/// <param name="FunctionCallId">The call id.</param>
/// <param name="State">Queued, Running, Succeeded, Failed, TimedOut or Cancelled.</param>
/// <param name="Result">The result as JSON, once Succeeded.</param>
/// <param name="Error">The error, once Failed, TimedOut or Cancelled.</param>
/// <param name="ResultBlob">When the result is over 2 MiB: the blob holding its JSON (see <see cref="IBlobsApi.GetAsync"/>).</param>
public sealed record CallInfo(string FunctionCallId, string State, JsonElement? Result, CallErrorInfo? Error, string? ResultBlob = null)
{
    /// <summary>Whether the call has finished one way or another.</summary>
    public bool IsFinished => State is "Succeeded" or "Failed" or "TimedOut" or "Cancelled";
}

/// <summary>Changes of a function's autoscaler bounds, lasting until the app is deployed again; a null field keeps its value.</summary>
/// <param name="MinContainers">Containers kept running even with no work.</param>
/// <param name="MaxContainers">Cap on containers.</param>
/// <param name="BufferContainers">Extra idle containers kept while the function has work.</param>
/// <param name="ScaledownWindowSeconds">Idle time before a container stops (2 to 1,200 s).</param>
public sealed record UpdateAutoscalerRequest(int? MinContainers = null, int? MaxContainers = null, int? BufferContainers = null, double? ScaledownWindowSeconds = null);

/// <summary>A function's load and autoscaler bounds now (for a class's method: its class's containers).</summary>
/// <param name="Backlog">Inputs waiting for a container.</param>
/// <param name="RunningInputs">Inputs running in containers (as of the runners' last heartbeats, about a second old).</param>
/// <param name="Containers">Containers starting or running.</param>
/// <param name="MinContainers">Containers kept running even with no work.</param>
/// <param name="MaxContainers">Cap on containers; null for none.</param>
/// <param name="BufferContainers">Extra idle containers kept while the function has work.</param>
/// <param name="ScaledownWindowSeconds">Idle time before a container stops.</param>
public sealed record FunctionStats(
    int Backlog, int RunningInputs, int Containers, int MinContainers, int? MaxContainers, int BufferContainers, double ScaledownWindowSeconds);

/// <summary>Low-level REST client for apps, functions and calls (<c>/v1/apps</c>, <c>/v1/calls</c>).</summary>
public interface IAppsApi
{
    /// <summary>Creates or updates an app with exactly these functions.</summary>
    /// <param name="name">The app's name.</param>
    /// <param name="request">Its functions.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/apps/{name}")]
    Task<DeployedAppInfo> DeployAsync(string name, [Body] DeployAppRequest request, CancellationToken cancellationToken = default);

    /// <summary>Gets a deployed app.</summary>
    /// <param name="name">The app's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{name}")]
    Task<DeployedAppInfo> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Stops an app: its functions cannot be called until it is deployed again.</summary>
    /// <param name="name">The app's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/apps/{name}")]
    Task<DeployedAppInfo> StopAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// What the app's functions printed, across calls, after position <paramref name="after"/> (null: the oldest kept);
    /// with <paramref name="timeout"/> (seconds, at most 50) waits that long for a first line. Follow a log by asking
    /// again after <see cref="AppLogs.Next"/>.
    /// </summary>
    /// <param name="name">The app's name.</param>
    /// <param name="after">The previous page's <see cref="AppLogs.Next"/>.</param>
    /// <param name="timeout">Seconds to wait for a line.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{name}/logs")]
    Task<AppLogs> GetLogsAsync(string name, [Query] string? after = null, [Query] double timeout = 0, CancellationToken cancellationToken = default);

    /// <summary>Gets one function of a deployed app.</summary>
    /// <param name="app">The app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}/functions/{function}")]
    Task<DeployedFunctionInfo> GetFunctionAsync(string app, string function, CancellationToken cancellationToken = default);

    /// <summary>A function's backlog, containers and running inputs, from the Scheduler.</summary>
    /// <param name="app">The app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}/functions/{function}/stats")]
    Task<FunctionStats> GetFunctionStatsAsync(string app, string function, CancellationToken cancellationToken = default);

    /// <summary>Changes a function's autoscaler bounds until the app is deployed again; answers its stats with the new bounds.</summary>
    /// <param name="app">The app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="request">The bounds to change.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/apps/{app}/functions/{function}/autoscaler")]
    Task<FunctionStats> UpdateAutoscalerAsync(string app, string function, [Body] UpdateAutoscalerRequest request, CancellationToken cancellationToken = default);

    /// <summary>Queues one call of a function.</summary>
    /// <param name="app">The app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="request">The arguments.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/apps/{app}/functions/{function}/calls")]
    Task<CreatedCall> CreateCallAsync(string app, string function, [Body] CreateCallRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Calls a function and waits up to <paramref name="wait"/> seconds (at most 50) for it to finish: the answer is
    /// the finished call, or, if it still runs, its id and state (then wait with <see cref="GetCallAsync"/>).
    /// </summary>
    /// <param name="app">The app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="request">The arguments.</param>
    /// <param name="wait">Seconds to wait for the result.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/apps/{app}/functions/{function}/calls")]
    Task<CallInfo> CallAsync(string app, string function, [Body] CreateCallRequest request, [Query] double wait, CancellationToken cancellationToken = default);

    /// <summary>A call's state, waiting up to <paramref name="timeout"/> seconds (0-50) for it to finish.</summary>
    /// <param name="id">The call id.</param>
    /// <param name="timeout">Seconds to wait; 0 looks once.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/calls/{id}")]
    Task<CallInfo> GetCallAsync(string id, [Query] double timeout = 0, CancellationToken cancellationToken = default);

    /// <summary>Cancels a call that has not finished.</summary>
    /// <param name="id">The call id.</param>
    /// <param name="terminateContainers">Also stop the container running it (not only signal the function).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/calls/{id}")]
    Task<CallInfo> CancelCallAsync(string id, [Query] bool terminateContainers = false, CancellationToken cancellationToken = default);

    /// <summary>A page of the lines a call printed (every attempt, stdout and stderr, in order).</summary>
    /// <param name="id">The call id.</param>
    /// <param name="from">Index of the first line wanted (the previous page's <see cref="CallLogs.Next"/>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/calls/{id}/logs")]
    Task<CallLogs> GetCallLogsAsync(string id, [Query] long from = 0, CancellationToken cancellationToken = default);
}

/// <summary>A page of a call's log.</summary>
/// <param name="FunctionCallId">The call id.</param>
/// <param name="Lines">The lines from the asked position on.</param>
/// <param name="Next">Where the next page starts.</param>
public sealed record CallLogs(string FunctionCallId, IReadOnlyList<CallLogLine> Lines, long Next);

/// <summary>One line a call printed.</summary>
/// <param name="Attempt">The attempt that printed it (1 for the first).</param>
/// <param name="Stream"><c>stdout</c> or <c>stderr</c>.</param>
/// <param name="Text">The line, without its line break.</param>
/// <param name="At">When the runner received it.</param>
public sealed record CallLogLine(int Attempt, string Stream, string Text, DateTimeOffset At);

/// <summary>A page of an app's log.</summary>
/// <param name="App">The app's name.</param>
/// <param name="Lines">Lines after the asked position, oldest first.</param>
/// <param name="Next">Where the next page starts (null when the log is empty).</param>
public sealed record AppLogs(string App, IReadOnlyList<AppLogLine> Lines, string? Next);

/// <summary>One line an app's function printed.</summary>
/// <param name="Id">Its position in the app's log.</param>
/// <param name="Function">The function that printed it.</param>
/// <param name="FunctionCallId">The call it belongs to.</param>
/// <param name="Attempt">The attempt of that call.</param>
/// <param name="Stream"><c>stdout</c> or <c>stderr</c>.</param>
/// <param name="Text">The line.</param>
/// <param name="At">When the runner received it.</param>
public sealed record AppLogLine(string Id, string Function, string FunctionCallId, int Attempt, string Stream, string Text, DateTimeOffset At);
