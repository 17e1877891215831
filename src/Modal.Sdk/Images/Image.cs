using System.Security.Cryptography;
using Modal.Api.Contracts.Images;

namespace Modal;

/// <summary>
/// A container image defined in code, as Modal's <c>modal.Image</c>: immutable, each method returns a new image with one
/// more build step (<c>Image.DebianSlim().AptInstall("jq").RunCommands("...")</c>). The platform builds each step once as
/// a layer keyed by the hash of its definition and its parent's key (a redeploy of an unchanged image builds nothing;
/// adding a step builds only that step), on a runner, and the container's root file system is the image. A function
/// without an image (<see cref="FunctionOptions.Image"/>, <see cref="App.Image"/>) runs on the node's own system,
/// read-only.
/// </summary>
/// <remarks>
/// Local files (<see cref="AddLocalFile"/>, <see cref="AddLocalDir"/>, <see cref="FromRootfsTarball"/>) are read when the
/// app is deployed, never inside a container: their content hash is part of the key, so a changed file rebuilds its
/// step. Relative paths are resolved against the folder <c>modal deploy</c> runs in.
/// </remarks>
public sealed class Image
{
    private readonly Image? _parent;
    private readonly string _kind;
    private readonly IReadOnlyList<string> _args;
    private readonly IReadOnlyList<LocalFile> _files;

    private Image(Image? parent, string kind, IReadOnlyList<string> args, IReadOnlyList<LocalFile>? files = null)
    {
        _parent = parent;
        _kind = kind;
        _args = args;
        _files = files ?? [];
    }

    /// <summary>A slim Debian image (Debian 12 "bookworm" by default) with TLS roots and the libraries .NET loads.</summary>
    /// <param name="suite">The Debian suite (<c>bookworm</c>, <c>trixie</c>).</param>
    public static Image DebianSlim(string suite = ImageLimits.DefaultDebianSuite)
    {
        RequireText(suite, nameof(suite));
        return new(null, ImageStepKinds.DebianSlim, [suite, .. ImageLimits.DebianBasePackages]);
    }

    /// <summary>
    /// An image whose base is a root file system tarball on this machine (an uncompressed <c>.tar</c>, e.g. from
    /// <c>mmdebstrap</c> or <c>docker export</c>). It needs <c>/bin/sh</c> for later steps, and the libraries .NET loads
    /// (glibc, ICU, OpenSSL) for the function to start.
    /// </summary>
    /// <param name="tarballPath">The tarball's path.</param>
    public static Image FromRootfsTarball(string tarballPath)
    {
        RequireText(tarballPath, nameof(tarballPath));
        return new(null, ImageStepKinds.FromTarball, [], [new LocalFile(tarballPath, Path.GetFileName(tarballPath), null)]);
    }

    /// <summary>Installs Debian packages (<c>apt-get install -y --no-install-recommends</c>).</summary>
    /// <param name="packages">Package names, optionally with <c>=version</c>.</param>
    public Image AptInstall(params string[] packages)
    {
        ArgumentNullException.ThrowIfNull(packages);
        if (packages.Length == 0 || packages.Any(p => string.IsNullOrWhiteSpace(p) || p.Any(char.IsWhiteSpace) || p.StartsWith('-')))
        {
            throw new ArgumentException("AptInstall needs one or more package names (no blanks, no options).", nameof(packages));
        }
        return new(this, ImageStepKinds.AptInstall, packages);
    }

    /// <summary>Runs shell commands (<c>/bin/sh -c</c>) in the image as its root, in order; the first to fail fails the build.</summary>
    /// <param name="commands">The commands.</param>
    public Image RunCommands(params string[] commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        if (commands.Length == 0 || commands.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("RunCommands needs one or more commands.", nameof(commands));
        }
        return new(this, ImageStepKinds.RunCommands, commands);
    }

