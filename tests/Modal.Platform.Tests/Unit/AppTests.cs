using System.Text.Json;

namespace Modal.Platform.Tests.Unit;

public sealed class AppTests
{
    private sealed record Point(int X, int Y);

    [Fact]
    public async Task LocalAsync_SyncAndAsyncFunctions_ReturnTheirResults()
    {
        var app = new App("math");
        var square = app.Function("square", (int x) => x * x);
        var add = app.Function("add", async (int a, int b) => { await Task.Yield(); return a + b; });
        var answer = app.Function("answer", () => 42);

        Assert.Equal(49, await square.LocalAsync(7));
        Assert.Equal(5, await add.LocalAsync(2, 3));
        Assert.Equal(42, await answer.LocalAsync());
    }

    [Fact]
    public async Task LocalAsync_FunctionThrows_PropagatesTheOriginalException()
    {
        var app = new App("errors");
        var fail = app.Function("fail", (string message) => Fail(message));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => fail.LocalAsync("boom"));

        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public void Function_InvalidOptions_FailsAtDefinitionNamingTheOption()
    {
        var app = new App("bad");

        var error = Assert.Throws<InvalidFunctionOptionsException>(() =>
            app.Function("slow", () => 1, new FunctionOptions { Timeout = TimeSpan.FromDays(2) }));

        Assert.Equal("Timeout", error.Option);
        Assert.Empty(app.Functions);
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("")]
    [InlineData("has space")]
    public void Constructor_InvalidName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => new App(name));
    }

    [Fact]
    public void Function_DuplicateName_Throws()
    {
        var app = new App("dupes");
        app.Function("f", () => 1);

        var error = Assert.Throws<ArgumentException>(() => app.Function("f", () => 2));

        Assert.Contains("already has a function named 'f'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_ListsSignaturesAndOptions()
    {
        var app = new App("embeddings");
        app.Function("embed", (string text, int dims) => new float[dims],
            new FunctionOptions { Gpu = "T4", MaxContainers = 10, Retries = 2 });

        var manifest = app.Describe();

        var embed = Assert.Single(manifest.Functions);
        Assert.Equal("embeddings", manifest.Name);
        Assert.Equal(["text", "dims"], embed.Parameters.Select(p => p.Name));
        Assert.Equal(["System.String", "System.Int32"], embed.Parameters.Select(p => p.Type));
        Assert.Equal("System.Single[]", embed.ResultType);
        Assert.Equal("T4", embed.Gpu);
        Assert.Equal(10, embed.MaxContainers);
        Assert.Equal(2, embed.Retries!.MaxRetries);
        Assert.Equal(300, embed.TimeoutSeconds);
    }

    [Fact]
    public async Task RunAsync_DescribeArgument_PrintsManifestJson()
    {
        var app = new App("described");
        app.Function("hello", (string name) => $"Hello {name}");
        using var output = new StringWriter();
        var original = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, await app.RunAsync([App.DescribeArgument]));
        }
        finally
        {
            Console.SetOut(original);
        }

        using var json = JsonDocument.Parse(output.ToString());
        Assert.Equal("described", json.RootElement.GetProperty("name").GetString());
        Assert.Equal("hello", json.RootElement.GetProperty("functions")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void BindArguments_JsonObject_BindsByParameterName()
    {
        var app = new App("binding");
        var move = app.Function("move", (Point p, int by) => new Point(p.X + by, p.Y + by));
        using var json = JsonDocument.Parse("""{"by": 2, "p": {"x": 1, "y": 5}}""");

        var bound = move.Definition.BindArguments(json.RootElement, App.SerializerOptions);

        Assert.Equal([new Point(1, 5), 2], bound);
    }

    [Theory]
    [InlineData("""{"p": {"x": 1, "y": 5}}""", "by")]
    [InlineData("""{"p": {"x": 1, "y": 5}, "by": "two"}""", "by")]
    [InlineData("""[1, 2]""", "arguments")]
    public void BindArguments_MissingOrWrongType_ThrowsNamingTheParameter(string arguments, string parameter)
    {
        var app = new App("binding");
        var move = app.Function("move", (Point p, int by) => new Point(p.X + by, p.Y + by));
        using var json = JsonDocument.Parse(arguments);

        var error = Assert.Throws<ArgumentException>(() => move.Definition.BindArguments(json.RootElement, App.SerializerOptions));

        Assert.Equal(parameter, error.ParamName);
    }

    private static int Fail(string message) => throw new InvalidOperationException(message);
}
