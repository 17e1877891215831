using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Modal.Scheduler.Infrastructure;

/// <summary>
/// The Scheduler's own database (PostgreSQL), for what must outlive a Scheduler process: schedules (Quartz's job
/// store) and the autoscaler's leader lease. Runners and containers are not here: the Scheduler rebuilds them from
/// heartbeats (<see cref="Autoscaling.ScalingState"/>), the one view of the nodes.
/// </summary>
public sealed class SchedulerDbContext(DbContextOptions<SchedulerDbContext> options) : DbContext(options)
{
    public const string ConnectionName = "schedulerdb";

    public DbSet<LeaseRecord> Leases => Set<LeaseRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<LeaseRecord>(lease =>
        {
            lease.ToTable("leases");
            lease.HasKey(l => l.Name);
            lease.Property(l => l.Name).HasColumnName("name").HasMaxLength(64);
            lease.Property(l => l.Holder).HasColumnName("holder").HasMaxLength(128);
            lease.Property(l => l.ExpiresAt).HasColumnName("expires_at");
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class SchedulerDbContextDesignTimeFactory : IDesignTimeDbContextFactory<SchedulerDbContext>
{
    public SchedulerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SchedulerDbContext>().UseNpgsql("Host=design-time-only").Options);
}
