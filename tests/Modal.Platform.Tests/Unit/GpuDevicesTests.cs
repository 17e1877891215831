using Modal.GpuRunner.Containers;

namespace Modal.Platform.Tests.Unit;

public sealed class GpuDevicesTests
{
    private static readonly HashSet<string> FullHost =
        ["/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia2", "/dev/nvidia3", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"];

    [Fact]
    public void For_TwoOfFourGpus_OnlyThoseDevicesAndTheSharedOnes()
    {
        var devices = GpuDevices.For([3, 1], FullHost.Contains);

        Assert.Equal(["/dev/nvidia1", "/dev/nvidia3", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"], devices);
    }

    [Fact]
    public void For_NoGpus_NoDevicesAtAll()
    {
        Assert.Empty(GpuDevices.For([], FullHost.Contains));
    }

    [Fact]
    public void For_HostWithoutModesetOrUvmTools_LeavesOutWhatIsMissing()
    {
        HashSet<string> host = ["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"];

        Assert.Equal(["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"], GpuDevices.For([0], host.Contains));
    }
}
