using Modal.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);

// Backing servers as local processes (scripts/infra/run-*.sh): no container runtime needed.
var infrastructure = builder.AddLocalInfrastructure();
var rabbitmq = infrastructure.RabbitMq;
var redis = infrastructure.Redis;
var postgres = infrastructure.Postgres;
var s3 = infrastructure.S3;
// Encryption key ring and runner credential of this install, generated into its data folder on first start.
var installKeys = InstallKeys.LoadOrCreate(infrastructure.DataDirectory);

var storage = builder.AddPlatformService<Projects.Modal_Storage>("storage")
    // Clients call Storage directly (the Api hands out credentials for it): no proxy in front of it.
    .WithEndpoint("http", endpoint => endpoint.IsProxied = false)
    .WithStore(redis).WithStore(s3)
    .WithStorageCredentialKey(installKeys)
    // The S3 endpoint is a local process that clients reach at the address Storage uses: large reads go to it directly.
    .WithEnvironment("Storage__PresignedReads", "true");

var secrets = builder.AddPlatformService<Projects.Modal_Secrets>("secrets")
    .WithDatabase(postgres, "secretsdb", "modal_secrets")
    .WithSecretKeyRing(installKeys)
    // Takes only requests the Api signed: a process that reaches its port cannot name a workspace.
    .WithSecretCredentialKey(installKeys);

var scheduler = builder.AddPlatformService<Projects.Modal_Scheduler>("scheduler")
    .WithDatabase(postgres, "schedulerdb", "modal_scheduler").WithStore(rabbitmq)
    .WithRunnerListKey(installKeys);

var api = builder.AddPlatformService<Projects.Modal_Api>("api")
    // The Api is the ingress too: requests to web endpoints reach its own Kestrel, not a TCP proxy of the orchestrator's
    // in front of it (one hop more for every web request and every call; docs/benchmarks.md, issue 18).
    .WithEndpoint("http", endpoint => endpoint.IsProxied = false)
    .WithDatabase(postgres, "apidb", "modal_api").WithStore(redis).WithStore(rabbitmq)
    .WithReference(storage).WithReference(secrets)
    .WithStorageCredentialKey(installKeys)
    .WithSecretCredentialKey(installKeys)
    // The ingress reaches server containers through runners' web forwarders, which take only the runner key.
    .WithIngressRunnerKey(installKeys)
    // Clients (and containers) get this address with a workspace credential and call Storage directly.
    .WithEnvironment("Api__StoragePublicUrl", storage.GetEndpoint("http"))
    .WithFirstTokenFile(Path.Combine(infrastructure.DataDirectory, "first-token.env"))
    .WithAnnouncedUrl("Modal API");

var gpuRunner = builder.AddPlatformService<Projects.Modal_GpuRunner>("gpu-runner")
    .WithStore(rabbitmq)
    .WithReference(storage).WithReference(secrets)
    .WithRunnerKey(installKeys)
    .WithStorageCredentialKey(installKeys)
    // Containers reach the Api and Storage only through the runner's platform socket, which forwards requests for these
    // real addresses (the ones containers are told) and refuses any other.
    .WithEnvironment("GpuRunner__ApiUrl", api.GetEndpoint("http"))
    .WithEnvironment("GpuRunner__StoragePublicUrl", storage.GetEndpoint("http"));

// MODAL_SIMULATED_GPUS="H100:2,A10G:1" gives the runner GPUs for placement only (no device), to try GPU functions on a
// laptop; the runner checks each entry and refuses to start on a bad one.
var simulated = (builder.Configuration["MODAL_SIMULATED_GPUS"] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
for (var index = 0; index < simulated.Length; index++)
{
    gpuRunner.WithEnvironment($"GpuRunner__SimulatedGpus__{index}", simulated[index]);
}

builder.Build().Run();
