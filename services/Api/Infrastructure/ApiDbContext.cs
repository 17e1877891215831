using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Modal.Api.Domain;

namespace Modal.Api.Infrastructure;

/// <summary>Control-plane state owned by the Api (PostgreSQL). Per-input call state lives in Redis, not here.</summary>
public sealed class ApiDbContext(DbContextOptions<ApiDbContext> options) : DbContext(options)
{
    public const string ConnectionName = "apidb";

    public DbSet<Workspace> Workspaces => Set<Workspace>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

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

        modelBuilder.Entity<ApiToken>(token =>
        {
            token.ToTable("api_tokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.Id).HasColumnName("id").HasMaxLength(64);
            token.Property(t => t.WorkspaceId).HasColumnName("workspace_id");
            token.Property(t => t.Name).HasColumnName("name").HasMaxLength(100);
            token.Property(t => t.SecretHash).HasColumnName("secret_sha256");
            token.Property(t => t.CreatedAt).HasColumnName("created_at");
            token.Property(t => t.RevokedAt).HasColumnName("revoked_at");
            token.HasOne<Workspace>().WithMany().HasForeignKey(t => t.WorkspaceId);
            token.HasIndex(t => t.WorkspaceId);
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class ApiDbContextDesignTimeFactory : IDesignTimeDbContextFactory<ApiDbContext>
{
    public ApiDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ApiDbContext>().UseNpgsql("Host=design-time-only").Options);
}
