using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Modal.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class AppIdsAndHistory : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_apps_workspace_id_name",
                table: "apps");

            migrationBuilder.AddColumn<bool>(
                name: "ephemeral",
                table: "apps",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "stopped_at",
                table: "apps",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "version",
                table: "apps",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            // Apps stored before ids mattered: an ephemeral one says so by its state, and what they run is their first version.
            migrationBuilder.Sql("UPDATE apps SET ephemeral = true WHERE state = 'Ephemeral'; UPDATE apps SET version = 1;");

            migrationBuilder.CreateTable(
                name: "app_deployments",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    app_id = table.Column<Guid>(type: "uuid", nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    bundle_id = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    functions = table.Column<string>(type: "jsonb", nullable: false),
                    deployed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_app_deployments", x => x.id);
                    table.ForeignKey(
                        name: "FK_app_deployments_apps_app_id",
                        column: x => x.app_id,
                        principalTable: "apps",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_apps_workspace_id_name",
                table: "apps",
                columns: new[] { "workspace_id", "name" },
                unique: true,
                filter: "state = 'Deployed'");

            migrationBuilder.CreateIndex(
                name: "IX_app_deployments_app_id_version",
                table: "app_deployments",
                columns: new[] { "app_id", "version" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "app_deployments");

            migrationBuilder.DropIndex(
                name: "IX_apps_workspace_id_name",
                table: "apps");

            migrationBuilder.DropColumn(
                name: "ephemeral",
                table: "apps");

            migrationBuilder.DropColumn(
                name: "stopped_at",
                table: "apps");

            migrationBuilder.DropColumn(
                name: "version",
                table: "apps");

            migrationBuilder.CreateIndex(
                name: "IX_apps_workspace_id_name",
                table: "apps",
                columns: new[] { "workspace_id", "name" },
                unique: true);
        }
    }
}
