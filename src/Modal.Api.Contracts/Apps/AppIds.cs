using System.Globalization;

namespace Modal.Api.Contracts.Apps;

/// <summary>
/// How an app's id is written (<c>ap-</c> and 32 lowercase hex digits, as Modal's <c>ap-…</c>). Every route that takes
/// an app takes its id or, for a deployed app, its name; app names of an id's form are refused, so the two never mix.
/// </summary>
public static class AppIds
{
    /// <summary>What every app id starts with.</summary>
    public const string Prefix = "ap-";

    /// <summary>The id of the app stored as <paramref name="id"/>.</summary>
    /// <param name="id">The app's UUID.</param>
    public static string Format(Guid id) => Prefix + id.ToString("N", CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="reference"/> is an app id, and which.</summary>
    /// <param name="reference">An app id or an app name.</param>
    /// <param name="id">The app's UUID when it is an id.</param>
    public static bool TryParse(string reference, out Guid id)
    {
        id = Guid.Empty;
        return reference is not null && reference.StartsWith(Prefix, StringComparison.Ordinal) && reference.Length == Prefix.Length + 32
            && Guid.TryParseExact(reference.AsSpan(Prefix.Length), "N", out id);
    }
}
