using System.Text.RegularExpressions;
using Modal.Api.Contracts.Apps;
using Modal.Api.Domain;

namespace Modal.Api.Apps;

/// <summary>
/// How a request names an app: by id (<c>ap-</c> and 32 hex digits, as Modal's <c>ap-…</c>), which reaches exactly
/// that app whatever its kind or state, or by name, which reaches the workspace's deployed app of that name (an
/// ephemeral <c>modal run</c> app is never found by name, as on Modal).
/// </summary>
public static partial class AppReferences
{
    /// <summary>An app name: 1-64 lowercase letters, digits, '-', '_' or '.', and not of an id's form (that would be ambiguous).</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name) && !AppIds.TryParse(name, out _);

    /// <summary>
    /// The apps <paramref name="reference"/> may mean in the workspace: the one of that id, or the deployed apps of that
    /// name, the running one first, then the most recently stopped.
    /// </summary>
    public static IQueryable<DeployedApp> Referenced(this IQueryable<DeployedApp> apps, Guid workspaceId, string reference)
    {
        if (AppIds.TryParse(reference, out var id))
        {
            return apps.Where(a => a.WorkspaceId == workspaceId && a.Id == id);
        }
        return apps.Where(a => a.WorkspaceId == workspaceId && a.Name == reference && !a.Ephemeral)
            .OrderByDescending(a => a.State == AppStates.Deployed).ThenByDescending(a => a.CreatedAt);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
