namespace Modal;

/// <summary>A function's options break one of the platform's rules; thrown when the function is defined.</summary>
public sealed class InvalidFunctionOptionsException : ArgumentException
{
    /// <summary>Creates the exception for <paramref name="option"/>.</summary>
    /// <param name="option">The offending option, e.g. <c>Timeout</c>.</param>
    /// <param name="message">What is wrong and what is allowed.</param>
    public InvalidFunctionOptionsException(string option, string message) : base(message, option)
    {
        Option = option;
    }

    /// <summary>The offending option, e.g. <c>Timeout</c> or <c>Retries.MaxDelay</c>.</summary>
    public string Option { get; }
}
