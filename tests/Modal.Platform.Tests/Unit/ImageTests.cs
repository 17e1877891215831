using Modal.Api.Contracts.Images;

namespace Modal.Platform.Tests.Unit;

/// <summary>The SDK's image definitions: each step's key is the hash of its definition and its parent's key.</summary>
public sealed class ImageTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("modal-image-test-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ToManifest_SameDefinition_SameKeys()
    {
        var first = Image.DebianSlim().AptInstall("jq").RunCommands("echo hi").ToManifest();
        var second = Image.DebianSlim().AptInstall("jq").RunCommands("echo hi").ToManifest();

        Assert.Equal(first, second, ManifestComparer.Instance);
        Assert.Equal(first.Steps[^1].Key, first.Id);
        Assert.Equal(3, first.Steps.Count);
        Assert.All(first.Steps, step => Assert.Matches("^[0-9a-f]{64}$", step.Key));
        Assert.Null(ImageKeys.Error(first));
    }

    [Fact]
    public void ToManifest_OneMoreStep_KeepsTheParentsKeysAndAddsOne()
    {
        var image = Image.DebianSlim().AptInstall("jq");
        var longer = image.RunCommands("echo more").ToManifest();
        var shorter = image.ToManifest();

        Assert.Equal(shorter.Steps.Select(s => s.Key), longer.Steps.Take(2).Select(s => s.Key));
        Assert.NotEqual(shorter.Id, longer.Id);
        // The image value did not change: immutable, as Modal's.
        Assert.Equal(2, image.ToManifest().Steps.Count);
    }

    [Fact]
    public void ToManifest_AnyChangeBelow_ChangesEveryKeyAbove()
    {
        var jq = Image.DebianSlim().AptInstall("jq").RunCommands("echo hi").ToManifest();
        var curl = Image.DebianSlim().AptInstall("curl").RunCommands("echo hi").ToManifest();
        var trixie = Image.DebianSlim("trixie").AptInstall("jq").RunCommands("echo hi").ToManifest();

        Assert.Equal(jq.Steps[0].Key, curl.Steps[0].Key);
        Assert.NotEqual(jq.Steps[1].Key, curl.Steps[1].Key);
        Assert.NotEqual(jq.Steps[2].Key, curl.Steps[2].Key); // Same step, other parent.
        Assert.NotEqual(jq.Steps[0].Key, trixie.Steps[0].Key);
    }

    [Fact]
    public void ToManifest_LocalFile_KeyedByContentNotByWhereItIsRead()
    {
        var a = Path.Combine(_folder, "a.txt");
        var b = Path.Combine(_folder, "b.txt");
        File.WriteAllText(a, "baked");
        File.WriteAllText(b, "baked");

        var fromA = Image.DebianSlim().AddLocalFile(a, "/etc/app/config.txt").ToManifest();
        var fromB = Image.DebianSlim().AddLocalFile(b, "/etc/app/config.txt").ToManifest();
        File.WriteAllText(b, "changed");
        var changed = Image.DebianSlim().AddLocalFile(b, "/etc/app/config.txt").ToManifest();

        Assert.Equal(fromA.Id, fromB.Id);
        Assert.NotEqual(fromB.Id, changed.Id);
        var file = Assert.Single(fromA.Steps[1].Files!);
        Assert.Equal("/etc/app/config.txt", file.Path);
        Assert.Equal(a, file.LocalPath);
    }

    [Fact]
    public void ToManifest_LocalDir_EveryFileUnderItsTarget()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "d", "sub"));
        File.WriteAllText(Path.Combine(_folder, "d", "one.txt"), "1");
        File.WriteAllText(Path.Combine(_folder, "d", "sub", "two.txt"), "2");

        var step = Image.DebianSlim().AddLocalDir(Path.Combine(_folder, "d"), "/opt/data/").ToManifest().Steps[1];

        Assert.Equal(["/opt/data/one.txt", "/opt/data/sub/two.txt"], step.Files!.Select(f => f.Path));
    }

    [Fact]
    public void ToManifest_EnvOrder_DoesNotMatter()
    {
        var one = Image.DebianSlim().Env(new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" }).ToManifest();
        var two = Image.DebianSlim().Env(new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" }).ToManifest();

        Assert.Equal(one.Id, two.Id);
        Assert.Equal(["A=1", "B=2"], one.Steps[1].Args);
    }

    [Fact]
    public void ToManifest_MissingLocalFile_Throws()
    {
        var image = Image.DebianSlim().AddLocalFile(Path.Combine(_folder, "missing.txt"), "/x");

        Assert.Throws<FileNotFoundException>(() => image.ToManifest());
    }

    [Fact]
    public void Steps_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => Image.DebianSlim().AptInstall());
        Assert.Throws<ArgumentException>(() => Image.DebianSlim().AptInstall("-o", "x"));
        Assert.Throws<ArgumentException>(() => Image.DebianSlim().RunCommands(" "));
        Assert.Throws<ArgumentException>(() => Image.DebianSlim().Workdir("relative"));
        Assert.Throws<ArgumentException>(() => Image.DebianSlim().AddLocalFile("x", "/a/../b"));
        Assert.Throws<ArgumentException>(() => Image.DebianSlim().Env(new Dictionary<string, string> { ["1A"] = "x" }));
    }

    [Fact]
    public void Error_TamperedKeyOrMisplacedBase_IsNamed()
    {
        var good = Image.DebianSlim().AptInstall("jq").ToManifest();
        var tampered = good with { Steps = [good.Steps[0], good.Steps[1] with { Args = ["curl"] }] };
        var twoBases = good with { Steps = [good.Steps[0], good.Steps[0]] };

        Assert.Contains("key", ImageKeys.Error(tampered), StringComparison.Ordinal);
        Assert.Contains("base", ImageKeys.Error(twoBases), StringComparison.Ordinal);
        Assert.NotNull(ImageKeys.Error(good with { Id = good.Steps[0].Key }));
    }

    [Fact]
    public void ToString_SpellsTheStepsAsWritten()
    {
        Assert.Equal("DebianSlim(\"bookworm\").AptInstall(\"jq\").RunCommands(\"echo hi\")",
            Image.DebianSlim().AptInstall("jq").RunCommands("echo hi").ToString());
    }

    private sealed class ManifestComparer : IEqualityComparer<ImageManifest>
    {
        public static readonly ManifestComparer Instance = new();

        public bool Equals(ImageManifest? x, ImageManifest? y) =>
            x?.Id == y?.Id && x!.Steps.Select(s => s.Key).SequenceEqual(y!.Steps.Select(s => s.Key));

        public int GetHashCode(ImageManifest obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
