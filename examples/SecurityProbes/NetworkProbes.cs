using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Minio;
using Minio.Exceptions;
using Npgsql;

namespace SecurityProbesExample;

/// <summary>
/// The node's servers, tried from inside: each target is first connected to (a refused or timed-out connection is a
/// refusal), then spoken to as an attacker would, with the credentials anyone can read in the repository.
/// </summary>
internal static class NetworkProbes
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan ExchangeTimeout = TimeSpan.FromSeconds(5);

    // The defaults committed in AppHost/appsettings.json and scripts/infra: what an attacker tries first.
    private const string S3AccessKey = "modal:admin";
    private const string S3SecretKey = "modal-secret-key";

    /// <summary>
    /// One target per line, <c>kind name host port</c>; kinds: tcp, postgres, redis, amqp, rabbitmq-management, s3,
    /// memcached, secrets, scheduler, storage-blob. <paramref name="workspace"/> is the workspace a request claims,
    /// <paramref name="blob"/> a blob hash to fetch, <paramref name="marker"/> the name of the file
    /// <c>COPY … TO PROGRAM</c> tries to leave in the node's /tmp. Targets at <paramref name="gateway"/> (the user-mode
    /// network's, which maps to the node) are tried only where the container is on that network.
    /// </summary>
    public static async Task<ProbeResult[]> ProbeAsync(string targets, string workspace, string blob, string marker, string gateway) =>
        await Task.WhenAll(targets.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(fields => new Target(fields[0], fields[1], fields[2], int.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture)))
            .Select(target => target.Host == gateway && !OnLink(IPAddress.Parse(gateway))
                // Without an interface on the gateway's network the address leads off the node: not ours to knock on.
                ? Task.FromResult(ProbeResult.Refused(target.Name, target.Address, $"no user-mode network here (no interface on {gateway}'s network): not tried"))
                : ProbeAsync(target, workspace, blob, marker)));

    private static bool OnLink(IPAddress address) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Where(unicast => unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
            .Any(unicast => SameNetwork(unicast.Address, address, unicast.IPv4Mask));

    private static bool SameNetwork(IPAddress a, IPAddress b, IPAddress mask)
    {
        var (x, y, m) = (a.GetAddressBytes(), b.GetAddressBytes(), mask.GetAddressBytes());
        return m.Any(octet => octet != 0) && Enumerable.Range(0, 4).All(i => (x[i] & m[i]) == (y[i] & m[i]));
    }

    private sealed record Target(string Kind, string Name, string Host, int Port)
    {
        public string Address => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

        public Uri Url(string path) => new($"http://{Address}{path}");
    }

    private static async Task<ProbeResult> ProbeAsync(Target target, string workspace, string blob, string marker)
    {
        // One socket of the target's family: a default one would refuse an IPv6 address for the wrong reason.
        using var tcp = IPAddress.TryParse(target.Host, out var ip) ? new TcpClient(ip.AddressFamily) : new TcpClient();
        try
        {
            using var timeout = new CancellationTokenSource(ConnectTimeout);
            await tcp.ConnectAsync(target.Host, target.Port, timeout.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return ProbeResult.Refused(target.Name, target.Address, $"connect: {(e is OperationCanceledException ? "timed out" : e.Message)}");
        }
        try
        {
            using var exchange = new CancellationTokenSource(ExchangeTimeout);
            return target.Kind switch
            {
                "tcp" => ProbeResult.Allowed(target.Name, target.Address, "accepted a TCP connection"),
                "postgres" => await PostgresAsync(target, marker, exchange.Token),
                "redis" => await RedisAsync(tcp.GetStream(), target, exchange.Token),
                "memcached" => await MemcachedAsync(tcp.GetStream(), target, exchange.Token),
                "amqp" => await AmqpAsync(tcp.GetStream(), target, exchange.Token),
                "rabbitmq-management" => await HttpAsync(target, target.Url("/api/whoami"), "guest", "guest", null, exchange.Token),
                "secrets" => await HttpAsync(target, target.Url("/v1/secrets"), null, null, workspace, exchange.Token),
                "scheduler" => await HttpAsync(target, target.Url("/v1/runners"), null, null, null, exchange.Token),
                "storage-blob" => await HttpAsync(target, target.Url($"/v1/blobs/{blob}"), null, null, null, exchange.Token),
                "s3" => await S3Async(target, exchange.Token),
                _ => ProbeResult.Error(target.Name, target.Address, $"unknown kind {target.Kind}"),
            };
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or HttpRequestException)
        {
            return ProbeResult.Refused(target.Name, target.Address, $"accepted a connection, then: {e.Message}");
        }
    }

    private static async Task<ProbeResult> PostgresAsync(Target target, string marker, CancellationToken cancellationToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = target.Host, Port = target.Port, Username = "platform", Database = "postgres", Pooling = false, Timeout = 3,
        }.ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var who = new NpgsqlCommand("SELECT current_user || ' (superuser: ' || rolsuper || ')' FROM pg_roles WHERE rolname = current_user", connection);
            var user = (string?)await who.ExecuteScalarAsync(cancellationToken);
            try
            {
                await using var copy = new NpgsqlCommand($"COPY (SELECT 1) TO PROGRAM 'id > /tmp/{marker}'", connection);
                await copy.ExecuteNonQueryAsync(cancellationToken);
                return ProbeResult.Allowed(target.Name, target.Address, $"logged in without a password as {user} and ran a program on the node (COPY … TO PROGRAM)");
            }
            catch (PostgresException e)
            {
                return ProbeResult.Allowed(target.Name, target.Address, $"logged in without a password as {user}; COPY … TO PROGRAM refused: {e.MessageText}");
            }
        }
        catch (PostgresException e)
        {
            return ProbeResult.Refused(target.Name, target.Address, $"{e.SqlState}: {e.MessageText}");
        }
        catch (NpgsqlException e)
        {
            return ProbeResult.Refused(target.Name, target.Address, e.InnerException?.Message ?? e.Message);
        }
    }

    private static async Task<ProbeResult> RedisAsync(NetworkStream stream, Target target, CancellationToken cancellationToken)
    {
        await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), cancellationToken);
        var reply = await ReadLineAsync(stream, cancellationToken);
        // NOAUTH (password) and NOPERM/WRONGPASS (ACL) are the server asking who we are: a refusal.
        return reply.StartsWith('+')
            ? ProbeResult.Allowed(target.Name, target.Address, $"answered PING without a password: {reply}")
            : ProbeResult.Refused(target.Name, target.Address, $"PING without a password: {reply}");
    }

    private static async Task<ProbeResult> MemcachedAsync(NetworkStream stream, Target target, CancellationToken cancellationToken)
    {
        await stream.WriteAsync("stats\r\n"u8.ToArray(), cancellationToken);
        var reply = await ReadLineAsync(stream, cancellationToken);
        return reply.StartsWith("STAT", StringComparison.Ordinal)
            ? ProbeResult.Allowed(target.Name, target.Address, $"answered stats: {reply}")
            : ProbeResult.Refused(target.Name, target.Address, $"stats: {reply}");
    }

    /// <summary>An AMQP 0-9-1 login as guest/guest: Connection.Tune after Start-Ok means the server let us in.</summary>
    private static async Task<ProbeResult> AmqpAsync(NetworkStream stream, Target target, CancellationToken cancellationToken)
    {
        await stream.WriteAsync("AMQP\0\0\u0009\u0001"u8.ToArray(), cancellationToken);
        if (await ReadMethodAsync(stream, cancellationToken) is not (10, 10))
        {
            return ProbeResult.Refused(target.Name, target.Address, "no Connection.Start");
        }
        var payload = new List<byte>();
        payload.AddRange([0, 10, 0, 11]); // Connection.Start-Ok
        payload.AddRange([0, 0, 0, 0]); // client properties: an empty table
        ShortString(payload, "PLAIN");
        var response = "\0guest\0guest"u8.ToArray();
        payload.AddRange(BigEndian((uint)response.Length));
        payload.AddRange(response);
        ShortString(payload, "en_US");
        var frame = new List<byte> { 1, 0, 0 };
        frame.AddRange(BigEndian((uint)payload.Count));
        frame.AddRange(payload);
        frame.Add(0xCE);
        await stream.WriteAsync(frame.ToArray(), cancellationToken);
        return await ReadMethodAsync(stream, cancellationToken) switch
        {
            (10, 30) => ProbeResult.Allowed(target.Name, target.Address, "logged in as guest/guest (Connection.Tune)"),
            (10, 50) => ProbeResult.Refused(target.Name, target.Address, "guest/guest refused (Connection.Close)"),
            null => ProbeResult.Refused(target.Name, target.Address, "guest/guest: the server closed the connection"),
            var other => ProbeResult.Error(target.Name, target.Address, $"unexpected method {other}"),
        };
    }

    private static async Task<(int Class, int Method)?> ReadMethodAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var header = new byte[7];
        try
        {
            await stream.ReadExactlyAsync(header, cancellationToken);
            var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(3)) + 1];
            await stream.ReadExactlyAsync(body, cancellationToken);
            return header[0] == 1 && body.Length >= 5
                ? (BinaryPrimitives.ReadUInt16BigEndian(body), BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(2)))
                : null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }

    private static async Task<ProbeResult> HttpAsync(Target target, Uri url, string? user, string? password, string? workspace, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = ConnectTimeout });
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }
        if (workspace is not null)
        {
            request.Headers.Add("Modal-Workspace-Id", workspace);
        }
        using var response = await http.SendAsync(request, cancellationToken);
        var described = $"GET {url.PathAndQuery}{(user is null ? "" : $" as {user}")}{(workspace is null ? "" : $" claiming workspace {workspace}")}: {(int)response.StatusCode}";
        return response.IsSuccessStatusCode
            ? ProbeResult.Allowed(target.Name, target.Address, described)
            : ProbeResult.Refused(target.Name, target.Address, described);
    }

    private static async Task<ProbeResult> S3Async(Target target, CancellationToken cancellationToken)
    {
        using var s3 = new MinioClient().WithEndpoint(target.Host, target.Port).WithCredentials(S3AccessKey, S3SecretKey).WithRegion("us-east-1").Build();
        try
        {
            var buckets = await s3.ListBucketsAsync(cancellationToken);
            return ProbeResult.Allowed(target.Name, target.Address, $"listed {buckets.Buckets.Count} buckets with the committed key {S3AccessKey}");
        }
        catch (MinioException e)
        {
            return ProbeResult.Refused(target.Name, target.Address, $"the committed key {S3AccessKey}: {e.Message}");
        }
    }

    private static async Task<string> ReadLineAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (line.Length < 512 && await stream.ReadAsync(one, cancellationToken) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }
        return line.ToString().TrimEnd('\r');
    }

    private static void ShortString(List<byte> payload, string value)
    {
        payload.Add((byte)value.Length);
        payload.AddRange(Encoding.ASCII.GetBytes(value));
    }

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}
