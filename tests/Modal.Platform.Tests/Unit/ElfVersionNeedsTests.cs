using Modal.Torch.Build;

namespace Modal.Platform.Tests.Unit;

/// <summary>The build-time patch that lets TorchSharp's native library load on Debian 12, on the real library.</summary>
public sealed class ElfVersionNeedsTests : IDisposable
{
    private static readonly string Shipped = Path.Combine(
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private readonly string _copy = Path.Combine(Path.GetTempPath(), $"libLibTorchSharp-{Guid.NewGuid():N}.so");

    public ElfVersionNeedsTests() => File.Copy(Shipped, _copy);

    [Fact]
    public void MarkWeak_TorchSharpsNativeLibrary_OnlyGlibcxx3432BecomesWeak()
    {
        var before = ElfVersionNeeds.Read(File.ReadAllBytes(_copy));

        var said = ElfVersionNeeds.MarkWeak(_copy, ["GLIBCXX_3.4.32"], ["_ZSt21ios_base_library_initv"]);

        var after = ElfVersionNeeds.Read(File.ReadAllBytes(_copy));
        Assert.Equal("marked weak: GLIBCXX_3.4.32", said);
        Assert.True(after.Single(n => n.Version == "GLIBCXX_3.4.32").Weak);
        Assert.False(before.Single(n => n.Version == "GLIBCXX_3.4.32").Weak);
        Assert.All(after.Where(n => n.Version != "GLIBCXX_3.4.32"), need => Assert.False(need.Weak));
        Assert.Equal(new FileInfo(Shipped).Length, new FileInfo(_copy).Length);
        Assert.False(ElfVersionNeeds.Read(File.ReadAllBytes(Shipped)).Single(n => n.Version == "GLIBCXX_3.4.32").Weak); // The package's own is untouched.
    }

    [Fact]
    public void MarkWeak_Twice_SaysAlreadyWeak()
    {
        ElfVersionNeeds.MarkWeak(_copy, ["GLIBCXX_3.4.32"], ["_ZSt21ios_base_library_initv"]);

        Assert.Equal("already weak", ElfVersionNeeds.MarkWeak(_copy, ["GLIBCXX_3.4.32"], ["_ZSt21ios_base_library_initv"]));
    }

    [Fact]
    public void MarkWeak_AVersionOtherSymbolsNeed_RefusesAndLeavesTheFile()
    {
        var original = File.ReadAllBytes(_copy);

        var refused = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(_copy, ["GLIBCXX_3.4.32"], []));

        Assert.Contains("_ZSt21ios_base_library_initv", refused.Message, StringComparison.Ordinal);
        Assert.Equal(original, File.ReadAllBytes(_copy));
    }

    [Fact]
    public void MarkWeak_NotAnElfFile_Refuses()
    {
        File.WriteAllText(_copy, "not an ELF file at all, just some text long enough to have a header's worth of bytes in it.");

        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.MarkWeak(_copy, ["GLIBCXX_3.4.32"], []));
    }

    public void Dispose() => File.Delete(_copy);
}
