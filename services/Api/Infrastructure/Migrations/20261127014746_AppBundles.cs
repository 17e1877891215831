using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Modal.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class AppBundles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "bundle_id",
                table: "apps",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "bundle_id",
                table: "apps");
        }
    }
}
