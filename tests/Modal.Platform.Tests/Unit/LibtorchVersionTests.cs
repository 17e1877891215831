using Modal.Container.Protocol;

namespace Modal.Platform.Tests.Unit;

public sealed class LibtorchVersionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("libtorch-version-").FullName;

    [Fact]
    public void Read_LibtorchArchive_BuildVersionBesideLib()
    {
        Directory.CreateDirectory(Path.Combine(_root, "lib"));
        File.WriteAllText(Path.Combine(_root, "build-version"), "2.10.0+cu128\n");

        Assert.Equal("2.10.0+cu128", LibtorchVersion.Read(Path.Combine(_root, "lib")));
    }

    [Fact]
    public void Read_PyTorchInstall_VersionPyBesideLib()
    {
        Directory.CreateDirectory(Path.Combine(_root, "lib"));
        File.WriteAllText(Path.Combine(_root, "version.py"), "from typing import Optional\n__version__ = '2.5.1+cu124'\ngit_version = 'abc'\n");

        Assert.Equal("2.5.1+cu124", LibtorchVersion.Read(Path.Combine(_root, "lib") + "/"));
    }

    [Fact]
    public void Read_NothingBesideLib_Null()
    {
        Assert.Null(LibtorchVersion.Read(Path.Combine(_root, "lib")));
        Assert.Null(LibtorchVersion.Read(null));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
