namespace Modal.Api.Contracts.Images;

/// <summary>
/// An image as a chain of build steps (what <c>Image.DebianSlim().AptInstall(...)</c> describes). Each step is a layer
/// whose <see cref="ImageStepManifest.Key"/> is the hash of its definition and its parent's key, so a step already built
/// for the workspace is never built again.
/// </summary>
/// <param name="Id">The key of the last step: the image's id.</param>
/// <param name="Steps">The steps, base first.</param>
public sealed record ImageManifest(string Id, IReadOnlyList<ImageStepManifest> Steps);

/// <summary>One build step.</summary>
/// <param name="Key">SHA-256 (hex) of the parent's key and this step's definition.</param>
/// <param name="Kind">One of <see cref="ImageStepKinds"/>.</param>
/// <param name="Args">The step's arguments: packages, commands, <c>NAME=value</c> pairs, a folder, a Debian suite.</param>
/// <param name="Files">Files the step adds (by content hash), or the root file system tarball it starts from.</param>
public sealed record ImageStepManifest(string Key, string Kind, IReadOnlyList<string> Args, IReadOnlyList<ImageFileManifest>? Files = null);

/// <summary>A file baked into an image, stored as a blob of the workspace.</summary>
/// <param name="Path">Absolute path in the image (for a tarball base: its file name).</param>
/// <param name="Sha256">The content's hash (the blob's id).</param>
/// <param name="Mode">Unix permission bits (e.g. 420 for 0644).</param>
/// <param name="LocalPath">Where the deploying machine reads it; not part of the key, ignored by the platform.</param>
public sealed record ImageFileManifest(string Path, string Sha256, int Mode, string? LocalPath = null);

/// <summary>The kinds of image steps, by their wire names.</summary>
public static class ImageStepKinds
{
    /// <summary>A Debian root file system from the package mirror (<c>mmdebstrap</c>); args: suite, then packages to include.</summary>
    public const string DebianSlim = "debian_slim";

    /// <summary>A root file system tarball the deployer uploaded; one file.</summary>
    public const string FromTarball = "from_tarball";

    /// <summary><c>apt-get install</c> of the args.</summary>
    public const string AptInstall = "apt_install";

    /// <summary>Each arg run by <c>/bin/sh -c</c> in the image, in order.</summary>
    public const string RunCommands = "run_commands";

    /// <summary>Environment variables (<c>NAME=value</c> args) for later steps and the container.</summary>
    public const string Env = "env";

    /// <summary>The working directory (one arg) for later steps and the container.</summary>
    public const string Workdir = "workdir";

    /// <summary>Files copied into the image (<see cref="ImageStepManifest.Files"/>).</summary>
    public const string AddFiles = "add_files";

    /// <summary>Whether a step of this kind changes only metadata (no new file system layer).</summary>
    public static bool IsMetadata(string kind) => kind is Env or Workdir;

    /// <summary>A step as the SDK spells it, for logs and errors: <c>AptInstall("jq")</c>.</summary>
    public static string Describe(ImageStepManifest step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var args = string.Join(", ", step.Args.Select(a => $"\"{a}\""));
        return step.Kind switch
        {
            DebianSlim => $"DebianSlim(\"{(step.Args.Count > 0 ? step.Args[0] : "")}\")",
            FromTarball => $"FromRootfsTarball(\"{(step.Files is { Count: > 0 } files ? files[0].Path : "")}\")",
            AptInstall => $"AptInstall({args})",
            RunCommands => $"RunCommands({args})",
            Env => $"Env({args})",
            Workdir => $"Workdir({args})",
            AddFiles => $"AddLocalFiles({string.Join(", ", (step.Files ?? []).Select(f => $"\"{f.Path}\""))})",
            _ => $"{step.Kind}({args})",
        };
    }
}

/// <summary>What <c>POST /v1/images</c> builds (or finds built): an image of the caller's workspace.</summary>
/// <param name="Image">The image.</param>
public sealed record BuildImageRequest(ImageManifest Image);

/// <summary>What <c>POST /v1/images</c> answers: the image is built (<see cref="Result"/>), or a build runs (<see cref="BuildId"/>).</summary>
/// <param name="ImageId">The image.</param>
/// <param name="BuildId">The build to follow (<c>GET /v1/images/builds/{buildId}</c>); null when the image is built.</param>
/// <param name="Started">True when this request started the build; false when it joined one another deploy started.</param>
/// <param name="Result">The outcome when every step was built before.</param>
public sealed record ImageBuildStatus(string ImageId, Guid? BuildId, bool Started, ImageBuildResult? Result);

/// <summary>A page of a build's log (<c>GET /v1/images/builds/{buildId}?after=</c>): entries in order, the last one possibly its outcome.</summary>
/// <param name="Events">Log lines, then (once) the outcome.</param>
/// <param name="Next">Pass as <c>after</c> to read on.</param>
public sealed record ImageBuildPage(IReadOnlyList<ImageBuildEvent> Events, string Next);

/// <summary>An entry of a build's log: a line the build printed, or its outcome.</summary>
/// <param name="Log">A line the build printed; null on the outcome line.</param>
/// <param name="Result">The outcome, on the last line only.</param>
public sealed record ImageBuildEvent(string? Log = null, ImageBuildResult? Result = null);

/// <summary>How an image build ended.</summary>
/// <param name="ImageId">The image.</param>
/// <param name="Succeeded">Whether every step is built.</param>
/// <param name="BuiltSteps">Steps this request built (0: all were built before).</param>
/// <param name="FailedStep">The failing step's index, when one failed.</param>
/// <param name="FailedStepDescription">The failing step, as the user wrote it (<c>RunCommands("exit 3")</c>).</param>
/// <param name="Error">Why it failed, with the tail of its log.</param>
/// <param name="SizeBytes">The image's size (its last file system layer, uncompressed).</param>
public sealed record ImageBuildResult(
    string ImageId, bool Succeeded, int BuiltSteps, int? FailedStep = null, string? FailedStepDescription = null, string? Error = null,
    long SizeBytes = 0);

/// <summary>An image of the workspace, as <c>GET /v1/images</c> lists it.</summary>
/// <param name="ImageId">The image (its last step's key).</param>
/// <param name="Definition">Its steps, as the user wrote them.</param>
/// <param name="SizeBytes">Size of its file system (uncompressed tar).</param>
/// <param name="BuiltAt">When its last step was built.</param>
/// <param name="LastUsedAt">When a deploy last asked for it.</param>
public sealed record ImageInfo(string ImageId, string Definition, long SizeBytes, DateTimeOffset BuiltAt, DateTimeOffset LastUsedAt);

/// <summary>Image limits shared by the platform and the SDK.</summary>
public static class ImageLimits
{
    /// <summary>The Debian suite <c>Image.DebianSlim()</c> builds by default (Debian 12).</summary>
    public const string DefaultDebianSuite = "bookworm";

    /// <summary>Packages every Debian base includes: TLS roots and what the .NET runtime loads (ICU, OpenSSL).</summary>
    public static readonly IReadOnlyList<string> DebianBasePackages = ["ca-certificates", "libicu72", "libssl3"];
}
