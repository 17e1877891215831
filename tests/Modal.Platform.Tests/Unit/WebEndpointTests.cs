using System.Text.Json;
using Modal.Api.Contracts.Web;

namespace Modal.Platform.Tests.Unit;

/// <summary>The SDK's web surface: options checked when a function is defined, and what the manifest says of it.</summary>
public sealed class WebEndpointTests
{
    public static TheoryData<WebEndpoint, string> InvalidEndpoints => new()
    {
        { new WebEndpoint { Methods = [] }, "WebEndpoint.Methods" },
        { new WebEndpoint { Methods = ["GET", "get"] }, "WebEndpoint.Methods" },
        { new WebEndpoint { Methods = ["GE T"] }, "WebEndpoint.Methods" },
        { new WebEndpoint { Methods = [""] }, "WebEndpoint.Methods" },
        { new WebEndpoint { Label = "Upper" }, "WebEndpoint.Label" },
        { new WebEndpoint { Label = "-dash" }, "WebEndpoint.Label" },
        { new WebEndpoint { Label = "dash-" }, "WebEndpoint.Label" },
        { new WebEndpoint { Label = "under_score" }, "WebEndpoint.Label" },
        { new WebEndpoint { Label = new string('a', 64) }, "WebEndpoint.Label" },
        { new WebEndpoint { Label = "" }, "WebEndpoint.Label" },
    };

    [Theory]
    [MemberData(nameof(InvalidEndpoints))]
    public void Function_InvalidWebEndpoint_ThrowsNamingTheOption(WebEndpoint endpoint, string option)
    {
        var app = new App("web");

        var error = Assert.Throws<InvalidFunctionOptionsException>(() =>
            app.Function("f", (int x) => x, new FunctionOptions { WebEndpoint = endpoint }));

        Assert.Equal(option, error.Option);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
        Assert.Empty(app.Functions);
    }

    [Fact]
    public void Describe_WebFunction_HasUpperCaseMethodsLabelAndAuth()
    {
        var app = new App("web");
        app.Function("add", (int a, int b) => a + b, new FunctionOptions
        {
            WebEndpoint = new WebEndpoint { Methods = ["post", "Put"], Label = new string('a', 63), RequiresProxyAuth = true },
        });
        app.Function("greet", (string name) => name, new FunctionOptions { WebEndpoint = new WebEndpoint() });
        app.Function("plain", (string name) => name);

        var functions = app.Describe().Functions;

        Assert.Equal(WebEndpointKinds.Function, functions[0].Web!.Kind);
        Assert.Equal(["POST", "PUT"], functions[0].Web!.Methods);
        Assert.Equal(new string('a', 63), functions[0].Web!.Label);
        Assert.True(functions[0].Web!.RequiresProxyAuth);
        Assert.Null(functions[0].Web!.Port);
        Assert.Equal(WebEndpointKinds.Function, functions[1].Web!.Kind);
        Assert.Equal(["GET"], functions[1].Web!.Methods);
        Assert.Null(functions[1].Web!.Label);
        Assert.False(functions[1].Web!.RequiresProxyAuth);
        Assert.Null(functions[2].Web);
    }

    [Fact]
    public void Describe_FunctionReturningWebResponse_HasItsFullNameAsResultType()
    {
        var app = new App("web");
        app.Function("created", (string name) => new WebResponse(201, name), new FunctionOptions { WebEndpoint = new WebEndpoint() });
        app.Function("created_async", async (string name) =>
        {
            await Task.Yield();
            return new WebResponse(201, name);
        }, new FunctionOptions { WebEndpoint = new WebEndpoint() });

        Assert.All(app.Describe().Functions, f => Assert.Equal("Modal.WebResponse", f.ResultType));
    }

    [Fact]
    public void WebResponse_Json_IsCamelCaseWithHeaderNamesKept()
    {
        var response = new WebResponse(201, "made", Headers: new Dictionary<string, string> { ["Location"] = "/items/1" });

        var json = JsonSerializer.Serialize(response, App.SerializerOptions);
        var back = JsonSerializer.Deserialize<WebResponse>(json, App.SerializerOptions)!;

        Assert.Equal("""{"statusCode":201,"body":"made","contentType":"text/plain; charset=utf-8","headers":{"Location":"/items/1"}}""", json);
        Assert.Equal(response.StatusCode, back.StatusCode);
        Assert.Equal(response.Body, back.Body);
        Assert.Equal("/items/1", back.Headers!["Location"]);
    }

