namespace Modal;

/// <summary>
/// An image step failed to build, so the deploy stopped before registering anything: the app keeps its previous
/// deployment. The message names the step and carries the tail of its log.
/// </summary>
public sealed class ImageBuildException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="imageId">The image that failed.</param>
    /// <param name="failedStep">The failing step's index (0: the base), if known.</param>
    /// <param name="message">The step and the tail of its log.</param>
    public ImageBuildException(string imageId, int? failedStep, string message) : base(message)
    {
        ImageId = imageId;
        FailedStep = failedStep;
    }

    /// <summary>The image (its last step's key).</summary>
    public string ImageId { get; }

    /// <summary>The index of the step that failed (0: the base); null when the build failed outside a step.</summary>
    public int? FailedStep { get; }
}
