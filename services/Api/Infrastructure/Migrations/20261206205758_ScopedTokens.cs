using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Modal.Api.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ScopedTokens : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "app_id",
                table: "api_tokens",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "scope",
                table: "api_tokens",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Workspace");

            // Tokens issued to containers before scopes existed are known by the name IssueContainerTokenConsumer gives
            // them ("container:" + the app id's 32 hex digits + ":" + runner). They become container tokens of their
            // app, so they lose workspace rights now and are still revoked by their app's stop (which now goes by app_id).
            migrationBuilder.Sql(
                "UPDATE api_tokens SET scope = 'Container', app_id = CAST(substring(name from 11 for 32) AS uuid) " +
                "WHERE name ~ '^container:[0-9a-f]{32}:'");

            migrationBuilder.CreateIndex(
                name: "IX_api_tokens_app_id",
                table: "api_tokens",
                column: "app_id",
                filter: "app_id IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_api_tokens_app_id",
                table: "api_tokens");

            migrationBuilder.DropColumn(
                name: "app_id",
                table: "api_tokens");

            migrationBuilder.DropColumn(
                name: "scope",
                table: "api_tokens");
        }
    }
}
