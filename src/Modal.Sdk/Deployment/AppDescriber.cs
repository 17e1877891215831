using System.Diagnostics;
using System.Text.Json;
using Modal.Api.Contracts.Apps;
using Modal.Rest;

namespace Modal.Deployment;

/// <summary>Asks a built app to describe itself (<c>dotnet app.dll --modal-describe</c>), as a deploy does.</summary>
public static class AppDescriber
{
    /// <summary>The app's manifest, as its own program prints it.</summary>
    /// <param name="entryAssemblyPath">The app's built entry assembly.</param>
    /// <param name="cancellationToken">Stops waiting (and kills the program).</param>
    /// <exception cref="InvalidOperationException">The program failed or printed no manifest; the message carries its output.</exception>
    public static async Task<AppManifest> DescribeAsync(string entryAssemblyPath, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(entryAssemblyPath))!,
        };
        start.ArgumentList.Add(entryAssemblyPath);
        start.ArgumentList.Add(App.DescribeArgument);
        // Describing must not turn the program into a function server, whatever the caller's environment says.
        start.Environment.Remove(Container.Protocol.ContainerProtocol.SocketVariable);
        // The program runs in its build folder; Secret.FromDotEnv resolves relative paths against where the user is.
        start.Environment[Secret.InvocationDirectoryVariable] = Environment.CurrentDirectory;

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start 'dotnet {entryAssemblyPath}'.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var printed = await output.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{entryAssemblyPath} {App.DescribeArgument}' exited with {process.ExitCode}:\n{await error.ConfigureAwait(false)}");
        }
        var manifestLine = printed.Split('\n').LastOrDefault(line => line.TrimStart().StartsWith('{'))
            ?? throw new InvalidOperationException($"'{entryAssemblyPath}' printed no app manifest. Does its Main return app.RunAsync(args)?");
        return JsonSerializer.Deserialize<AppManifest>(manifestLine, App.SerializerOptions)
            ?? throw new InvalidOperationException($"'{entryAssemblyPath}' printed an empty manifest.");
    }
}
