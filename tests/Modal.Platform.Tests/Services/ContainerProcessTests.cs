using System.Collections.Concurrent;
using Modal.GpuRunner.Containers;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>A real container process (examples/HelloWorld as the app) driven over the container protocol.</summary>
public sealed class ContainerProcessTests : IAsyncLifetime
{
    private static readonly string HelloWorldBundle = Examples.OutputDirectory("HelloWorld");

    private readonly string _runtimeRoot = Path.Combine(Path.GetTempPath(), $"modal-containers-{Guid.NewGuid():N}");
    private readonly ConcurrentQueue<(string Line, bool IsError)> _output = new();
    private ContainerProcess? _container;

    public async Task InitializeAsync() =>
        _container = await ContainerProcess.StartAsync(Spec("HelloWorld.dll"), _runtimeRoot, TimeSpan.FromSeconds(30),
            (line, isError) => _output.Enqueue((line, isError)), CancellationToken.None);

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
        Directory.Delete(_runtimeRoot, recursive: true);
    }

    [Fact]
    public async Task Invoke_Function_ReturnsResultAndCapturesItsOutput()
    {
        var lines = new List<(string Stream, string Text)>();
        var output = await _container!.InvokeAsync("f", """{"i": 7}""", "fc-test", (stream, text) => lines.Add((stream, text)), CancellationToken.None);

        Assert.True(output.Succeeded);
        Assert.Equal("49", output.ResultJson);
        // What the function printed arrives as its input's log, before its output.
        Assert.Equal([("stderr", "world 7")], lines);
    }

    [Fact]
    public async Task Invoke_FunctionThrows_ReturnsTypeMessageAndStack()
    {
        var output = await _container!.InvokeAsync("fail", """{"message": "boom"}""", "fc-test", (_, _) => { }, CancellationToken.None);

        Assert.False(output.Succeeded);
        Assert.Equal(typeof(InvalidOperationException).FullName, output.ExceptionType);
        Assert.Equal("boom", output.Message);
        Assert.Contains("Fail", output.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoke_UnknownFunctionOrBadArguments_ReturnsAFailureNotACrash()
    {
        var unknown = await _container!.InvokeAsync("nope", "{}", "fc-test", (_, _) => { }, CancellationToken.None);
        var badArguments = await _container.InvokeAsync("f", """{"i": "seven"}""", "fc-test", (_, _) => { }, CancellationToken.None);
        var stillWorks = await _container.InvokeAsync("f", """{"i": 3}""", "fc-test", (_, _) => { }, CancellationToken.None);

        Assert.Contains("no function named 'nope'", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(ArgumentException).FullName, badArguments.ExceptionType);
        Assert.Equal("9", stillWorks.ResultJson);
    }

    [Fact]
    public async Task Invoke_SeveralAtOnce_AllComplete()
    {
        var outputs = await Task.WhenAll(Enumerable.Range(1, 4).Select(i =>
            _container!.InvokeAsync("sleep", $$"""{"milliseconds": {{i * 100}}}""", "fc-test", (_, _) => { }, CancellationToken.None)));

        Assert.Equal(["100", "200", "300", "400"], outputs.Select(o => o.ResultJson));
    }

    [Fact]
    public async Task Kill_WhileInputRuns_InputFailsWithContainerCrashed()
    {
        var running = _container!.InvokeAsync("sleep", """{"milliseconds": 60000}""", "fc-test", (_, _) => { }, CancellationToken.None);
        await Task.Delay(200);

        _container.Kill();

        await Assert.ThrowsAsync<ContainerCrashedException>(() => running);
    }

    [Fact]
    public async Task Start_ProgramThatCannotStart_FailsWithItsOutput()
    {
        var error = await Assert.ThrowsAsync<ContainerCrashedException>(() => ContainerProcess.StartAsync(
            Spec("DoesNotExist.dll"), _runtimeRoot, TimeSpan.FromSeconds(30), (_, _) => { }, CancellationToken.None));

        Assert.Contains("DoesNotExist.dll", error.Message, StringComparison.Ordinal);
    }

    private static ContainerSpec Spec(string entryAssembly) =>
        new($"c-{Guid.NewGuid():N}"[..14], HelloWorldBundle, entryAssembly, new Dictionary<string, string>());
}