    [Fact]
    public void WebResponse_JsonHelper_WritesTheValueAsJson()
    {
        var response = WebResponse.Json(new { Id = 3 }, 202);

        Assert.Equal(202, response.StatusCode);
        Assert.Equal("""{"id":3}""", response.Body);
        Assert.StartsWith("application/json", response.ContentType, StringComparison.Ordinal);
    }

    [Fact]
    public void BatchedFunction_WithWebEndpoint_ThrowsNamingTheOption()
    {
        var app = new App("web");

        var error = Assert.Throws<InvalidFunctionOptionsException>(() => app.BatchedFunction<int, int>("double",
            inputs => [.. inputs.Select(i => i * 2)], new Batching(4, TimeSpan.FromMilliseconds(10)),
            new FunctionOptions { WebEndpoint = new WebEndpoint() }));

        Assert.Equal("WebEndpoint", error.Option);
        Assert.Contains("batched", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cls_WithWebEndpoint_ThrowsNamingTheOption()
    {
        var app = new App("web");

        var error = Assert.Throws<InvalidFunctionOptionsException>(() => app.Cls<Greeter>(new FunctionOptions { WebEndpoint = new WebEndpoint() }));

        Assert.Equal("WebEndpoint", error.Option);
    }

    [Fact]
    public void Describe_AspNetApp_IsAnAppWithoutMethodsOrPortAndItsLimit()
    {
        var app = new App("web");
        var built = false;
        var definition = app.AspNetApp("api", builder =>
        {
            built = true;
            return builder.Build();
        }, new WebServerOptions { Label = "my-api", RequiresProxyAuth = true, StartupTimeout = TimeSpan.FromSeconds(30) },
            new FunctionOptions { MaxConcurrentInputs = 8 });

        var manifest = app.Describe().Functions.Single();

        Assert.Equal(new WebEndpointManifest(WebEndpointKinds.AspNetApp, manifest.Web!.Methods, "my-api", true, null, 30), manifest.Web);
        Assert.Empty(manifest.Web.Methods);
        Assert.Equal(8, manifest.MaxConcurrentInputs);
        Assert.Empty(manifest.Parameters);
        Assert.Null(manifest.ClassName);
        Assert.Equal(manifest.Web, definition.Web);
        // The app is built only inside its containers, never by a describe or a deploy.
        Assert.False(built);
    }

    [Fact]
    public void Describe_WebServer_HasItsPortAndDefaultStartupTimeout()
    {
        var app = new App("web");
        app.WebServer("files", 8080, _ => Task.CompletedTask);

        var web = app.Describe().Functions.Single().Web!;

        Assert.Equal(WebEndpointKinds.Server, web.Kind);
        Assert.Equal(8080, web.Port);
        Assert.Equal(5, web.StartupTimeoutSeconds);
        Assert.Null(web.Label);
    }

    [Fact]
    public void Describe_WebServerClass_IsNamedAfterTheClassAndRunsInItsContainers()
    {
        var app = new App("web");
        app.WebServer<PortServer>(9000, new WebServerOptions { Label = "port" });

        var function = app.Describe().Functions.Single();

        Assert.Equal(nameof(PortServer), function.Name);
        Assert.Equal(nameof(PortServer), function.ClassName);
        Assert.Equal(new WebEndpointManifest(WebEndpointKinds.Server, function.Web!.Methods, "port", false, 9000), function.Web);
        Assert.NotNull(app.FindClass(nameof(PortServer)));
    }

    [Fact]
    public void WebServerClass_WithMethodsOrWithoutEnter_Throws()
    {
        var app = new App("web");

        Assert.Contains("[Method]", Assert.Throws<ArgumentException>(() => app.WebServer<Greeter>(9000)).Message, StringComparison.Ordinal);
        Assert.Contains("[Enter]", Assert.Throws<ArgumentException>(() => app.WebServer<NoEnter>(9000)).Message, StringComparison.Ordinal);
        Assert.Empty(app.Functions);
    }

    public static TheoryData<WebServerOptions, string> InvalidServerOptions => new()
    {
        { new WebServerOptions { Label = "Bad" }, "Web.Label" },
        { new WebServerOptions { StartupTimeout = TimeSpan.FromMilliseconds(999) }, "Web.StartupTimeout" },
        { new WebServerOptions { StartupTimeout = TimeSpan.FromMinutes(11) }, "Web.StartupTimeout" },
    };

    [Theory]
    [MemberData(nameof(InvalidServerOptions))]
    public void AspNetAppAndWebServer_InvalidServerOptions_ThrowNamingTheOption(WebServerOptions web, string option)
    {
        var app = new App("web");

        var appError = Assert.Throws<InvalidFunctionOptionsException>(() => app.AspNetApp("api", b => b.Build(), web));
        var serverError = Assert.Throws<InvalidFunctionOptionsException>(() => app.WebServer("server", 80, _ => Task.CompletedTask, web));

        Assert.Equal(option, appError.Option);
        Assert.Equal(option, serverError.Option);
        Assert.Contains(option.Replace("Web.", "WebServerOptions.", StringComparison.Ordinal), appError.Message, StringComparison.Ordinal);
        Assert.Empty(app.Functions);
    }

    [Fact]
    public void AspNetAppAndWebServer_WithWebEndpointOrSingleUse_ThrowNamingTheOption()
    {
        var app = new App("web");

        var endpoint = Assert.Throws<InvalidFunctionOptionsException>(() =>
            app.AspNetApp("api", b => b.Build(), options: new FunctionOptions { WebEndpoint = new WebEndpoint() }));
        var singleUse = Assert.Throws<InvalidFunctionOptionsException>(() =>
            app.WebServer("server", 80, _ => Task.CompletedTask, options: new FunctionOptions { SingleUseContainers = true }));
        var bounds = Assert.Throws<InvalidFunctionOptionsException>(() =>
            app.WebServer<PortServer>(80, options: new FunctionOptions { MaxConcurrentInputs = 0 }));

        Assert.Equal("WebEndpoint", endpoint.Option);
        Assert.Equal("SingleUseContainers", singleUse.Option);
        Assert.Equal("MaxConcurrentInputs", bounds.Option);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void WebServer_PortOutOfRange_Throws(int port)
    {
        var app = new App("web");

        Assert.Throws<ArgumentOutOfRangeException>(() => app.WebServer("server", port, _ => Task.CompletedTask));
        Assert.Throws<ArgumentOutOfRangeException>(() => app.WebServer<PortServer>(port));
    }

    [Fact]
    public async Task RemoteServerFunction_CalledAsAFunction_FailsSayingItIsServedOverHttp()
    {
        var app = new App("web");
        var server = app.WebServer("server", 8080, _ => Task.CompletedTask);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => server.InvokeAsync([]));

        Assert.Contains("over HTTP", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_AppWithServers_DescribesAndRunsItsLocalEntrypointWithoutBuildingThem()
    {
        var app = new App("web");
        app.AspNetApp("api", _ => throw new InvalidOperationException("built outside a container"));
        app.WebServer("server", 8080, _ => throw new InvalidOperationException("started outside a container"));
        var ran = false;
        app.LocalEntrypoint(() =>
        {
            ran = true;
            return Task.CompletedTask;
        });
        using var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, await app.RunAsync([App.DescribeArgument]));
            Assert.Equal(0, await app.RunAsync([]));
        }
        finally
        {
            Console.SetOut(console);
        }

        Assert.True(ran);
        Assert.Contains("\"kind\":\"AspNetApp\"", output.ToString(), StringComparison.Ordinal);
    }

    private sealed class Greeter
    {
        public string Greeting { get; set; } = "hi";

        [Method]
        public string Greet(string name) => $"{Greeting} {name}";
    }

    private sealed class PortServer
    {
        public bool Started { get; private set; }

        [Enter]
        public void Start() => Started = true;
    }

    private sealed class NoEnter
    {
        public bool Stopped { get; private set; }

        [Exit]
        public void Stop() => Stopped = true;
    }
}
