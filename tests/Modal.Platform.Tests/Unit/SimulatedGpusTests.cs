using System.ComponentModel.DataAnnotations;
using Modal.GpuRunner;
using Modal.GpuRunner.Domain;

namespace Modal.Platform.Tests.Unit;

public sealed class SimulatedGpusTests
{
    [Fact]
    public void Expand_TypesAndCounts_OneEntryPerGpuInOrder_WithCanonicalNames()
    {
        Assert.Equal(["H100", "H100", "A10G", "T4"], SimulatedGpusAttribute.Expand(["h100:2", "A10G:1", " t4 "]));
    }

    [Theory]
    [InlineData("A100", "not a GPU type")] // A family names no one GPU: a runner has 40 or 80 GB ones.
    [InlineData("V100", "not a GPU type")]
    [InlineData("H100:0", "TYPE or TYPE:COUNT")]
    [InlineData("H100:x", "TYPE or TYPE:COUNT")]
    [InlineData("H100:1:2", "TYPE or TYPE:COUNT")]
    public void Options_BadEntry_AreRefusedNamingIt(string entry, string reason)
    {
        var options = new GpuRunnerOptions { SimulatedGpus = ["T4", entry] };
        var results = new List<ValidationResult>();

        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        var error = Assert.Single(results, r => r.MemberNames.Contains(nameof(GpuRunnerOptions.SimulatedGpus))).ErrorMessage;
        Assert.Contains($"'{entry}'", error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
