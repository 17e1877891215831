using Microsoft.AspNetCore.Builder;

namespace Modal;

/// <summary>
/// What a container of an ASP.NET Core app or a server runs (<see cref="App.AspNetApp"/>, <see cref="App.WebServer(string, int, Func{CancellationToken, Task}, WebServerOptions?, FunctionOptions?)"/>,
/// <see cref="App.WebServer{T}"/>): the app's build, or the server's start (null for a class, whose [Enter] hooks start it).
/// </summary>
/// <param name="Kind">"AspNetApp" or "Server".</param>
/// <param name="Options">Label, proxy auth and start-up timeout.</param>
/// <param name="Port">The port a server listens on; null for an app.</param>
/// <param name="Build">Builds the app (apps only).</param>
/// <param name="Start">Starts the server (plain servers only).</param>
internal sealed record WebServing(
    string Kind, WebServerOptions Options, int? Port, Func<WebApplicationBuilder, WebApplication>? Build, Func<CancellationToken, Task>? Start);
