using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Modal.Api.Contracts.Images;

/// <summary>
/// How a layer is named: SHA-256 of its parent's key and its canonical definition. The SDK computes keys, the Api
/// checks them (<see cref="Error"/>), so a layer's key always says what is in it.
/// </summary>
public static class ImageKeys
{
    /// <summary>
    /// A layer's key: SHA-256 (lowercase hex) of its parent's key (empty for a base) and its kind, args, and each file's
    /// path in the image, content hash and mode (never where the file was read from).
    /// </summary>
    public static string StepKey(string parentKey, string kind, IReadOnlyList<string> args, IReadOnlyList<ImageFileManifest>? files)
    {
        ArgumentNullException.ThrowIfNull(parentKey);
        ArgumentNullException.ThrowIfNull(args);
        var definition = JsonSerializer.Serialize(new
        {
            parent = parentKey,
            kind,
            args,
            files = files?.Select(f => new { path = f.Path, sha256 = f.Sha256, mode = f.Mode }),
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(definition)));
    }

    /// <summary>Why a manifest cannot be built as sent (a wrong key, an unknown kind, a misplaced base), or null.</summary>
    public static string? Error(ImageManifest? image)
    {
        if (image?.Steps is not { Count: > 0 } steps)
        {
            return "An image needs at least a base step.";
        }
        var parent = "";
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var isBase = step.Kind is ImageStepKinds.DebianSlim or ImageStepKinds.FromTarball;
            if (isBase != (i == 0))
            {
                return $"Step {i} ({step.Kind}): an image starts with exactly one base (debian_slim or from_tarball).";
            }
            if (step.Kind is not (ImageStepKinds.DebianSlim or ImageStepKinds.FromTarball or ImageStepKinds.AptInstall or ImageStepKinds.RunCommands
                or ImageStepKinds.Env or ImageStepKinds.Workdir or ImageStepKinds.AddFiles))
            {
                return $"Step {i}: unknown kind '{step.Kind}'.";
            }
            if (step.Args is null || (step.Files ?? []).Any(f => f is null || !IsHash(f.Sha256) || !(f.Path?.Length > 0)))
            {
                return $"Step {i} ({step.Kind}): args and files (each with a path and a SHA-256) are required.";
            }
            if (step.Kind is ImageStepKinds.FromTarball ? step.Files is not { Count: 1 } : step.Kind is ImageStepKinds.AddFiles && step.Files is not { Count: > 0 })
            {
                return $"Step {i} ({step.Kind}): wrong number of files.";
            }
            if (step.Kind is ImageStepKinds.AddFiles && step.Files!.Any(f => !f.Path.StartsWith('/') || f.Path.Split('/').Contains("..")))
            {
                return $"Step {i}: file paths must be absolute, without '..'.";
            }
            var key = StepKey(parent, step.Kind, step.Args, step.Files);
            if (step.Key != key)
            {
                return $"Step {i} ({step.Kind}): its key is not the hash of its definition and its parent's key.";
            }
            parent = key;
        }
        return image.Id == parent ? null : "The image's id is not its last step's key.";
    }

    private static bool IsHash(string? value) => value is { Length: 64 } && value.All(char.IsAsciiHexDigitLower);
}
