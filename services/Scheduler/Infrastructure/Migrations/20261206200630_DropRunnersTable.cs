using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Modal.Scheduler.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class DropRunnersTable : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "runners");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "runners",
                columns: table => new
                {
                    runner_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    cpu_cores = table.Column<double>(type: "double precision", nullable: false),
                    free_gpu_count = table.Column<int>(type: "integer", nullable: false),
                    gpu_count = table.Column<int>(type: "integer", nullable: false),
                    gpus = table.Column<string>(type: "jsonb", nullable: false),
                    last_reported_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    memory_mib = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_runners", x => x.runner_id);
                });
        }
    }
}
