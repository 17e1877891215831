namespace Modal.Contracts.Images;

/// <summary>
/// Command (Api → any runner, queue <see cref="QueueName"/>): build the steps of an image that are not built yet, as
/// the workspace. The runner publishes <see cref="ImageBuildLogged"/> as the build prints and <see cref="ImageBuildFinished"/>
/// at its end. The Api sends it only while it holds the image's build claim, so an image is built once at a time.
/// </summary>
public sealed record BuildImage
{
    public const string QueueName = "image-builds";

    public required Guid WorkspaceId { get; init; }

    /// <summary>This build attempt (its log and outcome are filed under it).</summary>
    public required Guid BuildId { get; init; }

    /// <summary>The image (its last step's key).</summary>
    public required string ImageId { get; init; }

    /// <summary>Every step, base first; <see cref="ImageBuildStep.Layer"/> is set on those already built.</summary>
    public required IReadOnlyList<ImageBuildStep> Steps { get; init; }
}

/// <summary>One step of an image as the runner builds it.</summary>
public sealed record ImageBuildStep
{
    public required string Key { get; init; }
    public required string Kind { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public IReadOnlyList<ImageBuildFile> Files { get; init; } = [];

    /// <summary>How the step is written in the SDK, for logs and errors.</summary>
    public required string Description { get; init; }

    /// <summary>The step's layer when it is built already; null when it is to be built.</summary>
    public ImageLayer? Layer { get; init; }
}

/// <summary>A file a step adds (or a base tarball): a blob of the workspace.</summary>
public sealed record ImageBuildFile
{
    public required string Path { get; init; }
    public required string Sha256 { get; init; }
    public int Mode { get; init; } = 420;
}

/// <summary>
/// A built layer: the file system after its step, a tar stored as a blob of the workspace (<see cref="RootBlob"/>;
/// a metadata step, Env or Workdir, shares its parent's).
/// </summary>
public sealed record ImageLayer
{
    public required string Key { get; init; }

    /// <summary>SHA-256 of the tar of the whole root file system after this step.</summary>
    public required string RootBlob { get; init; }

    /// <summary>Size of that tar in bytes.</summary>
    public required long SizeBytes { get; init; }

    /// <summary>Environment variables in force after this step (NAME=value), for later steps and the container.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>Working directory after this step; null for the default.</summary>
    public string? Workdir { get; init; }

    public required DateTimeOffset BuiltAt { get; init; }
}

/// <summary>Event (runner → Api): lines an image build printed, in order (<see cref="Sequence"/> counts batches of one build).</summary>
public sealed record ImageBuildLogged
{
    public required Guid WorkspaceId { get; init; }
    public required Guid BuildId { get; init; }
    public required string ImageId { get; init; }
    public required long Sequence { get; init; }
    public required IReadOnlyList<string> Lines { get; init; }
}

/// <summary>Event (runner → Api): an image build ended; the layers it built are stored in Storage.</summary>
public sealed record ImageBuildFinished
{
    public required Guid WorkspaceId { get; init; }
    public required Guid BuildId { get; init; }
    public required string ImageId { get; init; }
    public required bool Succeeded { get; init; }

    /// <summary>Layers built by this build, in order (also on failure: the steps before the failing one).</summary>
    public IReadOnlyList<ImageLayer> Built { get; init; } = [];

    /// <summary>The failing step's index; null on success or a failure outside a step.</summary>
    public int? FailedStep { get; init; }

    /// <summary>The failing step as written in the SDK.</summary>
    public string? FailedStepDescription { get; init; }

    /// <summary>Why it failed, with the tail of the step's log.</summary>
    public string? Error { get; init; }

    /// <summary>The runner that built it.</summary>
    public required string RunnerId { get; init; }
}

/// <summary>A function's image as a runner runs it: the root file system tar (a blob of the app's workspace) and its settings.</summary>
public sealed record ImageRootSpec
{
    /// <summary>The image (its last step's key).</summary>
    public required string ImageId { get; init; }

    /// <summary>SHA-256 of the root file system tar.</summary>
    public required string RootBlob { get; init; }

    /// <summary>Environment variables of the image (NAME=value); the function's own and its secrets win.</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>The container's working directory; null: the bundle's folder.</summary>
    public string? Workdir { get; init; }
}
