using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Modal.Api;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Web;
using Modal.Contracts.Calls;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// TLS at the ingress is Kestrel's own HTTPS endpoint (<c>Kestrel:Endpoints:Https:Url</c>, <c>Certificate:Path</c>,
/// <c>Certificate:KeyPath</c>, PEM files): here with a certificate made for the run, and a web function reached over
/// https in both URL forms.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class IngressTlsTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task WebFunction_OverHttps_AnswersAndListsHttpsUrls()
    {
        var folder = Directory.CreateTempSubdirectory("modal-tls-");
        try
        {
            using var certificate = SelfSigned(out var certificatePath, out var keyPath, folder.FullName);
            var port = FreePort();
            await using var api = new ServiceFactory<ApiOptions>(
                ("Kestrel:Endpoints:Https:Url", $"https://127.0.0.1:{port}"),
                ("Kestrel:Endpoints:Https:Certificate:Path", certificatePath),
                ("Kestrel:Endpoints:Https:Certificate:KeyPath", keyPath));
            api.UseKestrel();
            api.StartServer();

            // Trusts exactly this run's certificate; every *.modal.localhost name connects to the ingress on loopback
            // (.NET's resolver does not map *.localhost to loopback on Linux, curl and browsers do).
            using var https = new HttpClient(new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString() },
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            })
            { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
            var (id, secret) = infrastructure.ReadFirstToken();
            https.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");

            var app = $"tls-{Guid.NewGuid():N}"[..16];
            using var deploy = await https.PutAsJsonAsync(new Uri($"/v1/apps/{app}", UriKind.Relative),
                new { functions = new[] { WebFunctionTests.Manifest("square", [("x", "System.Int32")]) } });
            var deployed = (await deploy.Content.ReadFromJsonAsync<DeployedAppInfo>())!;
            await using var runner = await TestRunnerBus.StartAsync(infrastructure.RabbitMqConnectionString, deployed.Functions.Single().Id, async input =>
            {
                var x = JsonDocument.Parse(input.Message.ArgumentsJson).RootElement.GetProperty("x").GetInt32();
                await input.Publish(new FunctionCallSucceeded
                {
                    FunctionCallId = input.Message.FunctionCallId, Attempt = input.Message.Attempt, ResultJson = $"{x * x}", CompletedAt = DateTimeOffset.UtcNow,
                });
            });
            var listed = (await https.GetFromJsonAsync<WebEndpointList>(new Uri("/v1/web-endpoints", UriKind.Relative)))!.Endpoints.Single(e => e.App == app);

            using var byPath = await https.GetAsync(new Uri(listed.PathUrl + "?x=4"));
            using var byHost = await https.GetAsync(new Uri(listed.Url + "?x=5"));

            Assert.Equal($"https://main--{app}-square.modal.localhost:{port}/", listed.Url);
            Assert.Equal($"https://127.0.0.1:{port}/web/main--{app}-square/", listed.PathUrl);
            Assert.Equal(listed.Url, deployed.Functions.Single().WebUrl);
            Assert.Equal(HttpStatusCode.OK, byPath.StatusCode);
            Assert.Equal("16", await byPath.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, byHost.StatusCode);
            Assert.Equal("25", await byHost.Content.ReadAsStringAsync());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>A certificate for localhost, 127.0.0.1 and *.modal.localhost, written as PEM files as an operator would configure them.</summary>
    private static X509Certificate2 SelfSigned(out string certificatePath, out string keyPath, string folder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=modal ingress test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName("*.modal.localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        certificatePath = Path.Combine(folder, "ingress.crt");
        keyPath = Path.Combine(folder, "ingress.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
