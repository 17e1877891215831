using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Minio;
using Npgsql;

namespace Modal.AppHost.Infrastructure;

/// <summary>
/// A real request in each server's own protocol: an open port is not enough (RabbitMQ opens its port seconds
/// before it accepts work; Swift's proxy answers before its object servers do).
/// </summary>
internal static class InfrastructureHealthChecks
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The management API's alarm check answers 200 only when the node runs without memory or disk alarms.</summary>
    public static Func<CancellationToken, Task<HealthCheckResult>> RabbitMq(int managementPort, string user, string password) =>
        async cancellationToken =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{managementPort}/api/health/checks/alarms");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            using var response = await Http.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"RabbitMQ alarm check answered {(int)response.StatusCode}.");
        };

    /// <summary>AUTH then PING, as the admin ACL user (the default user is off).</summary>
    public static Func<CancellationToken, Task<HealthCheckResult>> Redis(int port, string user, string password) =>
        async cancellationToken =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {user} {password}\r\nPING\r\n"), cancellationToken);
            var reply = "";
            var buffer = new byte[128];
            while (reply.Count(c => c == '\n') < 2)
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }
                reply += Encoding.ASCII.GetString(buffer, 0, read);
            }
            return reply.StartsWith("+OK\r\n+PONG", StringComparison.Ordinal)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy($"Redis answered '{reply.Trim()}' to PING.");
        };

    public static Func<CancellationToken, Task<HealthCheckResult>> Postgres(string connectionString) =>
        async cancellationToken =>
        {
            await using var connection = new NpgsqlConnection($"{connectionString};Database=postgres;Pooling=false;Timeout=5");
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        };

    /// <summary>A signed ListBuckets proves the S3 front end, authentication and the storage behind it all answer.</summary>
    public static Func<CancellationToken, Task<HealthCheckResult>> S3(int port, string accessKey, string secretKey)
    {
        var client = new MinioClient()
            .WithEndpoint("127.0.0.1", port)
            .WithCredentials(accessKey, secretKey)
            .WithRegion("us-east-1")
            .Build();
        return async cancellationToken =>
        {
            await client.ListBucketsAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        };
    }
}
