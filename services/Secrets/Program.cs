using Modal.Secrets.Endpoints;
using Modal.Secrets.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddSecretsServices();

var app = builder.Build();

await app.MigrateSecretsDatabaseAsync();

app.UseDefaultExceptionHandler().UseProblemResponses().MapDefaultEndpoints();
app.MapOpenApi();
app.MapSecretEndpoints();
app.MapRunnerSecretEndpoints();

await app.RunAsync();
