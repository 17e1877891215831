using StackExchange.Redis;

namespace Modal.Storage.Objects;

/// <summary>The kinds of named objects registered in Redis (a Volume's files live in S3; Redis holds its current version).</summary>
public enum ObjectKind
{
    Dict,
    Queue,
    Volume,
}

/// <summary>
/// One Dict or Queue of one workspace, and its Redis keys. Every key starts with the workspace, so no request can
/// reach another workspace's data:
/// <c>modal:ws:{ws}:dicts</c> / <c>…:queues</c> (hash: name → <c>d:</c>|<c>e:</c> + creation ms, the registry),
/// <c>modal:ws:{ws}:{kind}:{name}:alive</c> (an ephemeral object's heartbeat),
/// <c>…:h</c> and <c>…:t</c> (a Dict's values and last-access times), <c>…:p:{partition}</c> and <c>…:parts</c>
/// (a Queue's lists, the default partition being <c>p:</c>, and the set of its partitions), <c>…:head</c> (a Volume's
/// current version: the hash of its manifest blob).
/// </summary>
public sealed record ObjectRef(ObjectKind Kind, Guid WorkspaceId, string Name)
{
    private string Segment => Kind switch
    {
        ObjectKind.Dict => "dict",
        ObjectKind.Queue => "queue",
        _ => "volume",
    };

    public RedisKey Registry => $"modal:ws:{WorkspaceId:N}:{Segment}s";

    /// <summary>Prefix of every data key of this object (Lua scripts build partition keys from it).</summary>
    public string Prefix => $"modal:ws:{WorkspaceId:N}:{Segment}:{Name}:";

    public RedisKey Alive => Prefix + "alive";

    public RedisKey Data(string suffix) => Prefix + suffix;

    /// <summary>"Dict 'name'" — how problems and messages name the object.</summary>
    public override string ToString() => $"{Kind} '{Name}'";
}
