using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Web;
using Modal.Container;
using Modal.Container.Protocol;
using Modal.Deployment;
using Modal.Rest;

namespace Modal;

/// <summary>
/// A Modal app: a named set of functions and, optionally, a local entrypoint. The same program is the definition
/// (<c>--modal-describe</c> prints its manifest), the local entrypoint on a workstation, and, inside a container,
/// the function server.
/// </summary>
public sealed partial class App
{
    private readonly Dictionary<string, FunctionDefinition> _functions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClassDefinition> _classes = new(StringComparer.Ordinal);
    private Func<CancellationToken, Task>? _localEntrypoint;

    /// <summary>Argument that makes <see cref="RunAsync"/> print the app's manifest as JSON and exit.</summary>
    public const string DescribeArgument = "--modal-describe";

    /// <summary>Creates an app; the name is 1-64 lowercase letters, digits, '-', '_' or '.'.</summary>
    /// <param name="name">The app's name, unique within a workspace.</param>
    /// <exception cref="ArgumentException">The name breaks the rule.</exception>
    public App(string name)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            throw new ArgumentException($"App name '{name}' is invalid: use 1-64 lowercase letters, digits, '-', '_' or '.'.", nameof(name));
        }
        Name = name;
        Id = IdFromEnvironment(name);
    }

    /// <summary>The app's name.</summary>
    public string Name { get; }

    /// <summary>
    /// The image of every function and class of the app that names none in its <see cref="FunctionOptions.Image"/>
    /// (Modal's <c>modal.App(image=...)</c>). Null: those run on the node's own system.
    /// </summary>
    public Image? Image { get; set; }

    /// <summary>
    /// The id of the app this program runs as (<c>ap-…</c>): set by <see cref="DeployAsync"/>, or, for the program that
    /// <c>modal run</c> starts and inside the app's containers, by the platform. Null until then: calls of this app's
    /// functions then reach the deployed app of its name.
    /// </summary>
    public string? Id { get; private set; }

    /// <summary>How requests name this app: its id once known (an ephemeral run is reached by id only), else its name.</summary>
    internal string Reference => Id ?? Name;

    // Only for the app the platform named: a program may define an app of another name too.
    private static string? IdFromEnvironment(string name) =>
        Environment.GetEnvironmentVariable(ContainerProtocol.AppNameVariable) == name
            ? Environment.GetEnvironmentVariable(ContainerProtocol.AppIdVariable) is { Length: > 0 } id ? id : null
            : null;

    /// <summary>The functions defined so far, in definition order.</summary>
    public IReadOnlyCollection<FunctionDefinition> Functions => _functions.Values;

    /// <summary>JSON settings used for arguments and results on the wire (web defaults: camelCase properties).</summary>
    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>Defines a function without parameters.</summary>
    /// <param name="name">Function name, unique in the app (same rule as app names).</param>
    /// <param name="body">The code to run.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<TResult> Function<TResult>(string name, Func<TResult> body, FunctionOptions? options = null) =>
        new(Define(name, body, options));

    /// <summary>Defines an asynchronous function without parameters.</summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="body">The code to run.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<TResult> Function<TResult>(string name, Func<Task<TResult>> body, FunctionOptions? options = null) =>
        new(Define(name, body, options));

    /// <summary>Defines a function of one parameter.</summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="body">The code to run.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<T1, TResult> Function<T1, TResult>(string name, Func<T1, TResult> body, FunctionOptions? options = null) =>
        new(Define(name, body, options));

    /// <summary>Defines an asynchronous function of one parameter.</summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="body">The code to run.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<T1, TResult> Function<T1, TResult>(string name, Func<T1, Task<TResult>> body, FunctionOptions? options = null) =>
        new(Define(name, body, options));

    /// <summary>Defines a function of two parameters.</summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="body">The code to run.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<T1, T2, TResult> Function<T1, T2, TResult>(string name, Func<T1, T2, TResult> body, FunctionOptions? options = null) =>
        new(Define(name, body, options));

    /// <summary>Defines an asynchronous function of two parameters.</summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="body">The code to run.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<T1, T2, TResult> Function<T1, T2, TResult>(string name, Func<T1, T2, Task<TResult>> body, FunctionOptions? options = null) =>
        new(Define(name, body, options));

    /// <summary>
    /// Defines a batched function (<see cref="Batching"/>): callers pass one <typeparamref name="TInput"/> and get one
    /// <typeparamref name="TResult"/>; the body receives the inputs gathered into a list and returns one result per input,
    /// in the same order.
    /// </summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="body">The code to run on a batch.</param>
    /// <param name="batching">Largest batch and longest wait.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<TInput, TResult> BatchedFunction<TInput, TResult>(
        string name, Func<IReadOnlyList<TInput>, Task<IReadOnlyList<TResult>>> body, Batching batching, FunctionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return DefineBatched(name, body, body, batching, options);
    }

    /// <summary>Defines a synchronous batched function (<see cref="Batching"/>).</summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="body">The code to run on a batch.</param>
    /// <param name="batching">Largest batch and longest wait.</param>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    public Function<TInput, TResult> BatchedFunction<TInput, TResult>(
        string name, Func<IReadOnlyList<TInput>, IReadOnlyList<TResult>> body, Batching batching, FunctionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return DefineBatched<TInput, TResult>(name, inputs => Task.FromResult(body(inputs)), body, batching, options);
    }

    // `declared` is the user's own delegate: its parameter's name is the argument's name on the wire.
    private Function<TInput, TResult> DefineBatched<TInput, TResult>(
        string name, Func<IReadOnlyList<TInput>, Task<IReadOnlyList<TResult>>> body, Delegate declared, Batching batching, FunctionOptions? options)
    {
        ArgumentNullException.ThrowIfNull(batching);
        batching.Validate();
        if (options?.WebEndpoint is not null)
        {
            throw new InvalidFunctionOptionsException(nameof(FunctionOptions.WebEndpoint),
                $"FunctionOptions.WebEndpoint is not allowed on batched function '{name}': a web request waits for its own answer, " +
                "so make the endpoint a plain function that calls the batched one.");
        }
        var parameterName = declared.Method.GetParameters() is [{ Name: { Length: > 0 } named }] ? named : "input";
        return new(Define(name, options, validOptions => FunctionDefinition.Batched(this, name, parameterName, body, batching, validOptions)));
    }

    /// <summary>
    /// Registers a class whose <see cref="MethodAttribute"/> methods run remotely on one shared instance per container,
    /// with <see cref="EnterAttribute"/> and <see cref="ExitAttribute"/> hooks, as Modal's <c>@app.cls</c>. Each method
    /// becomes the function <c>ClassName.MethodName</c>; the options apply to the class's containers.
    /// </summary>
    /// <typeparam name="T">The class: non-generic, with a public parameterless constructor.</typeparam>
    /// <param name="options">Resources, timeout, retries, scaling; validated now.</param>
    /// <exception cref="ArgumentException">The class cannot run remotely (the message says why).</exception>
    public Cls<T> Cls<T>(FunctionOptions? options = null) where T : class
    {
        options ??= new FunctionOptions();
        options.Validate();
        if (options.WebEndpoint is not null)
        {
            throw new InvalidFunctionOptionsException(nameof(FunctionOptions.WebEndpoint),
                $"FunctionOptions.WebEndpoint is not allowed on class '{typeof(T).Name}': make a plain function the web endpoint, " +
                "or serve the class with app.WebServer<T>(port).");
        }
        var definition = new ClassDefinition(typeof(T), options);
        if (!FunctionNamePattern().IsMatch(definition.Name) || !_classes.TryAdd(definition.Name, definition))
        {
            throw new ArgumentException($"App '{Name}' cannot register class '{definition.Name}': the name is taken or invalid.", nameof(T));
        }
        foreach (var method in definition.RemoteMethods)
        {
            var name = ClassDefinition.FunctionName(typeof(T), method.Name);
            Register(new FunctionDefinition(this, name, method, arguments => definition.Call(method, arguments), options, definition));
        }
        return new Cls<T>(() => Reference, () => Client);
    }

    /// <summary>
    /// Defines an ASP.NET Core app (Modal's <c>asgi_app</c>): in each of its containers the SDK creates a
    /// <see cref="WebApplicationBuilder"/>, <paramref name="build"/> adds services and returns the built app with its
    /// routes and middleware mapped as usual, and the SDK runs it on Kestrel where the platform's ingress reaches it.
    /// Requests go straight to a ready container (no queue), at most <see cref="FunctionOptions.MaxConcurrentInputs"/> at
    /// once per container; streaming responses and WebSockets pass through. <paramref name="build"/> runs only in containers.
    /// </summary>
    /// <example>
    /// <code>
    /// app.AspNetApp("api", builder =>
    /// {
    ///     var web = builder.Build();
    ///     web.MapGet("/", () => "hello");
    ///     return web;
    /// });
    /// </code>
    /// </example>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="build">Builds the app from the SDK's builder (do not set its URLs: the SDK chooses where it listens).</param>
    /// <param name="web">Label, proxy auth and start-up timeout; validated now.</param>
    /// <param name="options">Resources and scaling; validated now. <see cref="FunctionOptions.WebEndpoint"/> must be null.</param>
    /// <returns>The function's definition (its <see cref="FunctionDefinition.Web"/> says how it is served).</returns>
    public FunctionDefinition AspNetApp(
        string name, Func<WebApplicationBuilder, WebApplication> build, WebServerOptions? web = null, FunctionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(build);
        web = ValidServerOptions(web, options);
        return Define(name, options, validOptions => new FunctionDefinition(this, name, ServedOverHttpMethod, ServedOverHttp(name), validOptions, owner: null)
        {
            Serving = new WebServing(WebEndpointKinds.AspNetApp, web, Port: null, build, Start: null),
        });
    }

    /// <summary>
    /// Defines a server on a port (Modal's <c>web_server</c>): each container runs <paramref name="start"/>, which starts
    /// any HTTP server (in .NET or as a child process) listening on <paramref name="port"/> on any address of the
    /// container, and the platform's ingress sends requests there once the port accepts connections. Requests go straight
    /// to a ready container, at most <see cref="FunctionOptions.MaxConcurrentInputs"/> at once per container.
    /// </summary>
    /// <param name="name">Function name, unique in the app.</param>
    /// <param name="port">The port the server listens on inside the container (1-65535; also in <c>MODAL_WEB_PORT</c>).</param>
    /// <param name="start">
    /// Starts the server: it may return once the server runs in the background, or run the server itself until its token
    /// is cancelled (the container is stopping). If it throws, the container stops.
    /// </param>
    /// <param name="web">Label, proxy auth and start-up timeout; validated now.</param>
    /// <param name="options">Resources and scaling; validated now. <see cref="FunctionOptions.WebEndpoint"/> must be null.</param>
    /// <returns>The function's definition (its <see cref="FunctionDefinition.Web"/> says how it is served).</returns>
    public FunctionDefinition WebServer(
        string name, int port, Func<CancellationToken, Task> start, WebServerOptions? web = null, FunctionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        ValidatePort(port);
        web = ValidServerOptions(web, options);
        return Define(name, options, validOptions => new FunctionDefinition(this, name, ServedOverHttpMethod, ServedOverHttp(name), validOptions, owner: null)
        {
            Serving = new WebServing(WebEndpointKinds.Server, web, port, Build: null, start),
        });
    }

    /// <summary>
    /// Defines a server on a port started by a class's <see cref="EnterAttribute"/> hooks (Modal's <c>web_server</c> on a
    /// class): each container creates one instance, runs its [Enter] hooks (which must return once the server listens or
    /// is starting), and the ingress sends requests to <paramref name="port"/>; [Exit] hooks run when the container stops.
    /// The function is named after the class.
    /// </summary>
    /// <typeparam name="T">The class: non-generic, with a public parameterless constructor, an [Enter] hook and no [Method]s.</typeparam>
    /// <param name="port">The port the server listens on inside the container (1-65535; also in <c>MODAL_WEB_PORT</c>).</param>
    /// <param name="web">Label, proxy auth and start-up timeout; validated now.</param>
    /// <param name="options">Resources and scaling; validated now. <see cref="FunctionOptions.WebEndpoint"/> must be null.</param>
    /// <returns>The function's definition (its <see cref="FunctionDefinition.Web"/> says how it is served).</returns>
    /// <exception cref="ArgumentException">The class cannot serve (the message says why).</exception>
    public FunctionDefinition WebServer<T>(int port, WebServerOptions? web = null, FunctionOptions? options = null) where T : class
    {
        ValidatePort(port);
        web = ValidServerOptions(web, options);
        options ??= new FunctionOptions();
        var definition = new ClassDefinition(typeof(T), options, server: true);
        if (!FunctionNamePattern().IsMatch(definition.Name) || _functions.ContainsKey(definition.Name) || !_classes.TryAdd(definition.Name, definition))
        {
            throw new ArgumentException($"App '{Name}' cannot register server class '{definition.Name}': the name is taken or invalid.", nameof(T));
        }
        return Register(new FunctionDefinition(this, definition.Name, ServedOverHttpMethod, ServedOverHttp(definition.Name), options, definition)
        {
            Serving = new WebServing(WebEndpointKinds.Server, web, port, Build: null, Start: null),
        });
    }

    private static void ValidatePort(int port)
    {
        if (port is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "A server's port must be between 1 and 65535.");
        }
    }

    private static WebServerOptions ValidServerOptions(WebServerOptions? web, FunctionOptions? options)
    {
        web ??= new WebServerOptions();
        web.Validate();
        if (options?.WebEndpoint is not null)
        {
            throw new InvalidFunctionOptionsException(nameof(FunctionOptions.WebEndpoint),
                "FunctionOptions.WebEndpoint is for web functions: an ASP.NET Core app or a server takes WebServerOptions instead.");
        }
        if (options?.SingleUseContainers == true)
        {
            throw new InvalidFunctionOptionsException(nameof(FunctionOptions.SingleUseContainers),
                "FunctionOptions.SingleUseContainers is not allowed on an ASP.NET Core app or a server: their containers serve many requests.");
        }
        options?.Validate();
        return web;
    }

    // An app's or server's function has no body to call: it is reached over HTTP. Its signature (no parameters, no
    // result) is what the manifest shows.
    private static readonly System.Reflection.MethodInfo ServedOverHttpMethod =
        typeof(App).GetMethod(nameof(NotCallable), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;

    private static void NotCallable()
    {
    }

    private static Func<object?[], object?> ServedOverHttp(string name) => _ =>
        throw new InvalidOperationException($"'{name}' is a web server: reach it over HTTP at its URL, not as a function call.");

    /// <summary>A registered class by name (a class container's <c>MODAL_CLASS</c>).</summary>
    internal ClassDefinition? FindClass(string name) => _classes.GetValueOrDefault(name);

    /// <summary>Sets the code that <c>modal run</c> (or running the program) executes on the workstation.</summary>
    /// <param name="entrypoint">The local entrypoint.</param>
    public void LocalEntrypoint(Func<CancellationToken, Task> entrypoint)
    {
        ArgumentNullException.ThrowIfNull(entrypoint);
        _localEntrypoint = entrypoint;
    }

    /// <summary>Sets the code that <c>modal run</c> (or running the program) executes on the workstation.</summary>
    /// <param name="entrypoint">The local entrypoint.</param>
    public void LocalEntrypoint(Func<Task> entrypoint)
    {
        ArgumentNullException.ThrowIfNull(entrypoint);
        _localEntrypoint = _ => entrypoint();
    }

    /// <summary>
    /// The connection remote calls use; by default made from <c>MODAL_SERVER_URL</c>, <c>MODAL_TOKEN_ID</c> and
    /// <c>MODAL_TOKEN_SECRET</c> on first use.
    /// </summary>
    public ModalClient Client
    {
        get => _client ??= ModalClient.FromEnvironment();
        set => _client = value ?? throw new ArgumentNullException(nameof(value));
    }

    private ModalClient? _client;

    /// <summary>
    /// Registers the app and its functions with the platform (what <c>modal deploy</c> does after uploading the code),
    /// and from then on calls this app's functions by its <see cref="Id"/>. An ephemeral app is a new app of its own
    /// (what <c>modal run</c> makes), even beside a deployed app of the same name.
    /// </summary>
    /// <param name="ephemeral">True for a <c>modal run</c> app.</param>
    /// <param name="bundleId">The uploaded code to run (<see cref="Bundle.Id"/>); null registers the functions only.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<DeployedAppInfo> DeployAsync(bool ephemeral = false, string? bundleId = null, CancellationToken cancellationToken = default)
    {
        var manifest = Describe();
        await manifest.StoreLocalSecretsAsync(Client, cancellationToken).ConfigureAwait(false);
        var deployed = ephemeral
            ? await Client.Apps.CreateEphemeralAsync(new CreateAppRequest(Name, manifest.Functions, bundleId), cancellationToken).ConfigureAwait(false)
            : await Client.Apps.DeployAsync(Name, new DeployAppRequest(manifest.Functions, bundleId), cancellationToken).ConfigureAwait(false);
        Id = deployed.Id;
        return deployed;
    }

    /// <summary>
    /// The app as the platform registers it: its name and each function's signature and options. Secrets the program
    /// defines are read now (a missing .env file or environment variable throws) and named as
    /// <see cref="Secret.LocalSecretName"/> says.
    /// </summary>
    public AppManifest Describe()
    {
        var localSecrets = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        var functions = _functions.Values.Select(function =>
        {
            var owner = function.Class?.Name ?? function.Name;
            var secrets = function.Options.Secrets.Select((secret, index) =>
            {
                if (!secret.IsLocal)
                {
                    return new SecretManifest(secret.Name!, secret.RequiredKeys);
                }
                var name = Secret.LocalSecretName(Name, owner, index);
                var values = localSecrets[name] = secret.ReadLocalValues();
                // Required, so the deploy fails if storing them did not work rather than a container later.
                return new SecretManifest(name, [.. values.Keys]);
            }).ToList();
            return AppManifests.ForFunction(function, secrets, Image);
        }).ToList();
        return new AppManifest(Name, functions, localSecrets.Count == 0 ? null : localSecrets);
    }

    /// <summary>
    /// The program's main: with <c>--modal-describe</c> prints the manifest as JSON; started by a runner (with
    /// <c>MODAL_FUNCTION_SOCKET</c> set) serves the app's functions; otherwise runs the local entrypoint.
    /// Returns the process exit code.
    /// </summary>
    /// <param name="args">The program's command-line arguments.</param>
    /// <param name="cancellationToken">Stops the entrypoint.</param>
    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Contains(DescribeArgument))
        {
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(Describe(), SerializerOptions)).ConfigureAwait(false);
            return 0;
        }
        if (Environment.GetEnvironmentVariable(ContainerProtocol.SocketVariable) is { Length: > 0 } socketPath)
        {
            // Started by a runner: this process is the container's function server.
            return await FunctionServer.ServeAsync(this, socketPath, cancellationToken).ConfigureAwait(false);
        }

        if (_localEntrypoint is null)
        {
            await Console.Error.WriteLineAsync(
                $"App '{Name}' has no local entrypoint: define one with app.LocalEntrypoint(...), or deploy it with `modal deploy`.")
                .ConfigureAwait(false);
            return 2;
        }
        await _localEntrypoint(cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private FunctionDefinition Define(string name, Delegate body, FunctionOptions? options)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Define(name, options, validOptions => new FunctionDefinition(this, name, body, validOptions));
    }

    private FunctionDefinition Define(string name, FunctionOptions? options, Func<FunctionOptions, FunctionDefinition> create)
    {
        if (name is null || !FunctionNamePattern().IsMatch(name))
        {
            throw new ArgumentException($"Function name '{name}' is invalid: use 1-64 letters, digits, '-', '_' or '.'.", nameof(name));
        }
        options ??= new FunctionOptions();
        options.Validate();
        return Register(create(options));
    }

    private FunctionDefinition Register(FunctionDefinition definition)
    {
        if (definition.Options.Schedule is not null && ScheduleRefusal(definition) is { } refusal)
        {
            throw new InvalidFunctionOptionsException(nameof(FunctionOptions.Schedule), $"FunctionOptions.Schedule is not allowed on '{definition.Name}': {refusal}.");
        }
        if (!_functions.TryAdd(definition.Name, definition))
        {
            throw new ArgumentException($"App '{Name}' already has a function named '{definition.Name}'.", nameof(definition));
        }
        return definition;
    }

    // A firing calls the function with no arguments, through the queue: nothing else can take one.
    private static string? ScheduleRefusal(FunctionDefinition definition) =>
        definition.Parameters.Count > 0 ? $"a scheduled function takes no arguments (it has {definition.Parameters.Count})"
        : definition.Class is not null ? "a class's methods cannot be scheduled; schedule a plain function that calls one"
        : definition.Batching is not null ? "a batched function cannot be scheduled"
        : definition.Serving is not null ? "an ASP.NET Core app or a server is not called, so it cannot be scheduled"
        : null;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    // Function names may carry capitals: a class's methods are named after it (Model.Generate), as in Modal.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex FunctionNamePattern();
}
