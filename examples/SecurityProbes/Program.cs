// Probes a hostile function would run: deployed by the platform's SecurityTests (issue 17), each function tries one
// group of attacks from inside its container and returns a ProbeResult per attempt. Nothing here is useful to a user;
// it is the attacker's side of docs/security.md, kept runnable so every refusal stays under a test.
using Modal;
using SecurityProbesExample;

var app = new App("example-security-probes");

// Its uid on the node and its effective capabilities.
app.Function("identity", () => HostProbes.Identity());

// CAP_NET_ADMIN on lo, a tmpfs mount, a block device node, /etc/shadow.
app.Function("privileges", () => HostProbes.PrivilegesAsync());

// Raw sockets: AF_PACKET (sniffing) and AF_INET SOCK_RAW (forging).
app.Function("raw_sockets", () => SocketProbes.RawSockets());

// Reads every packet it can for up to {seconds}, looking for {canary} in other processes' traffic.
app.Function("sniff", (string canary, int seconds) => SocketProbes.Sniff(canary, seconds));

// The node's servers and services, one target per line ("kind name host port"); {context} holds "key=value" lines:
// workspace (the one a request claims), blob (a hash to fetch), marker (the file COPY … TO PROGRAM tries to leave),
// gateway (the user-mode network's gateway, tried only where the container is on that network).
app.Function("network", (string targets, string context) =>
{
    var values = ProbeArguments.Parse(context);
    return NetworkProbes.ProbeAsync(targets, values["workspace"], values["blob"], values["marker"], values["gateway"]);
});

// The container's own token, through the SDK's usual route, for what only a workspace owner may do; {context} holds
// "key=value" lines: victim-token (a token id to revoke), stop-app (an app to stop), secret (a secret to read and replace).
app.Function("workspace_owner_actions", (string context) =>
{
    var values = ProbeArguments.Parse(context);
    return PlatformProbes.WorkspaceOwnerActionsAsync(app.Client, values["victim-token"], values["stop-app"], values["secret"]);
});

// Writes {marker} into /usr, /etc and its own bundle (/app), remounting them read-write if it can.
app.Function("write_host_files", (string marker) => HostProbes.WriteHostFiles(marker));

// Hands out the token in its environment, then its container ends: a token that outlives it is a token to steal.
app.Function("token_then_exit", () =>
{
    var token = $"{Environment.GetEnvironmentVariable(ModalCredentials.TokenIdVariable)}:{Environment.GetEnvironmentVariable(ModalCredentials.TokenSecretVariable)}";
    _ = Task.Run(async () =>
    {
        await Task.Delay(TimeSpan.FromSeconds(1));
        Environment.Exit(0);
    });
    return token;
});

return await app.RunAsync(args);
