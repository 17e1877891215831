using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Scheduler.Infrastructure;
using Modal.Scheduler.Leadership;
using Npgsql;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Scheduler leader leases on the real Scheduler database: several <see cref="LeaderLease"/>s of one name, as several
/// Scheduler instances hold them. Each test uses a lease name of its own, so no Scheduler of another test competes.
/// A leader killed outright (a Scheduler process, SIGKILL) is in <see cref="TwoSchedulersTests"/>.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class LeaderLeaseTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    // Short, so a lapse takes seconds; the Scheduler's own defaults are 6 s and 2 s.
    private static readonly SchedulerOptions Lease = new() { LeaseDuration = TimeSpan.FromSeconds(3), LeaseRenewInterval = TimeSpan.FromMilliseconds(500) };

    private readonly string _name = $"test-{Guid.NewGuid():N}"[..24];
    private readonly List<(LeaderLease Lease, ServiceProvider Database)> _started = [];

    private string ConnectionString => infrastructure.DatabaseConnectionString("modal_scheduler", "modal_scheduler");

    public async Task InitializeAsync()
    {
        await using var database = Database(ConnectionString);
        await using var scope = database.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SchedulerDbContext>().Database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var (lease, database) in _started)
        {
            await lease.StopAsync(CancellationToken.None);
            lease.Dispose();
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task TwoInstances_ExactlyOneLeads_AndTheDatabaseNamesIt()
    {
        var first = await StartAsync();
        var second = await StartAsync();

        var leader = await Eventually.ReturnsAsync(() => Task.FromResult(new[] { first, second }.Where(l => l.IsLeader).ToArray()),
            leading => leading.Length > 0, "one instance leads");
        // Over many renewals, never both and never neither.
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal(new[] { leader.Single().Holder }, new[] { first, second }.Where(l => l.IsLeader).Select(l => l.Holder));
            await Task.Delay(Lease.LeaseRenewInterval / 2);
        }
        Assert.Equal(leader.Single().Holder, (await ReadLeaseAsync())?.Holder);
    }

    [Fact]
    public async Task LeaderStopsGracefully_ReleasesTheLease_TheOtherTakesItBeforeItWouldHaveLapsed()
    {
        var first = await StartAsync();
        await Eventually.ReturnsAsync(() => Task.FromResult(first.IsLeader), leading => leading, "the first instance leads");
        var second = await StartAsync();
        var changes = Record(first);
        var held = await ReadLeaseAsync();

        await first.StopAsync(CancellationToken.None);

        Assert.False(first.IsLeader);
        Assert.False(Assert.Single(changes));
        Assert.NotEqual(first.Holder, (await ReadLeaseAsync())?.Holder); // Released (or already the other's).
        await Eventually.ReturnsAsync(() => Task.FromResult(second.IsLeader), leading => leading, "the second instance leads");
        var taken = await ReadLeaseAsync();
        Assert.Equal(second.Holder, taken?.Holder);
        // Taken (by the database's clock) while the stopped leader's lease still had time left: not by lapse.
        Assert.True(taken!.Value.ExpiresAt - Lease.LeaseDuration < held!.Value.ExpiresAt,
            $"taken at {taken.Value.ExpiresAt - Lease.LeaseDuration:O}, the released lease ran until {held.Value.ExpiresAt:O}");
    }

    [Fact]
    public async Task LeaderCutOffFromTheDatabase_StopsLeadingBeforeTheOtherTakesOver()
    {
        await using var network = new PartitionableProxy(infrastructure.PostgresPort);
        var cutOff = await StartAsync(new NpgsqlConnectionStringBuilder(ConnectionString) { Port = network.Port }.ConnectionString);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var term = await cutOff.WaitForLeadershipAsync(wait.Token);
        var other = await StartAsync();
        var cutOffChanges = Record(cutOff);
        // What the cut-off leader believed at the moment the other became leader.
        var cutOffLeadingWhenTaken = new ConcurrentQueue<bool>();
        other.LeadershipChanged += leading =>
        {
            if (leading)
            {
                cutOffLeadingWhenTaken.Enqueue(cutOff.IsLeader);
            }
        };

        network.Partition(); // Its renewals now hang: no error, no answer.

        await Eventually.ReturnsAsync(() => Task.FromResult(other.IsLeader), leading => leading, "the other instance takes over");
        Assert.False(Assert.Single(cutOffLeadingWhenTaken)); // Never two leaders at once.
        Assert.False(cutOff.IsLeader);
        Assert.True(term.IsCancellationRequested); // What ran under its leadership was told to stop.
        Assert.False(Assert.Single(cutOffChanges));
        network.Heal();
        await Eventually.ReturnsAsync(() => Task.FromResult(cutOff.LastKnownLeader), holder => holder == other.Holder,
            "the healed instance sees the other's lease and follows");
        Assert.False(cutOff.IsLeader);
    }

    private async Task<LeaderLease> StartAsync(string? connectionString = null)
    {
        var database = Database(connectionString ?? ConnectionString);
        var lease = new LeaderLease(_name, database.GetRequiredService<IServiceScopeFactory>(), new SchedulerInstance(), Options.Create(Lease),
            TimeProvider.System, NullLogger<LeaderLease>.Instance);
        _started.Add((lease, database));
        await lease.StartAsync(CancellationToken.None);
        return lease;
    }

    private static ConcurrentQueue<bool> Record(LeaderLease lease)
    {
        var changes = new ConcurrentQueue<bool>();
        lease.LeadershipChanged += changes.Enqueue;
        return changes;
    }

    private async Task<(string Holder, DateTimeOffset ExpiresAt)?> ReadLeaseAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT holder, expires_at FROM leases WHERE name = @name", connection);
        command.Parameters.AddWithValue("name", _name);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1)) : null;
    }

    private static ServiceProvider Database(string connectionString) =>
        new ServiceCollection().AddDbContext<SchedulerDbContext>(options => options.UseNpgsql(connectionString)).BuildServiceProvider();
}
