using System.Diagnostics;
using System.Text.RegularExpressions;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary><c>modal run</c> driven as a process, as a user runs it, beside the deployed apps of the spine.</summary>
public sealed partial class SpineTests
{
    [Fact]
    public async Task ModalRun_TwiceBesideTheDeployedAppOfItsName_EachRunPrintsOnlyItsOwnLines_AndTheDeployedAppKeepsServing()
    {
        var deployed = await spine.Client.Apps.GetAsync(spine.HelloWorld);
        var f = Function.FromName(spine.Client, spine.HelloWorld, "f");

        var first = await ModalAsync("run", Path.Combine(RepositoryPaths.Root, "examples", "HelloWorld"));
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Equal(9, await f.RemoteAsync<int>(new { i = 3 })); // The run's stop did not stop the deployed app.
        var second = await ModalAsync("run", Path.Combine(RepositoryPaths.Root, "examples", "HelloWorld"));
        Assert.True(second.ExitCode == 0, second.Output);

        // The entrypoint calls f(1000) remotely once: its container's line shows once per run, never an earlier run's.
        Assert.Equal(1, Regex.Count(first.Output, @"\[f\] hello 1000\b"));
        Assert.Equal(1, Regex.Count(second.Output, @"\[f\] hello 1000\b"));
        var firstApp = Regex.Match(first.Output, @"\bap-[0-9a-f]{32}\b").Value;
        var secondApp = Regex.Match(second.Output, @"\bap-[0-9a-f]{32}\b").Value;
        Assert.NotEqual("", firstApp);
        Assert.NotEqual(firstApp, secondApp);
        Assert.NotEqual(deployed.Id, firstApp);
        Assert.Equal("Stopped", (await spine.Client.Apps.GetAsync(firstApp)).State);
        var stillDeployed = await spine.Client.Apps.GetAsync(spine.HelloWorld);
        Assert.Equal((deployed.Id, "Deployed"), (stillDeployed.Id, stillDeployed.State));
        Assert.Equal(9, await f.RemoteAsync<int>(new { i = 3 }));
    }

    /// <summary>Runs the built <c>modal</c> CLI against the spine's Api with the install's first token; stdout and stderr together.</summary>
    private async Task<(int ExitCode, string Output)> ModalAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepositoryPaths.Root, "src", "Modal.Cli", "bin", Examples.Configuration, "net10.0", "modal.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        start.Environment[ModalCredentials.ServerUrlVariable] = spine.Client.Http.BaseAddress!.ToString();
        start.Environment[ModalCredentials.TokenIdVariable] = id;
        start.Environment[ModalCredentials.TokenSecretVariable] = secret;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the modal CLI.");
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"modal {string.Join(' ', arguments)} did not finish:\n{output}");
        }
        process.WaitForExit(); // Drains the redirected streams.
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }
}
