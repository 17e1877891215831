using System.Text.RegularExpressions;

namespace Modal;

/// <summary>
/// Makes a function a web function (Modal's <c>fastapi_endpoint</c>), set as <see cref="FunctionOptions.WebEndpoint"/>:
/// each HTTP request to its URL becomes a call through the normal call path (queue, retries, autoscaling, logs). The
/// query string and a JSON object body bind to the function's parameters by name; the result is answered as JSON (200),
/// or written raw when the function returns a <see cref="WebResponse"/>.
/// </summary>
/// <example>
/// <code>
/// app.Function("add", (int a, int b) => a + b, new FunctionOptions { WebEndpoint = new WebEndpoint { Methods = ["POST"] } });
/// </code>
/// </example>
public sealed partial record WebEndpoint
{
    /// <summary>The HTTP methods the function answers (default <c>GET</c>); any case, upper-cased on the wire.</summary>
    public IReadOnlyList<string> Methods { get; init; } = ["GET"];

    /// <summary>
    /// The last part of the endpoint's host name (<c>{workspace}--{app}-{label}</c>): 1-63 lowercase letters, digits and
    /// '-', not starting or ending with '-'. Null: the function's name, made host-safe.
    /// </summary>
    public string? Label { get; init; }

    /// <summary>Only requests carrying a valid proxy-auth token (<c>Modal-Key</c> and <c>Modal-Secret</c> headers) get through.</summary>
    public bool RequiresProxyAuth { get; init; }

    /// <summary>Throws <see cref="InvalidFunctionOptionsException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (Methods is null || Methods.Count == 0)
        {
            throw Invalid("WebEndpoint.Methods", "must name at least one HTTP method");
        }
        foreach (var method in Methods)
        {
            if (method is null || !MethodPattern().IsMatch(method))
            {
                throw Invalid("WebEndpoint.Methods", $"must be HTTP method names such as GET or POST (was '{method}')");
            }
        }
        if (UpperCaseMethods.Count != Methods.Count)
        {
            throw Invalid("WebEndpoint.Methods", "must not name a method twice");
        }
        ValidateLabel(Label, "WebEndpoint.Label", "FunctionOptions.WebEndpoint.Label");
    }

    /// <summary>The methods as they travel: upper case, in the given order.</summary>
    internal IReadOnlyList<string> UpperCaseMethods =>
        [.. Methods.Select(m => m.ToUpperInvariant()).Distinct(StringComparer.Ordinal)];

    internal static void ValidateLabel(string? label, string option, string optionPath)
    {
        if (label is not null && !LabelPattern().IsMatch(label))
        {
            throw new InvalidFunctionOptionsException(option,
                $"{optionPath} must be 1-63 lowercase letters, digits or '-', not starting or ending with '-' (was '{label}').");
        }
    }

    private static InvalidFunctionOptionsException Invalid(string option, string rule) => new(option, $"FunctionOptions.{option} {rule}.");

    // An HTTP method is an RFC 9110 token; letters only in practice, but extension methods (e.g. PURGE) are tokens too.
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$")]
    private static partial Regex MethodPattern();

    // One DNS label: the host name is {workspace}--{app}-{label}, so the label must be host-safe on its own.
    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex LabelPattern();
}
