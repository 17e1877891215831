namespace Modal;

/// <summary>The named object (a Dict, Queue, Volume or Secret, or a file of a Volume) does not exist in the workspace; the message names it.</summary>
public sealed class NotFoundException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was not found, as the platform said.</param>
    public NotFoundException(string message) : base(message)
    {
    }
}

/// <summary>A value or item is larger than the platform accepts (1 MiB of JSON), as Modal's <c>RequestSizeError</c>.</summary>
public sealed class RequestSizeException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The size and the limit, as the platform said.</param>
    public RequestSizeException(string message) : base(message)
    {
    }
}

/// <summary>No item came from the Queue in time (or at once, without blocking), as Python's <c>queue.Empty</c>.</summary>
public sealed class QueueEmptyException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which queue and partition, and how long was waited.</param>
    public QueueEmptyException(string message) : base(message)
    {
    }
}

/// <summary>A put would pass a partition's 5,000 items (or a Queue's 100,000 partitions), as Python's <c>queue.Full</c>.</summary>
public sealed class QueueFullException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The limit that was hit, as the platform said.</param>
    public QueueFullException(string message) : base(message)
    {
    }
}

/// <summary>
/// Something of that name exists already and the call did not allow it: a Volume file an upload without <c>force</c>
/// would replace (as Python's <c>FileExistsError</c>), the new name of a rename, or a secret
/// <see cref="Secret.CreateAsync"/> would overwrite.
/// </summary>
public sealed class AlreadyExistsException : ModalException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What exists, as the platform said.</param>
    public AlreadyExistsException(string message) : base(message)
    {
    }
}
