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
        { new FunctionOptions { Gpu = "V100" }, "Gpu" },
        { new FunctionOptions { Gpu = "H100:9" }, "Gpu" },
        { new FunctionOptions { Gpu = "T4", GpuFallbacks = ["L4", "any!"] }, "GpuFallbacks" },
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
    public void Validate_UnknownGpuType_SaysWhichTypesExist()
    {
        var error = Assert.Throws<InvalidFunctionOptionsException>(new FunctionOptions { Gpu = "V100" }.Validate);

        Assert.Contains("'V100' is unknown", error.Message, StringComparison.Ordinal);
        Assert.Contains("H100", error.Message, StringComparison.Ordinal);
        new FunctionOptions { Gpu = "a100:2", GpuFallbacks = ["h100!", "any"] }.Validate(); // Modal's spellings, any case.
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

public sealed class MapSlicingTests
{
    private static List<Modal.Contracts.Maps.MapInput> Inputs(int count, int argumentBytes = 10) =>
        Enumerable.Range(0, count).Select(i => new Modal.Contracts.Maps.MapInput
        {
            Index = i, ArgumentsJson = new string('x', argumentBytes), Attempt = 1,
        }).ToList();

    private static Modal.Api.Domain.FunctionSignature Signature(int? maxContainers, int concurrency = 1) =>
        new("f", [], "System.Int32", 60, MaxConcurrentInputs: concurrency, MaxContainers: maxContainers);

    [Fact]
    public void Slices_SmallPage_AtLeastOneMessagePerContainerSoTheMapSpreads()
    {
        var slices = Modal.Api.Endpoints.MapEndpoints.Slices(Inputs(100), Signature(maxContainers: 10)).ToList();

        Assert.Equal(10, slices.Count);
        Assert.All(slices, slice => Assert.Equal(10, slice.Count));
    }

    [Fact]
    public void Slices_LargePageForOneContainer_CapsInputsPerMessage()
    {
        var slices = Modal.Api.Endpoints.MapEndpoints.Slices(Inputs(1000), Signature(maxContainers: 1)).ToList();

        Assert.All(slices, slice => Assert.True(slice.Count <= Modal.Api.Endpoints.MapEndpoints.MaxInputsPerMessage));
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i), slices.SelectMany(s => s).Select(i => i.Index));
    }

    [Fact]
    public void Slices_LargeArguments_CloseASliceEarly()
    {
        var slices = Modal.Api.Endpoints.MapEndpoints.Slices(Inputs(8, argumentBytes: 600 * 1024), Signature(maxContainers: 1)).ToList();

        Assert.All(slices, slice => Assert.True(slice.Count <= 2));
        Assert.Equal(8, slices.Sum(s => s.Count));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void Batching_SizeOutOfBounds_IsRefused(int size) =>
        Assert.Throws<InvalidFunctionOptionsException>(() => new App("batching").BatchedFunction("b",
            (IReadOnlyList<int> xs) => (IReadOnlyList<int>)xs, new Batching(size, TimeSpan.FromMilliseconds(10))));

    [Fact]
    public void Batching_WaitOverTenMinutes_IsRefused() =>
        Assert.Throws<InvalidFunctionOptionsException>(() => new App("batching").BatchedFunction("b",
            (IReadOnlyList<int> xs) => (IReadOnlyList<int>)xs, new Batching(8, TimeSpan.FromMinutes(11))));

    [Fact]
    public async Task BatchedFunction_LocalCall_IsABatchOfOne()
    {
        var f = new App("batching").BatchedFunction("b", (IReadOnlyList<int> xs) => (IReadOnlyList<int>)xs.Select(x => x * xs.Count).ToList(),
            new Batching(8, TimeSpan.FromMilliseconds(10)));

        Assert.Equal(5, await f.LocalAsync(5));
        Assert.Equal("xs", f.Definition.Parameters.Single().Name);
        Assert.Equal(typeof(int), f.Definition.Parameters.Single().Type);
    }
}
