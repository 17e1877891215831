namespace Modal.Api.Contracts.Apps;

/// <summary>
/// Body of an app deployment (<c>PUT /v1/apps/{name}</c>): the functions as the app describes them (<c>--modal-describe</c>).
/// It updates the workspace's running deployed app of that name, or makes a new one.
/// </summary>
/// <param name="Functions">The app's functions.</param>
/// <param name="BundleId">The uploaded code (the SHA-256 of its manifest blob); without it the app is registered but cannot run.</param>
public sealed record DeployAppRequest(IReadOnlyList<FunctionManifest> Functions, string? BundleId = null);

/// <summary>
/// Body of <c>POST /v1/apps</c>: a new ephemeral app, what <c>modal run</c> makes. It is an app of its own, with an id
/// of its own, even beside a deployed app of the same name, and is reached by that id only.
/// </summary>
/// <param name="Name">The app's name.</param>
/// <param name="Functions">The app's functions.</param>
/// <param name="BundleId">The uploaded code (the SHA-256 of its manifest blob).</param>
public sealed record CreateAppRequest(string Name, IReadOnlyList<FunctionManifest> Functions, string? BundleId = null);

/// <summary>A deployed function.</summary>
/// <param name="Id">Stable id (kept across deploys).</param>
/// <param name="App">The app's name.</param>
/// <param name="Name">The function's name.</param>
/// <param name="Parameters">Its parameters.</param>
/// <param name="ResultType">.NET name of its result type.</param>
/// <param name="WebUrl">Its web endpoint's URL (host form), when it is one; null otherwise.</param>
/// <param name="Schedule">Its schedule as a person reads it (<c>every 2s</c>), when it has one and its app is deployed; null otherwise.</param>
public sealed record DeployedFunctionInfo(
    Guid Id, string App, string Name, IReadOnlyList<ParameterManifest> Parameters, string ResultType, string? WebUrl = null, string? Schedule = null);

/// <summary>An app: deployed, or the ephemeral app of a <c>modal run</c>.</summary>
/// <param name="Id">The app's id (<c>ap-</c> and 32 hex digits); every route that takes an app takes it, or a deployed app's name.</param>
/// <param name="Name">The app's name.</param>
/// <param name="State">Deployed, Ephemeral or Stopped.</param>
/// <param name="Ephemeral">True for the app of a <c>modal run</c>.</param>
/// <param name="Version">Its current version: 1 for the first deployment, one more for each deploy after.</param>
/// <param name="BundleId">The code it runs, if any.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">Last deployment (or the stop).</param>
/// <param name="StoppedAt">When it stopped; null while it runs.</param>
/// <param name="Functions">Its functions, by name.</param>
public sealed record DeployedAppInfo(
    string Id, string Name, string State, bool Ephemeral, int Version, string? BundleId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset? StoppedAt, IReadOnlyList<DeployedFunctionInfo> Functions);

/// <summary>The workspace's apps, newest first (<c>GET /v1/apps</c>).</summary>
/// <param name="Apps">The apps.</param>
public sealed record AppList(IReadOnlyList<DeployedAppInfo> Apps);

/// <summary>One version of an app: the code and the functions it ran.</summary>
/// <param name="Version">1 for the first deployment.</param>
/// <param name="BundleId">The code of that version.</param>
/// <param name="Functions">The names of its functions.</param>
/// <param name="DeployedAt">When it was deployed.</param>
public sealed record AppDeploymentInfo(int Version, string? BundleId, IReadOnlyList<string> Functions, DateTimeOffset DeployedAt);

/// <summary>An app's deployments, newest first (<c>GET /v1/apps/{app}/deployments</c>).</summary>
/// <param name="AppId">The app's id.</param>
/// <param name="Name">The app's name.</param>
/// <param name="Deployments">Its versions, newest first.</param>
public sealed record AppHistory(string AppId, string Name, IReadOnlyList<AppDeploymentInfo> Deployments);

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
/// <param name="Gpu">Its GPU ask and fallbacks as a person reads them (<c>H100, then A100-80GB</c>); null without a GPU.</param>
/// <param name="InputsWaitingForGpu">
/// Inputs waiting for a GPU: runners have its type, but every such GPU is taken (they run as one comes free).
/// </param>
/// <param name="GpuUnavailable">
/// Set when no runner seen in the last minute has its GPU type (or a fallback): why its calls fail at once, naming the
/// types asked for and those present.
/// </param>
public sealed record FunctionStats(
    int Backlog, int RunningInputs, int Containers, int MinContainers, int? MaxContainers, int BufferContainers, double ScaledownWindowSeconds,
    string? Gpu = null, int InputsWaitingForGpu = 0, string? GpuUnavailable = null);
