using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Modal.Scheduler.Domain;

namespace Modal.Scheduler.Infrastructure;

/// <summary>The Scheduler's own database (PostgreSQL): runner nodes now; schedules and placement state later.</summary>
public sealed class SchedulerDbContext(DbContextOptions<SchedulerDbContext> options) : DbContext(options)
{
    public const string ConnectionName = "schedulerdb";

    public DbSet<RunnerNode> Runners => Set<RunnerNode>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RunnerNode>(runner =>
        {
            runner.ToTable("runners");
            runner.HasKey(r => r.RunnerId);
            runner.Property(r => r.RunnerId).HasColumnName("runner_id").HasMaxLength(128);
            runner.Property(r => r.GpuCount).HasColumnName("gpu_count");
            runner.Property(r => r.FreeGpuCount).HasColumnName("free_gpu_count");
            runner.Property(r => r.CpuCores).HasColumnName("cpu_cores");
            runner.Property(r => r.MemoryMiB).HasColumnName("memory_mib");
            runner.Property(r => r.GpusJson).HasColumnName("gpus").HasColumnType("jsonb");
            runner.Property(r => r.LastReportedAt).HasColumnName("last_reported_at");
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class SchedulerDbContextDesignTimeFactory : IDesignTimeDbContextFactory<SchedulerDbContext>
{
    public SchedulerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SchedulerDbContext>().UseNpgsql("Host=design-time-only").Options);
}
