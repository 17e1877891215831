namespace Modal.Api.Contracts.Apps;

/// <summary>Body of an app deployment (<c>PUT /v1/apps/{name}</c>): the functions as the app describes them (<c>--modal-describe</c>).</summary>
/// <param name="Functions">The app's functions.</param>
/// <param name="Ephemeral">True for an app that lives only while its <c>modal run</c> does.</param>
/// <param name="BundleId">The uploaded code (the SHA-256 of its manifest blob); without it the app is registered but cannot run.</param>
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
/// <param name="Functions">Its functions, by name.</param>
public sealed record DeployedAppInfo(
    Guid Id, string Name, string State, string? BundleId, DateTimeOffset UpdatedAt, IReadOnlyList<DeployedFunctionInfo> Functions);

/// <summary>A page of an app's log: its lines, and the position to ask after for the next ones.</summary>
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

/// <summary>Changes of a function's autoscaler bounds, lasting until the app is deployed again; a null field keeps its value.</summary>
/// <param name="MinContainers">Containers kept running even with no work.</param>
/// <param name="MaxContainers">Cap on containers.</param>
/// <param name="BufferContainers">Extra idle containers kept while the function has work.</param>
/// <param name="ScaledownWindowSeconds">Idle time before a container stops (2 to 1,200 s).</param>
public sealed record UpdateAutoscalerRequest(int? MinContainers = null, int? MaxContainers = null, int? BufferContainers = null, double? ScaledownWindowSeconds = null);

/// <summary>A function's load and autoscaler bounds now, as the Scheduler sees them (for a class's method: its class's containers).</summary>
/// <param name="Backlog">Inputs waiting for a container.</param>
/// <param name="RunningInputs">Inputs running in containers (as of the runners' last heartbeats, about a second old).</param>
/// <param name="Containers">Containers starting or running.</param>
/// <param name="MinContainers">Containers kept running even with no work.</param>
/// <param name="MaxContainers">Cap on containers; null for none.</param>
/// <param name="BufferContainers">Extra idle containers kept while the function has work.</param>
/// <param name="ScaledownWindowSeconds">Idle time before a container stops.</param>
public sealed record FunctionStats(
    int Backlog, int RunningInputs, int Containers, int MinContainers, int? MaxContainers, int BufferContainers, double ScaledownWindowSeconds);
