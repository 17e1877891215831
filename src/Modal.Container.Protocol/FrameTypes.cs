namespace Modal.Container.Protocol;

/// <summary>Kinds of frame on the container wire.</summary>
public static class FrameTypes
{
    /// <summary>Runner → container: run one input.</summary>
    public const string Input = "input";

    /// <summary>Runner → container: the caller cancelled this input.</summary>
    public const string Cancel = "cancel";

    /// <summary>Container → runner: what an input produced.</summary>
    public const string Output = "output";

    /// <summary>Container → runner: a line the function printed while running an input.</summary>
    public const string Log = "log";
}
