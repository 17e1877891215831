namespace Modal.Scheduler.Infrastructure;

/// <summary>
/// One named lease (table <c>leases</c>): who holds it and until when, by the database's clock. Written only by
/// <see cref="Leadership.LeaderLease"/>'s SQL; mapped so migrations create the table.
/// </summary>
public sealed class LeaseRecord
{
    public required string Name { get; init; }
    public required string Holder { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}
