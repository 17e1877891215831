using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Modal.Secrets.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class KeyRingAndKeyNames : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "key_id",
                table: "secrets",
                type: "character varying(32)",
                maxLength: 32,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<List<string>>(
                name: "key_names",
                table: "secrets",
                type: "text[]",
                nullable: false,
                // No secret could be written before this migration (the service only listed); the default keeps it safe anyway.
                defaultValueSql: "'{}'::text[]");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "key_id",
                table: "secrets");

            migrationBuilder.DropColumn(
                name: "key_names",
                table: "secrets");
        }
    }
}