    /// <summary>Sets environment variables for later steps and for the container.</summary>
    /// <param name="variables">Names (letters, digits, '_') and values.</param>
    public Image Env(IReadOnlyDictionary<string, string> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        if (variables.Count == 0 || variables.Keys.Any(k => k.Length == 0 || char.IsAsciiDigit(k[0]) || !k.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')))
        {
            throw new ArgumentException("Env needs one or more variables named with letters, digits or '_' (not starting with a digit).", nameof(variables));
        }
        return new(this, ImageStepKinds.Env, [.. variables.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}")]);
    }

    /// <summary>Sets the working directory of later steps and of the container (made if missing).</summary>
    /// <param name="path">An absolute path.</param>
    public Image Workdir(string path)
    {
        RequireAbsolute(path, nameof(path));
        return new(this, ImageStepKinds.Workdir, [path]);
    }

    /// <summary>Bakes a local file into the image at build time.</summary>
    /// <param name="localPath">The file on this machine.</param>
    /// <param name="remotePath">Its absolute path in the image; one ending in '/' keeps the file's name.</param>
    public Image AddLocalFile(string localPath, string remotePath)
    {
        RequireText(localPath, nameof(localPath));
        RequireAbsolute(remotePath, nameof(remotePath));
        var target = remotePath.EndsWith('/') ? remotePath + Path.GetFileName(localPath) : remotePath;
        return new(this, ImageStepKinds.AddFiles, [], [new LocalFile(localPath, target, null)]);
    }

    /// <summary>Bakes a local folder (recursively) into the image at build time.</summary>
    /// <param name="localPath">The folder on this machine.</param>
    /// <param name="remotePath">The absolute path of the folder in the image.</param>
    public Image AddLocalDir(string localPath, string remotePath)
    {
        RequireText(localPath, nameof(localPath));
        RequireAbsolute(remotePath, nameof(remotePath));
        return new(this, ImageStepKinds.AddFiles, [], [new LocalFile(localPath, remotePath.TrimEnd('/'), Directory: true)]);
    }

    /// <summary>
    /// The image's wire form: every step with its key. Reads (and hashes) the local files the image names.
    /// </summary>
    /// <exception cref="FileNotFoundException">A local file or folder is missing.</exception>
    public ImageManifest ToManifest()
    {
        var chain = new List<Image>();
        for (var image = this; image is not null; image = image._parent)
        {
            chain.Add(image);
        }
        chain.Reverse();
        var steps = new List<ImageStepManifest>(chain.Count);
        var parentKey = "";
        foreach (var image in chain)
        {
            var files = image._files.Count == 0 ? null : image._files.SelectMany(f => f.Resolve()).ToList();
            var key = ImageKeys.StepKey(parentKey, image._kind, image._args, files);
            steps.Add(new ImageStepManifest(key, image._kind, image._args, files));
            parentKey = key;
        }
        return new ImageManifest(parentKey, steps);
    }

    /// <summary>The image's steps as written (<c>DebianSlim("bookworm").AptInstall("jq")</c>).</summary>
    public override string ToString() => string.Join(".", ToManifestWithoutFiles().Select(ImageStepKinds.Describe));

    private List<ImageStepManifest> ToManifestWithoutFiles()
    {
        var steps = new List<ImageStepManifest>();
        for (var image = this; image is not null; image = image._parent)
        {
            steps.Insert(0, new ImageStepManifest("", image._kind, image._args,
                [.. image._files.Select(f => new ImageFileManifest(f.Target, "", 0))]));
        }
        return steps;
    }

    private static void RequireText(string value, string name)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"{name} must not be blank.", name);
        }
    }

    private static void RequireAbsolute(string path, string name)
    {
        if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/') || path.Split('/').Contains(".."))
        {
            throw new ArgumentException($"{name} must be an absolute path without '..' (was '{path}').", name);
        }
    }

    /// <summary>A local file (or folder) an image step reads at deploy time.</summary>
    private sealed record LocalFile(string LocalPath, string Target, bool? Directory)
    {
        public IEnumerable<ImageFileManifest> Resolve()
        {
            var local = Path.GetFullPath(LocalPath, InvocationDirectory());
            if (Directory != true)
            {
                if (!File.Exists(local))
                {
                    throw new FileNotFoundException($"The image's local file '{LocalPath}' does not exist (looked at '{local}').", local);
                }
                yield return Manifest(local, Target);
                yield break;
            }
            if (!System.IO.Directory.Exists(local))
            {
                throw new DirectoryNotFoundException($"The image's local folder '{LocalPath}' does not exist (looked at '{local}').");
            }
            foreach (var file in System.IO.Directory.EnumerateFiles(local, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var relative = Path.GetRelativePath(local, file).Replace('\\', '/');
                yield return Manifest(file, $"{Target}/{relative}");
            }
        }

        private static ImageFileManifest Manifest(string local, string target)
        {
            using var stream = File.OpenRead(local);
            var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            var mode = OperatingSystem.IsWindows() ? 420 : (int)File.GetUnixFileMode(local) & 0x1FF;
            return new ImageFileManifest(target, hash, mode, local);
        }

        // `modal deploy` runs the program in its build folder; paths the user wrote are relative to where they stand.
        private static string InvocationDirectory() =>
            Environment.GetEnvironmentVariable(Secret.InvocationDirectoryVariable) is { Length: > 0 } directory
                ? directory
                : Environment.CurrentDirectory;
    }
}
