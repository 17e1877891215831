using System.Text.Json;
using System.Text.RegularExpressions;
using Modal.Api.Contracts.Gpus;
using Modal.Api.Domain;
using Modal.Api.Contracts.Web;

namespace Modal.Api.Apps;

/// <summary>
/// Reads and checks the function manifests of a deploy or a run (as the SDK's <c>--modal-describe</c> prints them):
/// every error found, keyed as a validation problem's fields are, so a person can fix them all at once.
/// </summary>
public static partial class FunctionManifests
{
    public static (List<(FunctionSignature Signature, string Json)> Manifests, Dictionary<string, string[]> Errors) Read(
        IReadOnlyList<JsonElement>? functions)
    {
        var errors = new Dictionary<string, string[]>();
        var manifests = new List<(FunctionSignature Signature, string Json)>();
        foreach (var (element, index) in (functions ?? []).Select((f, i) => (f, i)))
        {
            FunctionSignature? signature = null;
            try
            {
                signature = element.Deserialize<FunctionSignature>(FunctionSignature.Json);
            }
            catch (JsonException e)
            {
                errors[$"functions[{index}]"] = [$"Not a function manifest: {e.Message}"];
                continue;
            }
            if (signature is null || signature.Name is null || !FunctionNamePattern().IsMatch(signature.Name))
            {
                errors[$"functions[{index}].name"] = [$"Function name '{signature?.Name}' is invalid: use 1-64 letters, digits, '-', '_' or '.'."];
                continue;
            }
            if (signature.Parameters is null || signature.Parameters.Any(p => string.IsNullOrWhiteSpace(p.Name)))
            {
                errors[$"functions[{index}].parameters"] = ["Every parameter needs a name (an empty list is fine)."];
                continue;
            }
            if (GpuRequest.TryParseAll(signature.Gpu, signature.GpuFallbacks, out var badGpus) is null)
            {
                errors[$"functions[{index}].gpu"] = badGpus.Select(error => $"{signature.Name}: {error}").ToArray();
                continue;
            }
            // The runner turns these into the container's cgroup limits; the SDK checks the same bounds before a deploy.
            if (signature.Cpu is not (> 0 and <= 64) || signature.MemoryMiB is not (>= 1 and <= 1024 * 1024))
            {
                errors[$"functions[{index}].resources"] =
                    [$"{signature.Name}: cpu must be more than 0 and at most 64 (was {signature.Cpu}); memoryMiB between 1 and 1048576 (was {signature.MemoryMiB})."];
                continue;
            }
            if (signature.Secrets is { } used && used.Any(s => s is null || string.IsNullOrWhiteSpace(s.Name)))
            {
                errors[$"functions[{index}].secrets"] = ["Every secret needs a name."];
                continue;
            }
            if (signature.Web is { } web && WebManifestError(web) is { } webError)
            {
                errors[$"functions[{index}].web"] = [$"{signature.Name}: {webError}"];
                continue;
            }
            if (Schedules.FunctionSchedules.Error(signature) is { } scheduleError)
            {
                errors[$"functions[{index}].schedule"] = [$"{signature.Name}: {scheduleError}"];
                continue;
            }
            manifests.Add((signature with { TimeoutSeconds = signature.TimeoutSeconds <= 0 ? 300 : signature.TimeoutSeconds }, element.GetRawText()));
        }
        foreach (var duplicate in manifests.GroupBy(m => m.Signature.Name).Where(g => g.Count() > 1))
        {
            errors[$"functions.{duplicate.Key}"] = [$"Function '{duplicate.Key}' is listed more than once."];
        }
        return (manifests, errors);
    }

    /// <summary>What is wrong with a function's web endpoint manifest; null when nothing is.</summary>
    private static string? WebManifestError(Modal.Api.Contracts.Web.WebEndpointManifest web)
    {
        if (web.Kind is not (WebEndpointKinds.Function or WebEndpointKinds.AspNetApp or WebEndpointKinds.Server))
        {
            return $"web kind '{web.Kind}' is unknown; use {WebEndpointKinds.Function}, {WebEndpointKinds.AspNetApp} or {WebEndpointKinds.Server}.";
        }
        if (web.Label is { } label && !Web.WebEndpointNames.IsValidLabel(label))
        {
            return $"web label '{label}' is invalid: use 1-63 lowercase letters, digits or inner dashes.";
        }
        if (web.Kind == WebEndpointKinds.Function
            && (web.Methods is not { Count: > 0 } methods || methods.Any(m => m is null || !HttpMethodPattern().IsMatch(m))))
        {
            return "a web function needs its HTTP methods, upper case (e.g. [\"GET\"]).";
        }
        if (web.Kind == WebEndpointKinds.Server && web.Port is not (> 0 and <= 65535))
        {
            return "a server needs the port it listens on (1-65535).";
        }
        return web.StartupTimeoutSeconds is > 0 and <= 3600 ? null : "web startup timeout must be more than 0 and at most 3600 seconds.";
    }

    [GeneratedRegex("^[A-Z]{1,16}$")]
    private static partial Regex HttpMethodPattern();

    /// <summary>The error of a bundle id that is not the SHA-256 of a manifest blob; null when it is one (or absent).</summary>
    public static string? BundleIdError(string? bundleId) =>
        bundleId is { } bundle && (bundle.Length != 64 || !bundle.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'))
            ? $"'{bundle}' is not a bundle id (the SHA-256 of its manifest blob, lowercase hex)."
            : null;

    // A class's methods are functions named after it (Model.Generate), so function names may carry capitals.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex FunctionNamePattern();
}
