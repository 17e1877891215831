using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Modal.Secrets.Domain;

namespace Modal.Secrets.Infrastructure;

/// <summary>The Secrets service's own database (PostgreSQL); no other service reads these tables.</summary>
public sealed class SecretsDbContext(DbContextOptions<SecretsDbContext> options) : DbContext(options)
{
    public const string ConnectionName = "secretsdb";

    public DbSet<StoredSecret> Secrets => Set<StoredSecret>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<StoredSecret>(secret =>
        {
            secret.ToTable("secrets");
            secret.HasKey(s => s.Id);
            secret.Property(s => s.Id).HasColumnName("id");
            secret.Property(s => s.WorkspaceId).HasColumnName("workspace_id");
            secret.Property(s => s.Name).HasColumnName("name").HasMaxLength(64);
            secret.Property(s => s.Ciphertext).HasColumnName("ciphertext");
            secret.Property(s => s.KeyId).HasColumnName("key_id").HasMaxLength(32);
            secret.Property(s => s.KeyNames).HasColumnName("key_names");
            secret.Property(s => s.CreatedAt).HasColumnName("created_at");
            secret.Property(s => s.UpdatedAt).HasColumnName("updated_at");
            secret.HasIndex(s => new { s.WorkspaceId, s.Name }).IsUnique();
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class SecretsDbContextDesignTimeFactory : IDesignTimeDbContextFactory<SecretsDbContext>
{
    public SecretsDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SecretsDbContext>().UseNpgsql("Host=design-time-only").Options);
}
