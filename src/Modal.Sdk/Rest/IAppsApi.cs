using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Calls;
using Modal.Api.Contracts.Schedules;
using Refit;

namespace Modal.Rest;

/// <summary>Low-level REST client for apps, functions and calls (<c>/v1/apps</c>, <c>/v1/calls</c>).</summary>
public interface IAppsApi
{
    /// <summary>
    /// Deploys the app of this name with exactly these functions: a new version of the workspace's running deployed app
    /// of that name (its functions keep their ids), or a new app.
    /// </summary>
    /// <param name="name">The app's name.</param>
    /// <param name="request">Its functions and code.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/apps/{name}")]
    Task<DeployedAppInfo> DeployAsync(string name, [Body] DeployAppRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates an ephemeral app, as <c>modal run</c> does: an app of its own (a new <see cref="DeployedAppInfo.Id"/>)
    /// even beside a deployed app of the same name, reached by its id, running until stopped.
    /// </summary>
    /// <param name="request">Its name, functions and code.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/apps")]
    Task<DeployedAppInfo> CreateEphemeralAsync([Body] CreateAppRequest request, CancellationToken cancellationToken = default);

    /// <summary>The workspace's running apps, deployed and ephemeral, newest first; with <paramref name="all"/> stopped ones too.</summary>
    /// <param name="all">Include stopped apps.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps")]
    Task<AppList> ListAsync([Query] bool all = false, CancellationToken cancellationToken = default);

    /// <summary>Gets an app.</summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}")]
    Task<DeployedAppInfo> GetAsync(string app, CancellationToken cancellationToken = default);

    /// <summary>An app's deployments (versions, the code and the functions of each), newest first.</summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}/deployments")]
    Task<AppHistory> GetHistoryAsync(string app, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops an app for good: its functions cannot be called any more, its containers stop and inputs still queued
    /// fail. Deploying the name again makes a new app.
    /// </summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/apps/{app}")]
    Task<DeployedAppInfo> StopAsync(string app, CancellationToken cancellationToken = default);

    /// <summary>
    /// What the app's functions printed, across calls, after position <paramref name="after"/> (null: the oldest kept);
    /// with <paramref name="timeout"/> (seconds, at most 50) waits that long for a first line. Follow a log by asking
    /// again after <see cref="AppLogs.Next"/>.
    /// </summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="after">The previous page's <see cref="AppLogs.Next"/>.</param>
    /// <param name="timeout">Seconds to wait for a line.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}/logs")]
    Task<AppLogs> GetLogsAsync(string app, [Query] string? after = null, [Query] double timeout = 0, CancellationToken cancellationToken = default);

    /// <summary>
    /// The app's schedules: each scheduled function with its next fire times and its last firings (the call each made,
    /// with its state). Only a deployed app is scheduled; an ephemeral one lists none.
    /// </summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}/schedules")]
    Task<AppScheduleList> ListSchedulesAsync(string app, CancellationToken cancellationToken = default);

    /// <summary>Gets one function of a deployed app.</summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}/functions/{function}")]
    Task<DeployedFunctionInfo> GetFunctionAsync(string app, string function, CancellationToken cancellationToken = default);

    /// <summary>A function's backlog, containers and running inputs, from the Scheduler.</summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/apps/{app}/functions/{function}/stats")]
    Task<FunctionStats> GetFunctionStatsAsync(string app, string function, CancellationToken cancellationToken = default);

    /// <summary>Changes a function's autoscaler bounds until the app is deployed again; answers its stats with the new bounds.</summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="request">The bounds to change.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/apps/{app}/functions/{function}/autoscaler")]
    Task<FunctionStats> UpdateAutoscalerAsync(string app, string function, [Body] UpdateAutoscalerRequest request, CancellationToken cancellationToken = default);

    /// <summary>Queues one call of a function.</summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="request">The arguments.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/apps/{app}/functions/{function}/calls")]
    Task<CreatedCall> CreateCallAsync(string app, string function, [Body] CreateCallRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Calls a function and waits up to <paramref name="wait"/> seconds (at most 50) for it to finish: the answer is
    /// the finished call, or, if it still runs, its id and state (then wait with <see cref="GetCallAsync"/>).
    /// </summary>
    /// <param name="app">The app's id, or a deployed app's name.</param>
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
