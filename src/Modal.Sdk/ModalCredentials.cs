namespace Modal;

/// <summary>A workspace token: what every request to the platform carries.</summary>
/// <param name="TokenId">Public token id (<c>ak-…</c>).</param>
/// <param name="TokenSecret">Token secret (<c>as-…</c>).</param>
public sealed record ModalCredentials(string TokenId, string TokenSecret)
{
    /// <summary>Environment variable holding the token id.</summary>
    public const string TokenIdVariable = "MODAL_TOKEN_ID";

    /// <summary>Environment variable holding the token secret.</summary>
    public const string TokenSecretVariable = "MODAL_TOKEN_SECRET";

    /// <summary>Environment variable holding the Api's base URL.</summary>
    public const string ServerUrlVariable = "MODAL_SERVER_URL";

    /// <summary>Reads <c>MODAL_TOKEN_ID</c> and <c>MODAL_TOKEN_SECRET</c>.</summary>
    /// <exception cref="InvalidOperationException">Either variable is missing; the message says how to get a token.</exception>
    public static ModalCredentials FromEnvironment()
    {
        var id = Environment.GetEnvironmentVariable(TokenIdVariable);
        var secret = Environment.GetEnvironmentVariable(TokenSecretVariable);
        if (string.IsNullOrWhiteSpace(id) || string.IsNullOrWhiteSpace(secret))
        {
            throw new InvalidOperationException(
                $"Set {TokenIdVariable} and {TokenSecretVariable} to a workspace token. A fresh install writes its first " +
                "token to .infra/apphost/first-token.env (source it: set -a; . .infra/apphost/first-token.env; set +a).");
        }
        return new ModalCredentials(id, secret);
    }
}
