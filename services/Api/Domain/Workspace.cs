namespace Modal.Api.Domain;

/// <summary>The unit of isolation: apps, functions, secrets, dicts and volumes all belong to one workspace.</summary>
public sealed class Workspace
{
    public Guid Id { get; init; }

    public required string Name { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}
