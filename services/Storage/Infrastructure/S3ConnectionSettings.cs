using System.Data.Common;

namespace Modal.Storage.Infrastructure;

/// <summary>
/// The S3 endpoint as one connection string, <c>Endpoint=http://host:port;AccessKey=...;SecretKey=...[;Region=...]</c>,
/// so any S3 server (MinIO, Swift's s3api, AWS) is configured the same way as the other stores.
/// </summary>
public sealed record S3ConnectionSettings(Uri Endpoint, string AccessKey, string SecretKey, string Region)
{
    public const string ConnectionName = "s3";

    public static S3ConnectionSettings Parse(string connectionString)
    {
        var parts = new DbConnectionStringBuilder { ConnectionString = connectionString };
        string Required(string key) => parts.TryGetValue(key, out var value) && value is string text && text.Length > 0
            ? text
            : throw new InvalidOperationException(
                $"Connection string 'ConnectionStrings:{ConnectionName}' lacks '{key}'. " +
                "Expected 'Endpoint=http://host:port;AccessKey=...;SecretKey=...'.");

        if (!Uri.TryCreate(Required("Endpoint"), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new InvalidOperationException(
                $"Connection string 'ConnectionStrings:{ConnectionName}' has an Endpoint that is not an http(s) URL.");
        }

        var region = parts.TryGetValue("Region", out var r) && r is string text && text.Length > 0 ? text : "us-east-1";
        return new S3ConnectionSettings(endpoint, Required("AccessKey"), Required("SecretKey"), region);
    }
}
