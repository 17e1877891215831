namespace SecurityProbesExample;

/// <summary>
/// What one probe found: <see cref="Outcome"/> is <c>refused</c> (the node said no), <c>allowed</c> (the attack worked)
/// or <c>error</c> (the probe could not tell; <see cref="Detail"/> says why).
/// </summary>
public sealed record ProbeResult(string Name, string Target, string Outcome, string Detail)
{
    public static ProbeResult Refused(string name, string target, string detail) => new(name, target, "refused", detail);

    public static ProbeResult Allowed(string name, string target, string detail) => new(name, target, "allowed", detail);

    public static ProbeResult Error(string name, string target, string detail) => new(name, target, "error", detail);
}
