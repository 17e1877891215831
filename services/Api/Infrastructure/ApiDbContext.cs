using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Modal.Api.Domain;

namespace Modal.Api.Infrastructure;

/// <summary>Control-plane state owned by the Api (PostgreSQL). Per-input call state lives in Redis, not here.</summary>
public sealed class ApiDbContext(DbContextOptions<ApiDbContext> options) : DbContext(options)
{
    public const string ConnectionName = "apidb";

    public DbSet<Workspace> Workspaces => Set<Workspace>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Workspace>(workspace =>
        {
            workspace.ToTable("workspaces");
            workspace.HasKey(w => w.Id);
            workspace.Property(w => w.Id).HasColumnName("id");
            workspace.Property(w => w.Name).HasColumnName("name").HasMaxLength(63);
            workspace.Property(w => w.CreatedAt).HasColumnName("created_at");
            workspace.HasIndex(w => w.Name).IsUnique();
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class ApiDbContextDesignTimeFactory : IDesignTimeDbContextFactory<ApiDbContext>
{
    public ApiDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ApiDbContext>().UseNpgsql("Host=design-time-only").Options);
}
