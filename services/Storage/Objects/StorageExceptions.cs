namespace Modal.Storage.Objects;

/// <summary>The named Dict, Queue or Volume does not exist in the caller's workspace (or was an ephemeral one whose creator stopped).</summary>
public sealed class ObjectNotFoundException(ObjectRef target) : Exception($"{target} not found.")
{
    public ObjectRef Target { get; } = target;
}

/// <summary>A put would pass a Queue's per-partition item limit or its partition limit.</summary>
public sealed class QueueFullException(string message) : Exception(message);

/// <summary>An item, or a whole request, is larger than the limit (answered with 413).</summary>
public sealed class PayloadTooLargeException(string message) : Exception(message);

/// <summary>The request breaks a rule the client can fix (answered with 400 and <see cref="Title"/>).</summary>
public sealed class InvalidStorageRequestException(string title, string message) : Exception(message)
{
    public string Title { get; } = title;
}

/// <summary>The name a rename asks for is taken (answered with 409).</summary>
public sealed class ObjectExistsException(string message) : Exception(message);

/// <summary>A file or folder of a Volume does not exist (answered with 404 naming it).</summary>
public sealed class VolumeFileNotFoundException(string message) : Exception(message);

/// <summary>An upload without <c>force</c> would replace a file (answered with 409 naming it).</summary>
public sealed class VolumeFileExistsException(string message) : Exception(message);
