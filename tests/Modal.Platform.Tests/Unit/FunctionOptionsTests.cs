namespace Modal.Platform.Tests.Unit;

public sealed class FunctionOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreModalsAndValid()
    {
        var options = new FunctionOptions();

        options.Validate();

        Assert.Equal(TimeSpan.FromSeconds(300), options.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(60), options.ScaledownWindow);
        Assert.Equal(1, options.MaxConcurrentInputs);
        Assert.Null(options.Retries);
    }

    public static TheoryData<FunctionOptions, string> InvalidOptions => new()
    {
        { new FunctionOptions { Timeout = TimeSpan.FromMilliseconds(500) }, "Timeout" },
        { new FunctionOptions { Timeout = TimeSpan.FromHours(25) }, "Timeout" },
        { new FunctionOptions { Cpu = 0 }, "Cpu" },
        { new FunctionOptions { MemoryMiB = 0 }, "MemoryMiB" },
        { new FunctionOptions { MinContainers = 3, MaxContainers = 2 }, "MinContainers" },
        { new FunctionOptions { MaxContainers = 0 }, "MaxContainers" },
        { new FunctionOptions { BufferContainers = -1 }, "BufferContainers" },
        { new FunctionOptions { ScaledownWindow = TimeSpan.FromSeconds(1) }, "ScaledownWindow" },
        { new FunctionOptions { ScaledownWindow = TimeSpan.FromMinutes(21) }, "ScaledownWindow" },
        { new FunctionOptions { MaxConcurrentInputs = 0 }, "MaxConcurrentInputs" },
        { new FunctionOptions { Gpu = " " }, "Gpu" },
        { new FunctionOptions { GpuFallbacks = ["T4"] }, "GpuFallbacks" },
        { new FunctionOptions { Volumes = new Dictionary<string, string> { ["data"] = "v" } }, "Volumes" },
        { new FunctionOptions { Volumes = new Dictionary<string, string> { ["/a/../b"] = "v" } }, "Volumes" },
        { new FunctionOptions { Env = new Dictionary<string, string> { ["1BAD"] = "x" } }, "Env" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_OutOfBounds_ThrowsNamingTheOption(FunctionOptions options, string option)
    {
        var error = Assert.Throws<InvalidFunctionOptionsException>(options.Validate);

        Assert.Equal(option, error.Option);
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Boundaries_AreAccepted()
    {
        new FunctionOptions
        {
            Timeout = TimeSpan.FromSeconds(1),
            ScaledownWindow = TimeSpan.FromMinutes(20),
            MinContainers = 2,
            MaxContainers = 2,
            MaxConcurrentInputs = 1000,
            Gpu = "H100",
            GpuFallbacks = ["A100-80GB"],
            Volumes = new Dictionary<string, string> { ["/data"] = "weights" },
            Env = new Dictionary<string, string> { ["HF_HOME"] = "/data" },
        }.Validate();
    }
}
