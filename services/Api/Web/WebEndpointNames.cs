using System.Security.Cryptography;
using System.Text;

namespace Modal.Api.Web;

/// <summary>
/// How a web endpoint is named and reached (decision 28): its host label <c>{workspace}--{app}-{label}</c> depends on
/// names only, so a redeploy keeps its URL; the host form is <c>{scheme}://{host label}.{base domain}[:port]/</c>, the
/// path form <c>{ingress}/web/{host label}/</c>.
/// </summary>
public static class WebEndpointNames
{
    /// <summary>The longest a DNS label may be.</summary>
    public const int MaxHostLabelLength = 63;

    /// <summary>Hex digits of the hash that ends a host label cut to <see cref="MaxHostLabelLength"/>.</summary>
    private const int HashLength = 8;

    /// <summary>Where the path form of every endpoint starts.</summary>
    public const string PathPrefix = Modal.Api.Contracts.Web.WebHeaders.PathPrefix;

    /// <summary>Appended to the label of an ephemeral (<c>modal run</c>) app's endpoint, as <c>modal serve</c> does on Modal.</summary>
    public const string EphemeralSuffix = "-dev";

    /// <summary>
    /// The host label of a function's endpoint: <c>{workspace}--{app}-{label}</c> (plus <see cref="EphemeralSuffix"/> for
    /// an ephemeral app), lowercase and host-safe, the label being the function's name made host-safe when none is given.
    /// One longer than <see cref="MaxHostLabelLength"/> is cut and ends in a hash of the whole, so it stays unique.
    /// </summary>
    public static string HostLabel(string workspace, string app, string function, string? label, bool ephemeral)
    {
        var whole = $"{HostSafe(workspace)}--{HostSafe(app)}-{HostSafe(label ?? function)}{(ephemeral ? EphemeralSuffix : "")}";
        if (whole.Length <= MaxHostLabelLength)
        {
            return whole;
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(whole)))[..HashLength];
        return $"{whole[..(MaxHostLabelLength - HashLength - 1)].TrimEnd('-')}-{hash}";
    }

    /// <summary>
    /// <paramref name="name"/> as a DNS label's part: lowercase letters, digits and single dashes, none at either end
    /// (<c>Model.Generate</c> → <c>model-generate</c>, <c>my_app</c> → <c>my-app</c>).
    /// </summary>
    public static string HostSafe(string name)
    {
        var safe = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            var lower = char.ToLowerInvariant(c);
            if (char.IsAsciiLetterLower(lower) || char.IsAsciiDigit(lower))
            {
                safe.Append(lower);
            }
            else if (safe.Length > 0 && safe[^1] != '-')
            {
                safe.Append('-');
            }
        }
        return safe.ToString().TrimEnd('-') is { Length: > 0 } done ? done : "x";
    }

    /// <summary>Whether <paramref name="label"/> may be a manifest's <c>Label</c>: 1-63 lowercase letters, digits and inner dashes.</summary>
    public static bool IsValidLabel(string label) =>
        label.Length is > 0 and <= MaxHostLabelLength && label[0] != '-' && label[^1] != '-'
            && label.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    /// <summary>
    /// The host form, <c>{scheme}://{hostLabel}.{baseDomain}[:port]/</c>, with the scheme and port of
    /// <paramref name="ingress"/> (the configured public URL, or the address a request came in on).
    /// </summary>
    public static string HostUrl(string hostLabel, string baseDomain, Uri ingress) =>
        new UriBuilder(ingress.Scheme, $"{hostLabel}.{baseDomain}", ingress.IsDefaultPort ? -1 : ingress.Port, "/").Uri.ToString();

    /// <summary>The path form, <c>{ingress}/web/{hostLabel}/</c>, for clients that cannot set a host.</summary>
    public static string PathUrl(string hostLabel, Uri ingress) =>
        $"{ingress.GetLeftPart(UriPartial.Authority)}{ingress.AbsolutePath.TrimEnd('/')}{PathPrefix}{hostLabel}/";

    /// <summary>
    /// The host label a request's host names under <paramref name="baseDomain"/> (<c>x.modal.localhost:8080</c> → <c>x</c>);
    /// false for any other host, the Api's own included.
    /// </summary>
    public static bool TryGetHostLabel(ReadOnlySpan<char> host, string baseDomain, out ReadOnlySpan<char> hostLabel)
    {
        hostLabel = default;
        var colon = host.LastIndexOf(':');
        if (colon >= 0 && host.IndexOf(']') < colon)
        {
            host = host[..colon];
        }
        if (host.EndsWith('.'))
        {
            host = host[..^1]; // A fully qualified name ("x.modal.localhost.") is the same host.
        }
        // "{label}." + base domain, with one label before it and no further dot.
        if (host.Length <= baseDomain.Length + 1 || !host.EndsWith(baseDomain, StringComparison.OrdinalIgnoreCase)
            || host[^(baseDomain.Length + 1)] != '.')
        {
            return false;
        }
        var label = host[..^(baseDomain.Length + 1)];
        if (label.Contains('.'))
        {
            return false;
        }
        hostLabel = label;
        return true;
    }
}
