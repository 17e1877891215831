using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Modal.Api.Contracts.Tokens;
using Modal.Api.Domain;

namespace Modal.Api.Infrastructure;

/// <summary>Control-plane state owned by the Api (PostgreSQL). Per-input call state lives in Redis, not here.</summary>
public sealed class ApiDbContext(DbContextOptions<ApiDbContext> options) : DbContext(options)
{
    public const string ConnectionName = "apidb";

    public DbSet<Workspace> Workspaces => Set<Workspace>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<ProxyToken> ProxyTokens => Set<ProxyToken>();

    public DbSet<DeployedApp> Apps => Set<DeployedApp>();

    public DbSet<DeployedFunction> Functions => Set<DeployedFunction>();

    public DbSet<AppDeployment> AppDeployments => Set<AppDeployment>();

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
            token.Property(t => t.Scope).HasColumnName("scope").HasMaxLength(16).HasDefaultValue(TokenScopes.Workspace);
            token.Property(t => t.AppId).HasColumnName("app_id");
            token.HasOne<Workspace>().WithMany().HasForeignKey(t => t.WorkspaceId);
            token.HasIndex(t => t.WorkspaceId);
            token.HasIndex(t => t.AppId).HasFilter("app_id IS NOT NULL");
        });

        modelBuilder.Entity<ProxyToken>(token =>
        {
            token.ToTable("proxy_tokens");
            token.HasKey(t => t.Id);
            token.Property(t => t.Id).HasColumnName("id").HasMaxLength(64);
            token.Property(t => t.WorkspaceId).HasColumnName("workspace_id");
            token.Property(t => t.Name).HasColumnName("name").HasMaxLength(100);
            token.Property(t => t.SecretHash).HasColumnName("secret_sha256");
            token.Property(t => t.CreatedAt).HasColumnName("created_at");
            token.HasOne<Workspace>().WithMany().HasForeignKey(t => t.WorkspaceId);
            token.HasIndex(t => t.WorkspaceId);
        });

        modelBuilder.Entity<DeployedApp>(app =>
        {
            app.ToTable("apps");
            app.HasKey(a => a.Id);
            app.Property(a => a.Id).HasColumnName("id");
            app.Property(a => a.WorkspaceId).HasColumnName("workspace_id");
            app.Property(a => a.Name).HasColumnName("name").HasMaxLength(64);
            app.Property(a => a.Ephemeral).HasColumnName("ephemeral");
            app.Property(a => a.State).HasColumnName("state").HasMaxLength(16);
            app.Property(a => a.BundleId).HasColumnName("bundle_id").HasMaxLength(64);
            app.Property(a => a.Version).HasColumnName("version");
            app.Property(a => a.CreatedAt).HasColumnName("created_at");
            app.Property(a => a.UpdatedAt).HasColumnName("updated_at");
            app.Property(a => a.StoppedAt).HasColumnName("stopped_at");
            app.HasOne<Workspace>().WithMany().HasForeignKey(a => a.WorkspaceId);
            // A name is taken by one running deployed app at most; ephemeral and stopped apps may share it.
            app.HasIndex(a => new { a.WorkspaceId, a.Name }).IsUnique().HasFilter("state = 'Deployed'");
            app.HasMany(a => a.Functions).WithOne().HasForeignKey(f => f.AppId);
        });

        modelBuilder.Entity<DeployedFunction>(function =>
        {
            function.ToTable("functions");
            function.HasKey(f => f.Id);
            function.Property(f => f.Id).HasColumnName("id");
            function.Property(f => f.AppId).HasColumnName("app_id");
            function.Property(f => f.Name).HasColumnName("name").HasMaxLength(64);
            function.Property(f => f.ManifestJson).HasColumnName("manifest").HasColumnType("jsonb");
            function.Property(f => f.CreatedAt).HasColumnName("created_at");
            function.Property(f => f.UpdatedAt).HasColumnName("updated_at");
            function.HasIndex(f => new { f.AppId, f.Name }).IsUnique();
        });

        modelBuilder.Entity<AppDeployment>(deployment =>
        {
            deployment.ToTable("app_deployments");
            deployment.HasKey(d => d.Id);
            deployment.Property(d => d.Id).HasColumnName("id");
            deployment.Property(d => d.AppId).HasColumnName("app_id");
            deployment.Property(d => d.Version).HasColumnName("version");
            deployment.Property(d => d.BundleId).HasColumnName("bundle_id").HasMaxLength(64);
            deployment.Property(d => d.FunctionsJson).HasColumnName("functions").HasColumnType("jsonb");
            deployment.Property(d => d.DeployedAt).HasColumnName("deployed_at");
            deployment.HasOne<DeployedApp>().WithMany().HasForeignKey(d => d.AppId);
            deployment.HasIndex(d => new { d.AppId, d.Version }).IsUnique();
        });
    }
}

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without a running database.</summary>
internal sealed class ApiDbContextDesignTimeFactory : IDesignTimeDbContextFactory<ApiDbContext>
{
    public ApiDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ApiDbContext>().UseNpgsql("Host=design-time-only").Options);
}
