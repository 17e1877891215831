namespace Modal;

/// <summary>
/// How an ASP.NET Core app (<see cref="App.AspNetApp"/>) or a server on a port (<see cref="App.WebServer(string, int, Func{CancellationToken, Task}, WebServerOptions?, FunctionOptions?)"/>)
/// is exposed. Requests go straight to a ready container, at most <see cref="FunctionOptions.MaxConcurrentInputs"/> at
/// once per container; containers scale on requests in flight.
/// </summary>
public sealed record WebServerOptions
{
    /// <summary>Default <see cref="StartupTimeout"/>.</summary>
    public static readonly TimeSpan DefaultStartupTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Shortest and longest allowed <see cref="StartupTimeout"/>.</summary>
    public static readonly TimeSpan MinStartupTimeout = TimeSpan.FromSeconds(1), MaxStartupTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The last part of the endpoint's host name (<c>{workspace}--{app}-{label}</c>): 1-63 lowercase letters, digits and
    /// '-', not starting or ending with '-'. Null: the function's name, made host-safe.
    /// </summary>
    public string? Label { get; init; }

    /// <summary>Only requests carrying a valid proxy-auth token (<c>Modal-Key</c> and <c>Modal-Secret</c> headers) get through.</summary>
    public bool RequiresProxyAuth { get; init; }

    /// <summary>How long a container may take, once started, to accept connections (1 s to 10 min; default 5 s).</summary>
    public TimeSpan StartupTimeout { get; init; } = DefaultStartupTimeout;

    /// <summary>Throws <see cref="InvalidFunctionOptionsException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        WebEndpoint.ValidateLabel(Label, "Web.Label", "WebServerOptions.Label");
        if (StartupTimeout < MinStartupTimeout || StartupTimeout > MaxStartupTimeout)
        {
            throw new InvalidFunctionOptionsException("Web.StartupTimeout",
                $"WebServerOptions.StartupTimeout must be between 1 second and 10 minutes (was {StartupTimeout}).");
        }
    }
}
