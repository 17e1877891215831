using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;
using Modal.Platform.Tests.Infrastructure;
using Npgsql;
using RabbitMQ.Client;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The backing servers as a hostile process on the node meets them (issue 17, findings 3 and 5): each refuses a
/// client without this install's credentials, and each service's user reaches only what that service uses. Run
/// against the servers scripts/infra.sh starts, as every install does.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class BackingServerAuthTests(InfrastructureFixture infrastructure)
{
    private const string WrongPassword = "0123456789abcdef";

    // ---------------------------------------------------------------------------------------------- PostgreSQL --

    [Theory]
    [InlineData("platform")]
    [InlineData("modal_api")]
    public async Task Postgres_WithoutPassword_IsRefused(string role)
    {
        await using var connection = new NpgsqlConnection(
            $"Host=127.0.0.1;Port={infrastructure.PostgresPort};Username={role};Database=modal_api;Pooling=false");

        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync());

        // Refused for the missing password, not for a missing role.
        Assert.Contains("password", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Postgres_WrongPassword_IsRefused()
    {
        var wrong = new NpgsqlConnectionStringBuilder(infrastructure.DatabaseConnectionString("modal_api", "modal_api"))
        {
            Password = WrongPassword,
            Pooling = false,
        };
        await using var connection = new NpgsqlConnection(wrong.ConnectionString);

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());

        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }

    [Theory]
    [InlineData("modal_api", "modal_secrets")]
    [InlineData("modal_api", "modal_scheduler")]
    [InlineData("modal_scheduler", "modal_secrets")]
    [InlineData("modal_secrets", "modal_api")]
    public async Task Postgres_ServiceRole_ReachesItsOwnDatabaseButNotAnothers(string role, string otherDatabase)
    {
        await using (var own = await OpenAsync(infrastructure.DatabaseConnectionString(role, role)))
        {
            await using var command = new NpgsqlCommand("SELECT current_user", own);
            Assert.Equal(role, await command.ExecuteScalarAsync());
        }

        await using var other = new NpgsqlConnection($"{infrastructure.DatabaseConnectionString(otherDatabase, role)};Pooling=false");
        var error = await Assert.ThrowsAsync<PostgresException>(() => other.OpenAsync());

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    [Theory]
    [InlineData("modal_api")]
    [InlineData("modal_scheduler")]
    [InlineData("modal_secrets")]
    public async Task Postgres_ServiceRole_IsNoSuperuserAndCannotRunAProgramOnTheHost(string role)
    {
        var marker = Path.Combine(Path.GetTempPath(), $"modal-copy-to-program-{Guid.NewGuid():N}");
        await using var connection = await OpenAsync(infrastructure.DatabaseConnectionString(role, role));

        await using (var attributes = new NpgsqlCommand(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = current_user", connection))
        {
            Assert.Equal(false, await attributes.ExecuteScalarAsync());
        }
        await using var copy = new NpgsqlCommand($"COPY (SELECT 1) TO PROGRAM 'touch {marker}'", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => copy.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Postgres_ServiceRole_CanMigrateItsOwnDatabaseButCreatesNoOther()
    {
        await using var connection = await OpenAsync(infrastructure.DatabaseConnectionString("modal_api", "modal_api"));
        var table = $"probe_{Guid.NewGuid():N}";

        await using (var create = new NpgsqlCommand($"CREATE TABLE {table} (id int); DROP TABLE {table};", connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        await using var createDatabase = new NpgsqlCommand($"CREATE DATABASE {table}", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => createDatabase.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
    }

    // --------------------------------------------------------------------------------------------------- Redis --

    [Fact]
    public async Task Redis_WithoutCredentials_IsRefused()
    {
        using var redis = await RespClient.ConnectAsync(infrastructure.RedisPort);

        Assert.StartsWith("-NOAUTH", await redis.SendAsync("PING"), StringComparison.Ordinal);
        Assert.StartsWith("-NOAUTH", await redis.SendAsync("GET", "modal:call:x"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api")]
    [InlineData("storage")]
    [InlineData("default")]
    public async Task Redis_WrongPassword_IsRefused(string user)
    {
        using var redis = await RespClient.ConnectAsync(infrastructure.RedisPort);

        Assert.StartsWith("-WRONGPASS", await redis.SendAsync("AUTH", user, WrongPassword), StringComparison.Ordinal);
        Assert.StartsWith("-NOAUTH", await redis.SendAsync("PING"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api", "modal:call:probe", "modal:ws:00000000000000000000000000000000:dict:d:k")]
    [InlineData("storage", "modal:ws:00000000000000000000000000000000:dict:d:k", "modal:call:probe")]
    public async Task Redis_ServiceUser_ReachesItsOwnKeysButNotAnotherServices(string user, string ownKey, string othersKey)
    {
        using var redis = await AuthenticatedRedisAsync(user);

        Assert.Equal("+OK", await redis.SendAsync("SET", ownKey, "v", "EX", "60"));
        Assert.StartsWith("-NOPERM", await redis.SendAsync("GET", othersKey), StringComparison.Ordinal);
        Assert.StartsWith("-NOPERM", await redis.SendAsync("SET", othersKey, "v"), StringComparison.Ordinal);
        // A script is no way around it: its keys are checked too.
        Assert.StartsWith("-", await redis.SendAsync("EVAL", "return redis.call('GET', KEYS[1])", "1", othersKey), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api", "CONFIG", "SET", "dir", "/tmp")]
    [InlineData("api", "FLUSHALL")]
    [InlineData("storage", "KEYS", "*")]
    [InlineData("storage", "ACL", "LIST")]
    [InlineData("storage", "MODULE", "LIST")]
    public async Task Redis_ServiceUser_CannotRunAdminCommands(string user, params string[] command)
    {
        using var redis = await AuthenticatedRedisAsync(user);

        Assert.StartsWith("-NOPERM", await redis.SendAsync(command), StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------------------------------------ RabbitMQ --

    [Fact]
    public async Task RabbitMq_Guest_IsGone()
    {
        await AssertRabbitMqRefusesAsync("guest", "guest");
    }

    [Theory]
    [InlineData("api")]
    [InlineData("gpu-runner")]
    [InlineData("modal-admin")]
    public async Task RabbitMq_WrongPassword_IsRefused(string user)
    {
        var right = new ConnectionFactory { Uri = new Uri($"amqp://127.0.0.1:{infrastructure.RabbitMqPort}/"), UserName = user };
        right.Password = infrastructure.Credential($"MODAL_RABBITMQ_{(user == "modal-admin" ? "ADMIN" : user.Replace('-', '_').ToUpperInvariant())}_PASSWORD");
        await using (var connection = await right.CreateConnectionAsync())
        {
            Assert.True(connection.IsOpen);
        }

        await AssertRabbitMqRefusesAsync(user, WrongPassword);
    }

    [Theory]
    [InlineData("api")]
    [InlineData("scheduler")]
    [InlineData("gpu-runner")]
    public async Task RabbitMq_ServiceUser_UsesTheBusButNotTheManagementApiNorAnotherVhost(string service)
    {
        var password = infrastructure.Credential($"MODAL_RABBITMQ_{service.Replace('-', '_').ToUpperInvariant()}_PASSWORD");
        var own = new ConnectionFactory { Uri = new Uri(infrastructure.RabbitMqConnectionStringOf(service)) };
        await using (var connection = await own.CreateConnectionAsync())
        {
            Assert.True(connection.IsOpen);
        }

        using (var asService = ManagementClient(service, password))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await asService.GetAsync(new Uri("/api/users", UriKind.Relative))).StatusCode);
        }

        var vhost = $"probe-{Guid.NewGuid():N}";
        using var admin = ManagementClient("modal-admin", infrastructure.Credential("MODAL_RABBITMQ_ADMIN_PASSWORD"));
        (await admin.PutAsync(new Uri($"/api/vhosts/{vhost}", UriKind.Relative), null)).EnsureSuccessStatusCode();
        try
        {
            var other = new ConnectionFactory { Uri = new Uri(infrastructure.RabbitMqConnectionStringOf(service)), VirtualHost = vhost };
            // The broker refuses the vhost right after the handshake (530 NOT_ALLOWED): the first channel fails.
            var error = await Assert.ThrowsAnyAsync<RabbitMQ.Client.Exceptions.OperationInterruptedException>(async () =>
            {
                await using var connection = await other.CreateConnectionAsync();
                await using var channel = await connection.CreateChannelAsync();
            });
            Assert.Contains("NOT_ALLOWED", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await admin.DeleteAsync(new Uri($"/api/vhosts/{vhost}", UriKind.Relative));
        }
    }

    // ------------------------------------------------------------------------------------------------------ S3 --

    [Fact]
    public async Task S3_TheKeyOnceCommittedToTheRepository_IsRefused()
    {
        var s3 = S3Client("modal:admin", "modal-secret-key");

        await Assert.ThrowsAnyAsync<AuthorizationException>(() => s3.ListBucketsAsync());
    }

    [Fact]
    public async Task S3_StoragesKey_WorksOnlyWithItsSecret()
    {
        var (accessKey, secretKey) = infrastructure.S3StorageKey;
        await S3Client(accessKey, secretKey).ListBucketsAsync();

        await Assert.ThrowsAnyAsync<AuthorizationException>(() => S3Client(accessKey, WrongPassword).ListBucketsAsync());
    }

    [Fact]
    public async Task S3_TheProbeKey_SeesNoneOfStoragesBuckets()
    {
        var (storageKey, storageSecret) = infrastructure.S3StorageKey;
        var storage = S3Client(storageKey, storageSecret);
        var bucket = $"auth-{Guid.NewGuid():N}"[..24];
        await storage.MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket));
        await using (var data = new MemoryStream("blob of a workspace"u8.ToArray()))
        {
            await storage.PutObjectAsync(new PutObjectArgs().WithBucket(bucket).WithObject("o").WithStreamData(data).WithObjectSize(data.Length));
        }

        var probe = S3Client("probe:probe", infrastructure.Credential("MODAL_S3_PROBE_SECRET"));

        Assert.DoesNotContain((await probe.ListBucketsAsync()).Buckets, b => b.Name == bucket);
        Assert.False(await probe.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket)));
        await Assert.ThrowsAnyAsync<MinioException>(() =>
            probe.GetObjectAsync(new GetObjectArgs().WithBucket(bucket).WithObject("o").WithCallbackStream(_ => { })));
    }

    // ----------------------------------------------------------------------------------------------- memcached --

    [Fact]
    public async Task Memcached_PlainClientOnLoopback_GetsNoAnswer()
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", infrastructure.MemcachedPort);
        var stream = client.GetStream();
        stream.ReadTimeout = 5000;

        string reply;
        try
        {
            await stream.WriteAsync("stats\r\nget tempauth/token\r\n"u8.ToArray());
            var buffer = new byte[256];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            reply = Encoding.ASCII.GetString(buffer, 0, read);
        }
        catch (IOException)
        {
            reply = "";   // reset by the server: the answer we want
        }

        Assert.DoesNotContain("STAT", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Memcached_TlsClientWithoutTheProxysCertificate_IsRefused()
    {
        var tls = Path.Combine(infrastructure.StateDirectory, "s3", "memcached-tls");
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(tls, "ca.pem")));

        var (serverCertified, answer) = await MemcachedStatsOverTlsAsync(ca);

        // It is the install's memcached (its certificate chains to the install's CA), and it answers nothing to a client
        // without the proxy's certificate. (That the proxy's is served, every S3 test shows: tempauth keeps its tokens there.)
        Assert.True(serverCertified);
        Assert.Null(answer);
    }

    // ------------------------------------------------------------------------------------------------- helpers --

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection($"{connectionString};Pooling=false");
        await connection.OpenAsync();
        return connection;
    }

    private async Task<RespClient> AuthenticatedRedisAsync(string user)
    {
        var redis = await RespClient.ConnectAsync(infrastructure.RedisPort);
        Assert.Equal("+OK", await redis.SendAsync("AUTH", user, infrastructure.Credential($"MODAL_REDIS_{user.ToUpperInvariant()}_PASSWORD")));
        return redis;
    }

    private async Task AssertRabbitMqRefusesAsync(string user, string password)
    {
        var factory = new ConnectionFactory { Uri = new Uri($"amqp://127.0.0.1:{infrastructure.RabbitMqPort}/"), UserName = user, Password = password };
        await Assert.ThrowsAnyAsync<Exception>(() => factory.CreateConnectionAsync());
        using var management = ManagementClient(user, password);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await management.GetAsync(new Uri("/api/overview", UriKind.Relative))).StatusCode);
    }

    private HttpClient ManagementClient(string user, string password) => new()
    {
        BaseAddress = new Uri($"http://127.0.0.1:{infrastructure.RabbitMqManagementPort}"),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))) },
    };

    private IMinioClient S3Client(string accessKey, string secretKey) =>
        new MinioClient().WithEndpoint("127.0.0.1", infrastructure.S3Port).WithCredentials(accessKey, secretKey).WithRegion("us-east-1").Build();

    /// <summary>
    /// Whether memcached presented a certificate of the install's CA, and the first line it answers to <c>stats</c> over
    /// TLS without a client certificate (null when the handshake or the read fails).
    /// </summary>
    private async Task<(bool ServerCertified, string? Answer)> MemcachedStatsOverTlsAsync(X509Certificate2 ca)
    {
        var serverCertified = false;
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", infrastructure.MemcachedPort);
        await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "127.0.0.1",
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    serverCertified = certificate is X509Certificate2 server && chain.Build(server);
                    return serverCertified;
                },
            }).WaitAsync(TimeSpan.FromSeconds(10));
            await tls.WriteAsync("stats\r\n"u8.ToArray());
            var buffer = new byte[256];
            var read = await tls.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            return (serverCertified, read == 0 ? null : Encoding.ASCII.GetString(buffer, 0, read));
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            // TLS 1.3 finishes the client's handshake before the server checks the client's certificate: the refusal
            // comes on the read.
            return (serverCertified, null);
        }
    }

    /// <summary>Just enough of Redis's protocol to read one reply line per command, errors included (no library retries or hides them).</summary>
    private sealed class RespClient : IDisposable
    {
        private readonly TcpClient _client;
        private readonly StreamReader _reader;
        private readonly NetworkStream _stream;

        private RespClient(TcpClient client)
        {
            _client = client;
            _stream = client.GetStream();
            _reader = new StreamReader(_stream, Encoding.UTF8);
        }

        public static async Task<RespClient> ConnectAsync(int port)
        {
            var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port);
            return new RespClient(client);
        }

        /// <summary>Sends one command; returns the first line of the reply (<c>+OK</c>, <c>-NOPERM …</c>, <c>$1</c>, …).</summary>
        public async Task<string> SendAsync(params string[] command)
        {
            var request = new StringBuilder($"*{command.Length}\r\n");
            foreach (var part in command)
            {
                request.Append(System.Globalization.CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(part)}\r\n{part}\r\n");
            }
            await _stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
            var line = await _reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)) ?? "";
            if (line.StartsWith('$') && line != "$-1")
            {
                await _reader.ReadLineAsync();   // the bulk string itself
            }
            return line;
        }

        public void Dispose()
        {
            _reader.Dispose();
            _client.Dispose();
        }
    }
}
